"""`gryt report RUN --html` of a 1,000-step run (10 runners of 100 steps): Chromium loading the report
(`--dump-dom`) versus loading an empty page, in the same interleaved run. Target: the report costs under
one second more than the empty page (median of the per-repetition differences). Shown too: the CPU time
the browser's processes spent (less sensitive to other load on the machine than wall time) and the time
`gryt report` takes to write the file."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from _harness import VENV_BIN, Sample, finish, header, interleave, parse_args, ratio_line

from gryt.data import SqliteData
from gryt.history import Recorder

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TARGET_SECONDS = 1.0


def record(db: Path, runners: int, steps: int) -> None:
    """One finished run with `runners` x `steps` steps, one of them failed, through the real recorder."""
    data = SqliteData(db)
    recorder = Recorder(data, background=True)
    recorder.run_started("big", "ci", {"name": "ci"})
    for r in range(runners):
        runner = f"runner-{r}"
        recorder.runner_started("big", runner, runner, [f"runner-{r - 1}"] if r % 3 == 2 else [])
        for s in range(steps):
            failed = (r, s) == (3, 50)
            result = {
                "status": "error" if failed else "success",
                "duration": 0.01 * s,
                "stdout": f"step {s} of {runner}\n" * 3,
                "stderr": "Traceback ...\nAssertionError\n" if failed else "",
            }
            recorder.step_finished("big", runner, f"step-{s}", "command", result)
        recorder.runner_finished("big", runner, "error" if r == 3 else "success", duration=float(steps))
    recorder.run_finished("big", "error", duration=float(runners * steps))
    data.close()


def main() -> None:
    args = parse_args(__doc__ or "")
    if shutil.which(CHROMIUM) is None:
        print("report: chromium is not installed (.ci/install-chromium.sh); skipped")
        return
    runners, steps = (2, 20) if args.smoke else (10, 100)
    gryt = os.path.join(VENV_BIN, "gryt")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".gryt").mkdir()
        record(root / ".gryt" / "gryt.db", runners, steps)
        report = root / "report.html"
        empty = root / "empty.html"
        empty.write_text("<!DOCTYPE html><html><body></body></html>\n", encoding="utf-8")

        def write_report() -> None:
            subprocess.run(
                [gryt, "report", "big", "-o", str(report)], check=True, cwd=root, capture_output=True
            )

        cpu: dict[str, Sample] = {"empty": Sample("empty", []), "report": Sample("report", [])}

        def load(name: str, page: Path) -> Callable[[], None]:
            def run() -> None:
                profile = tempfile.mkdtemp(dir=root)
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                subprocess.run(
                    [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                    check=True,
                    capture_output=True,
                )
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[name].times.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
                shutil.rmtree(profile)

            return run

        write_report()
        size = report.stat().st_size
        samples = interleave(
            {"empty": load("empty", empty), "report": load("report", report), "write": write_report},
            args.repeat if args.smoke else max(args.repeat, 9),
        )
    header(f"report: Chromium --dump-dom of a {runners * steps}-step run report ({size // 1024} KiB)")
    base = samples["empty"]
    print(ratio_line("empty page (baseline)", base, base, None)[0])
    print(ratio_line("report page", samples["report"], base, None)[0])
    print(ratio_line("gryt report (writing it)", samples["write"], base, None)[0])
    print(ratio_line("empty page, CPU time", cpu["empty"], cpu["empty"], None)[0])
    print(ratio_line("report page, CPU time", cpu["report"], cpu["empty"], None)[0])
    extra = sorted(r - e for r, e in zip(samples["report"].times, base.times, strict=True))
    median = extra[len(extra) // 2]
    ok = median < TARGET_SECONDS
    print(
        f"report minus empty page: median {median:.3f}s, {extra[0]:.3f}-{extra[-1]:.3f}"
        f"  target < {TARGET_SECONDS:g}s {'meets' if ok else 'MISSES'}"
    )
    finish(ok, args.smoke)


if __name__ == "__main__":
    main()
