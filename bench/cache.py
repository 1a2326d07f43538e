"""The step cache: 50 steps over a 2,000-file tree, each with inputs and a small output, run cold (empty
cache) and warm (every step a hit) as whole `gryt run` commands, against `gryt --help` of the same venv and
doit's up-to-date check on the same workload (50 tasks with the same file_dep and targets, .venv-peers).
Then the cold overhead of caching on one step doing real work: the same pipeline with and without `inputs`.

Each of the 50 steps does some work besides writing its output (a shell loop of 40,000 turns, ~0.15 s here),
as build steps do; the cold/warm ratio grows with it. Targets: warm <= 1.5x `gryt --help`; cold >= 10x the
warm run; the warm run hashes no file (stat only, the hash index's `hashed` count, printed); cold overhead
of caching on a step doing real work <= 5 %, judged on CPU time (user + system of the whole command, from
`getrusage`), which the load on a shared machine moves much less than wall time (both are shown).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

from _harness import VENV_BIN, Sample, finish, header, interleave, parse_args, ratio_line
from peers import children_cpu, peers_bin

GRYT = os.path.join(VENV_BIN, "gryt")
LONG_AGO = 1_600_000_000_000_000_000
"""mtime of the tree (ns): files changed seconds before a run are re-hashed (the index's racy window)."""
STEP_WORK = "i=0; while [ $i -lt {n} ]; do i=$((i+1)); done"
"""What each of the 50 steps does besides writing its output: a shell loop, a stand-in for real work."""
WORK = "i=0; while [ $i -lt {n} ]; do i=$((i+1)); done; cat src/d00/* > out/work.txt"


def write_tree(root: Path, steps: int, files: int, work: int) -> None:
    per = files // steps
    for d in range(steps):
        folder = root / "src" / f"d{d:02}"
        folder.mkdir(parents=True)
        for f in range(per):
            path = folder / f"f{f:03}.txt"
            path.write_text(f"file {d}/{f}\n" * 20)
            os.utime(path, ns=(LONG_AGO, LONG_AGO))
    (root / "out").mkdir()
    pipelines = root / ".gryt" / "pipelines"
    pipelines.mkdir(parents=True)
    body = "\n".join(
        textwrap.dedent(
            f"""
            [[runners.steps]]
            id = "s{d:02}"
            cmd = ["sh", "-c", "{STEP_WORK.format(n=work)}; cat src/d{d:02}/* > out/{d:02}.txt"]
            inputs = ["src/d{d:02}/**"]
            outputs = ["out/{d:02}.txt"]
            """
        )
        for d in range(steps)
    )
    (pipelines / "bench.toml").write_text(f'[pipeline]\nname = "bench"\n\n[[runners]]\nid = "r"\n{body}')
    tasks = textwrap.dedent(
        f"""
        import glob

        def task_s():
            for d in range({steps}):
                yield {{
                    "name": f"{{d:02}}",
                    "actions": [f"{STEP_WORK.format(n=work)}; cat src/d{{d:02}}/* > out/{{d:02}}.txt"],
                    "file_dep": sorted(glob.glob(f"src/d{{d:02}}/**", recursive=True)[1:]),
                    "targets": [f"out/{{d:02}}.txt"],
                    "verbosity": 0,
                }}
        """
    )
    (root / "dodo.py").write_text(tasks)
    (pipelines / "one.toml").write_text(
        '[[runners]]\nid = "r"\n[[runners.steps]]\nid = "s"\ncmd = ["true"]\n'
    )


def write_work(root: Path, n: int) -> None:
    """One step doing real work (a shell loop of `n` turns), with inputs (cached) and without."""
    (root / "src" / "d00").mkdir(parents=True, exist_ok=True)
    (root / "src" / "d00" / "f.txt").write_text("x\n")
    (root / "out").mkdir(exist_ok=True)
    pipelines = root / ".gryt" / "pipelines"
    pipelines.mkdir(parents=True, exist_ok=True)
    step = f'cmd = ["sh", "-c", "{WORK.format(n=n)}"]\n'
    head = '[[runners]]\nid = "r"\n[[runners.steps]]\nid = "work"\n'
    (pipelines / "plain.toml").write_text(head + step)
    (pipelines / "cached.toml").write_text(head + step + 'inputs = ["src/**"]\noutputs = ["out/work.txt"]\n')


def main() -> None:
    args = parse_args(__doc__ or "")
    steps, files, loop, step_work = (5, 200, 20_000, 100) if args.smoke else (50, 2000, 300_000, 40_000)
    doit = str(peers_bin() / "doit")
    env = {**os.environ, "NO_COLOR": "1"}
    with tempfile.TemporaryDirectory() as tmp_name:
        root = Path(tmp_name) / "tree"
        root.mkdir()
        write_tree(root, steps, files, step_work)

        def run(*argv: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(argv, cwd=root, env=env, check=True, capture_output=True, text=True)

        def cold() -> None:
            shutil.rmtree(root / ".gryt" / "cache", ignore_errors=True)
            run(GRYT, "run", "bench")

        def cold_doit() -> None:
            for db in root.glob(".doit.db*"):
                db.unlink()
            run(doit, "-f", "dodo.py")

        run(GRYT, "run", "bench")
        run(doit, "-f", "dodo.py")
        warm_out = run(GRYT, "run", "bench", "--json").stdout
        cached = warm_out.count('"status": "cached"')
        samples = interleave(
            {
                "gryt --help": lambda: run(GRYT, "--help"),
                "gryt run, one step without inputs": lambda: run(GRYT, "run", "one"),
                "gryt run, warm (all cached)": lambda: run(GRYT, "run", "bench"),
                "doit, warm (all up to date)": lambda: run(doit, "-f", "dodo.py"),
            },
            args.repeat,
        )
        cold_samples = interleave({"gryt run, cold": cold, "doit, cold": cold_doit}, args.repeat)
        time.sleep(2.1)  # outputs the cold runs just wrote are kept in the hash index once this old
        run(GRYT, "run", "bench")
        hashed = _warm_hashed(root)
        work = Path(tmp_name) / "work"
        work.mkdir()
        write_work(work, loop)

        cpu: dict[str, list[float]] = {"plain": [], "cached": []}

        def work_run(name: str) -> None:
            shutil.rmtree(work / ".gryt" / "cache", ignore_errors=True)
            used = children_cpu()
            subprocess.run([GRYT, "run", name], cwd=work, env=env, check=True, capture_output=True)
            cpu[name].append(children_cpu() - used)

        work_samples = interleave(
            {
                "real work, no inputs": lambda: work_run("plain"),
                "real work, inputs (cold)": lambda: work_run("cached"),
            },
            args.repeat,
        )
    help_run, warm = samples["gryt --help"], samples["gryt run, warm (all cached)"]
    header(f"cache: {steps} steps over {files} files; warm run against `gryt --help`")
    ok = [cached == steps]
    rows = (
        ("gryt --help", None),
        ("gryt run, one step without inputs", None),
        ("gryt run, warm (all cached)", 1.5),
        ("doit, warm (all up to date)", None),
    )
    for label, target in rows:
        row, good = ratio_line(label, samples[label], help_run, target)
        print(row)
        ok.append(good)
    header("cold against warm (cold must be >= 10x the warm run)")
    for label in ("gryt run, cold", "doit, cold"):
        print(ratio_line(label, cold_samples[label], warm, None)[0])
    speedup = cold_samples["gryt run, cold"].median / warm.median
    print(
        f"gryt warm is {speedup:.1f}x faster than cold (target >= 10x); steps cached in the warm run: {cached}"
    )
    ok.append(speedup >= 10)
    print(f"files read (hashed) by a warm run: {hashed} (target 0: stat only)")
    ok.append(hashed == 0)
    header("cold overhead of caching on a step doing real work (target <= 1.05x, on CPU time)")
    base = work_samples["real work, no inputs"]
    print(ratio_line("real work, no inputs (wall)", base, base, None)[0])
    print(
        ratio_line("real work, inputs, cold (wall)", work_samples["real work, inputs (cold)"], base, None)[0]
    )
    cpu_base = Sample("real work, no inputs (CPU)", cpu["plain"])
    print(ratio_line(cpu_base.name, cpu_base, cpu_base, None)[0])
    row, good = ratio_line("real work, inputs, cold (CPU)", Sample("cpu", cpu["cached"]), cpu_base, 1.05)
    print(row)
    ok.append(good)
    finish(all(ok), args.smoke)


def _warm_hashed(root: Path) -> int:
    """Files a warm run of the bench pipeline reads to hash them (in-process, same engine as `gryt run`)."""
    code = textwrap.dedent(
        """
        import sys
        from gryt.cache import engine
        made = []
        init = engine.StepCache.__init__
        def spy(self, *a, **k):
            init(self, *a, **k)
            made.append(self)
        engine.StepCache.__init__ = spy
        from gryt.cli import app
        try:
            app(["run", "bench"])
        except SystemExit:
            pass
        print(sum(c.index.hashed for c in made), file=sys.stderr)
        """
    )
    done = subprocess.run(
        [os.path.join(VENV_BIN, "python"), "-c", code], cwd=root, check=True, capture_output=True, text=True
    )
    return int(done.stderr.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
