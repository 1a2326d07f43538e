"""Output handling: one step writing 100 MB to stdout (as 100 long lines, and as 1 M short lines).
Targets: peak RSS of the gryt process < 100 MiB; throughput >= 0.5 x `sh -c 'cmd > /dev/null'`.

Writing to /dev/null copies nothing, while gryt must move every byte through a pipe into its log file. So each
child also times the least any tool can do with the same output: `sh -c 'cmd | cat > file'` (one pipe, one
copy to a file, in C). The `floor` column is that copy's throughput against /dev/null, and `vs floor` is
gryt's time against it (1.00 = as fast as `cat`).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import textwrap

from _harness import finish, header, parse_args

CHILD = textwrap.dedent(
    """
    import json, resource, subprocess, sys, time
    from gryt import CommandStep, Pipeline, Runner, SqliteData
    cmd, tmp = sys.argv[1], sys.argv[2]
    start = time.perf_counter()
    subprocess.run(["sh", "-c", cmd + " > /dev/null"], check=True)
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run(["sh", "-c", cmd + f" | cat > {tmp}/cat.out"], check=True)
    floor = time.perf_counter() - start
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    data = SqliteData(f"{tmp}/gryt.db")
    start = time.perf_counter()
    result = Pipeline([Runner([CommandStep("out", {"cmd": ["sh", "-c", cmd]})], data=data)], data=data).execute()
    elapsed = time.perf_counter() - start
    data.close()
    assert result["status"] == "success", result
    print(json.dumps({"baseline": baseline, "floor": floor, "gryt": elapsed, "rss_before_kib": rss_before,
                      "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
    """
)


def producer(megabytes: int, line_length: int) -> str:
    """A shell command writing `megabytes` MB to stdout in lines of `line_length` bytes."""
    lines = megabytes * 1024 * 1024 // line_length
    return (
        f"{sys.executable} -c \"import sys; w=sys.stdout.buffer.write; b=b'x'*{line_length - 1}+b'\\n'; "
        f'[w(b) for _ in range({lines})]"'
    )


def main() -> None:
    args = parse_args(__doc__ or "")
    megabytes = 2 if args.smoke else 100
    header(f"output: one step writing {megabytes} MB to stdout (file database, full log on disk)")
    all_ok = True
    for label, line_length in (
        ("100 long lines" if not args.smoke else "long lines", 1024 * 1024),
        ("short lines", 100),
    ):
        runs = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, producer(megabytes, line_length), tmp],
                    check=True,
                    capture_output=True,
                    text=True,
                )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        throughput = statistics.median(r["baseline"] / r["gryt"] for r in runs)
        floor = statistics.median(r["baseline"] / r["floor"] for r in runs)
        vs_floor = statistics.median(r["floor"] / r["gryt"] for r in runs)
        peak_mib = max(r["rss_kib"] for r in runs) / 1024
        ok = throughput >= 0.5 and peak_mib < 100
        all_ok &= ok
        verdict = "meets" if ok else "MISSES"
        print(
            f"{label:<16} peak RSS {peak_mib:5.1f} MiB (< 100)  throughput {throughput:.2f}x of > /dev/null"
            f" (>= 0.5; floor {floor:.2f}x, gryt vs floor {vs_floor:.2f})  {verdict}"
        )
    finish(all_ok, args.smoke)


if __name__ == "__main__":
    main()
