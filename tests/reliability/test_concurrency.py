"""Concurrency, end to end: several `gryt run` processes on one project database at once, and parallel
runners writing from threads, lose no run, step or row, mix nothing up, and never hit "database is locked"."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .harness import Project

STEPS = 40


def many_steps_toml(steps: int) -> str:
    lines = ['[pipeline]\nname = "many"\n\n[[runners]]\nid = "main"\nsteps = [']
    lines += [f'  {{ id = "s{i:02d}", cmd = ["true"] }},' for i in range(steps)]
    lines.append("]\n")
    return "\n".join(lines)


@pytest.mark.parametrize(
    "processes", [4, pytest.param(16, marks=pytest.mark.slow)], ids=lambda n: f"{n}-processes"
)
def test_concurrent_runs_share_one_database(project: Project, processes: int) -> None:
    project.write_pipeline("many.toml", many_steps_toml(STEPS))
    # No database yet: the processes also race to create it and apply the schema.
    procs = [project.spawn("run", "many", "--json") for _ in range(processes)]
    codes = [proc.wait(timeout=240) for proc in procs]
    outputs = [project.output(proc) for proc in procs]

    for code, (stdout, stderr) in zip(codes, outputs, strict=True):
        assert code == 0, stderr
        assert "locked" not in (stdout + stderr).lower(), stderr
    printed = {json.loads(stdout)["run_id"] for stdout, _ in outputs}
    assert len(printed) == processes

    runs = project.runs()
    assert {run["run_id"] for run in runs} == printed
    assert all(run["status"] == "success" for run in runs), runs
    expected = [f"s{i:02d}" for i in range(STEPS)]
    shown = project.show(runs[0]["run_id"])
    assert [step["step_id"] for step in shown["steps"]] == expected

    with sqlite3.connect(project.db) as db:
        rows = db.execute(
            "SELECT pipeline_id, runner_id, step_id, status FROM step_runs ORDER BY id"
        ).fetchall()
        latest = db.execute("SELECT COUNT(*) FROM steps_output WHERE status = 'success'").fetchone()[0]
    by_run: dict[str, list[str]] = {}
    for run_id, runner_id, step_id, status in rows:
        assert (runner_id, status) == ("main", "success"), (run_id, step_id, status)
        by_run.setdefault(run_id, []).append(step_id)
    assert set(by_run) == printed
    for run_id, steps in by_run.items():
        assert steps == expected, run_id
    assert latest == STEPS


def test_parallel_runners_record_every_row_unmixed(project: Project) -> None:
    runners, steps = 8, 10
    blocks = ['[pipeline]\nname = "wide"\nparallel = true\nmax_parallel = 8\n']
    for r in range(runners):
        step_lines = ",\n".join(
            f'  {{ id = "r{r}-s{s}", cmd = ["echo", "from r{r}-s{s}"] }}' for s in range(steps)
        )
        blocks.append(f'[[runners]]\nid = "r{r}"\nsteps = [\n{step_lines}\n]\n')
    project.write_pipeline("wide.toml", "\n".join(blocks))

    done = project.run("run", "wide", "--json")
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"locked" not in (done.stdout + done.stderr).lower()
    result = json.loads(done.stdout)
    assert set(result["runners"]) == {f"r{r}" for r in range(runners)}

    run = project.show(result["run_id"])
    assert run["status"] == "success"
    assert {runner["runner_id"]: runner["status"] for runner in run["runners"]} == {
        f"r{r}": "success" for r in range(runners)
    }
    recorded = run["steps"]
    assert len(recorded) == runners * steps
    for step in recorded:
        runner_id, _, _ = step["step_id"].partition("-")
        assert step["runner_id"] == runner_id, step
        assert step["status"] == "success"
        assert step["output"]["stdout"] == f"from {step['step_id']}\n", step

    with sqlite3.connect(project.db) as db:
        rows = db.execute("SELECT step_id, runner_id, output_json FROM steps_output").fetchall()
    assert len(rows) == runners * steps
    for step_id, runner_id, output_json in rows:
        assert step_id.startswith(f"{runner_id}-")
        assert json.loads(output_json)["stdout"] == f"from {step_id}\n"


OPEN_NEW = """\
import os, sys, time
from gryt.data import SqliteData
while not os.path.exists(sys.argv[2]):
    time.sleep(0.001)
with SqliteData(sys.argv[1]):
    pass
"""


def test_processes_racing_to_create_a_database_all_open_it(tmp_path: Path) -> None:
    """Switching a new file to WAL needs an exclusive lock, and SQLite answers "locked" at once to the
    losers of that race (its busy handler is not asked): every process must still open the database.
    The processes start importing first and open the file together when `go` appears."""
    for attempt in range(15):
        db, go = tmp_path / f"race{attempt}.db", tmp_path / f"go{attempt}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_NEW, str(db), str(go)], stderr=subprocess.PIPE, text=True
            )
            for _ in range(8)
        ]
        time.sleep(0.3)
        go.write_text("")
        errors = [proc.communicate(timeout=60)[1] for proc in procs]
        assert [proc.returncode for proc in procs] == [0] * 8, errors
