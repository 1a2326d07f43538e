"""Per-step overhead: N steps running `true` in one runner with a file database and history, versus a plain
`subprocess.run(["true"])` loop in the same process. Target: ratio <= 1.1.

Each gryt repetition opens the project database, runs the pipeline (one recorded run: pipeline, runner and
N step rows, N log paths) and closes the database, as `gryt run` does. The database file is created once
before timing; creating a new SQLite file (and switching it to WAL) is a one-time cost of a project, shown
on its own row for reference. On a shared machine the load drifts between repetitions, so the verdict uses
the median of paired ratios: each gryt run against the baseline run just before it.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
from pathlib import Path

from _harness import finish, header, interleave, parse_args, ratio_line

from gryt import CommandStep, Pipeline, Runner, SqliteData

TARGET = 1.1


def run_pipeline(db: Path, n: int) -> None:
    data = SqliteData(str(db))
    steps = [CommandStep(f"s{i}", {"cmd": ["true"]}) for i in range(n)]
    result = Pipeline([Runner(steps, data=data)], data=data).execute()
    data.close()
    assert result["status"] == "success", result["status"]


def main() -> None:
    args = parse_args(__doc__ or "")
    n = 10 if args.smoke else 300
    with tempfile.TemporaryDirectory() as tmp:
        project_db = Path(tmp) / "gryt.db"
        SqliteData(str(project_db)).close()
        counter = iter(range(1_000_000))

        def baseline() -> None:
            for _ in range(n):
                subprocess.run(["true"], check=True)

        variants = {
            "subprocess.run loop": baseline,
            "gryt pipeline": lambda: run_pipeline(project_db, n),
            "gryt, new database file": lambda: run_pipeline(Path(tmp) / f"new-{next(counter)}.db", n),
        }
        repeat = args.repeat if args.smoke else max(args.repeat, 9)
        samples = interleave(variants, repeat)
        with SqliteData(str(project_db)) as data:
            recorded = data.query("SELECT COUNT(*) AS n FROM step_runs")[0]["n"]
        assert recorded == n * repeat, f"{recorded} step rows recorded, expected {n * repeat}"
    header(f"step overhead: {n} x `true`, one runner, file database")
    base = samples["subprocess.run loop"]
    print(ratio_line("subprocess.run loop (baseline)", base, base, None)[0])
    print(ratio_line("gryt pipeline", samples["gryt pipeline"], base, None)[0])
    print(ratio_line("gryt, new database file (info)", samples["gryt, new database file"], base, None)[0])
    ratios = [g / b for g, b in zip(samples["gryt pipeline"].times, base.times, strict=True)]
    ratio = statistics.median(ratios)
    ok = ratio <= TARGET
    print(
        f"paired ratio (each gryt run / the baseline run just before it): median {ratio:.2f}x,"
        f" min-max {min(ratios):.2f}-{max(ratios):.2f}, target <= {TARGET} {'meets' if ok else 'MISSES'}"
    )
    finish(ok, args.smoke)


if __name__ == "__main__":
    main()
