"""Run history: `gryt runs list` against a database with 10,000 recorded runs versus one with 10
(target: ratio <= 1.5); then the PostgreSQL history (gryt-postgres, a server on 127.0.0.1 with its default
settings): a run of 300 `true` steps recorded there versus into SQLite (target <= 1.2), and `runs list`
over 100,000 runs versus 10 (<= 1.5)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from _harness import VENV_BIN, finish, header, interleave, parse_args, ratio_line

from gryt import CommandStep, Pipeline, Runner, SqliteData, Step
from gryt.histories import History


class Noop(Step):
    """A step that does nothing, so recording the history is all that is measured while filling."""

    name = "noop"

    def run(self) -> dict[str, Any]:
        return {"status": "success", "duration": 0.0}


def fill(db: Path, runs: int) -> None:
    data = SqliteData(str(db))
    for i in range(runs):
        pipeline = Pipeline(
            [Runner([Noop("build"), Noop("test")], data=data, id="ci")], data=data, name=f"p{i % 3}"
        )
        assert pipeline.execute()["status"] == "success"
    data.close()


def main() -> None:
    args = parse_args(__doc__ or "")
    many = 200 if args.smoke else 10_000
    repeat = args.repeat if args.smoke else max(args.repeat, 10)
    gryt = os.path.join(VENV_BIN, "gryt")
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "small.db", Path(tmp) / "large.db"
        fill(small, 10)
        fill(large, many)

        def runs_list(db: Path) -> Any:
            def run() -> None:
                subprocess.run(
                    [gryt, "runs", "list", "--db", str(db)], check=True, stdout=subprocess.DEVNULL, cwd=tmp
                )

            return run

        samples = interleave({"small": runs_list(small), "large": runs_list(large)}, repeat)
    header(f"history: `gryt runs list` with {many} runs versus 10")
    base = samples["small"]
    print(ratio_line("10 runs (baseline)", base, base, None)[0])
    row, ok = ratio_line(f"{many} runs", samples["large"], base, 1.5)
    print(row)
    ok = postgres(args.smoke, repeat, gryt) and ok
    finish(ok, args.smoke)


def steps_run(data: SqliteData, history: History | None, steps: int) -> None:
    """One run of `steps` steps running `true` (as in bench/step_overhead.py), recorded into `history`
    (or `data`'s SQLite history) with their log files."""
    commands = [CommandStep(f"s{i}", {"cmd": ["true"]}) for i in range(steps)]
    pipeline = Pipeline([Runner(commands, id="ci")], data=data, name="steps")
    pipeline.history = history
    assert pipeline.execute()["status"] == "success"


def fill_postgres(url: str, runs: int) -> None:
    """`runs` finished runs in the `pipelines` table, written in one statement."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO pipelines (pipeline_id, name, start_timestamp, end_timestamp, status, config_json,"
            " pid, host, duration)"
            " SELECT to_char(i, 'FM00000000') || '-bench', 'p' || (i %% 3),"
            " to_char(timestamp '2026-01-01' + i * interval '1 second', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
            " NULL, 'success', '{}', 1, 'bench', 0.5 FROM generate_series(1, %s) AS i",
            (runs,),
        )


def postgres(smoke: bool, repeat: int, gryt: str) -> bool:
    """The PostgreSQL variant: recording cost per step, and `runs list` at scale; whether targets hold."""
    from _postgres import create_database, server

    from gryt_postgres.history import PostgresHistory

    steps = 30 if smoke else 300
    many = 1_000 if smoke else 100_000
    with server() as url, tempfile.TemporaryDirectory() as tmp:
        record_url = create_database(url, "record")
        local = SqliteData(str(Path(tmp) / "local" / "gryt.db"))
        beside = SqliteData(str(Path(tmp) / "beside" / "gryt.db"))  # the local store its log files go beside
        remote = PostgresHistory.connect(record_url)
        samples = interleave(
            {
                "sqlite": lambda: steps_run(local, None, steps),
                "postgres": lambda: steps_run(beside, remote, steps),
            },
            repeat,
        )
        remote.close()
        local.close()
        beside.close()
        header(f"history: a {steps}-step run recorded into PostgreSQL versus SQLite")
        base = samples["sqlite"]
        print(ratio_line("SQLite (baseline)", base, base, None)[0])
        row, ok = ratio_line("PostgreSQL on 127.0.0.1", samples["postgres"], base, 1.2)
        print(row)

        urls = {}
        for name, runs in (("small", 10), ("large", many)):
            urls[name] = create_database(url, name)
            PostgresHistory.connect(urls[name]).close()
            fill_postgres(urls[name], runs)

        def runs_list(target: str) -> Any:
            env = {**os.environ, "GRYT_HISTORY_URL": target}

            def run() -> None:
                subprocess.run(
                    [gryt, "runs", "list"], check=True, stdout=subprocess.DEVNULL, cwd=tmp, env=env
                )

            return run

        listed = interleave({"small": runs_list(urls["small"]), "large": runs_list(urls["large"])}, repeat)
    header(f"history: `gryt runs list` on PostgreSQL with {many} runs versus 10")
    base = listed["small"]
    print(ratio_line("10 runs (baseline)", base, base, None)[0])
    row2, ok2 = ratio_line(f"{many} runs", listed["large"], base, 1.5)
    print(row2)
    return ok and ok2


if __name__ == "__main__":
    main()
