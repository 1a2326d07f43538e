"""gryt-ci 1.x's basic, parallel and env-validation examples (rewritten under `examples/`) still work:
each runs as a program with the dev venv's python, and its exit code, output and history are checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gryt.data import SqliteData
from gryt.history import get_run, list_runs

EXAMPLES = Path(__file__).resolve().parent / "examples"


def run_example(name: str, tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    db = tmp_path / "gryt.db"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GRYT_COMPAT_")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), str(db)],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done, db


def test_basic(tmp_path: Path) -> None:
    done, db = run_example("basic", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "runner_0/hello: success Hello from gryt",
        f"runner_0/python_version: success Python {sys.version.split()[0]}",
        "runner_0/note: success note written",
        "pipeline: success",
    ]
    with SqliteData(db) as data:
        [run] = list_runs(data)
        recorded = get_run(data, run["run_id"])
        assert recorded is not None and recorded["status"] == "success"
        assert [(s["step_id"], s["status"]) for s in recorded["steps"]] == [
            ("hello", "success"),
            ("python_version", "success"),
            ("note", "success"),
        ]
        assert data.query("SELECT step_id, details FROM notes") == [
            {"step_id": "note", "details": '{"tags": ["basic", "1.x"]}'}
        ]


def test_parallel(tmp_path: Path) -> None:
    done, db = run_example("parallel", tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["runner_0: lint=success, bundle=success", "runner_1: test=success, package=success"]
    assert lines[2].startswith("pipeline: success in ")
    with SqliteData(db) as data:
        [run] = list_runs(data)
        assert run["config"]["parallel"] is True
        recorded = get_run(data, run["run_id"])
        assert recorded is not None
        runners = {r["runner_id"]: r for r in recorded["runners"]}
        assert {r["status"] for r in runners.values()} == {"success"}
        first, second = runners["runner_0"], runners["runner_1"]
        # Concurrent: each runner started before the other one ended.
        assert first["start_timestamp"] < second["end_timestamp"]
        assert second["start_timestamp"] < first["end_timestamp"]
        assert run["duration"] < sum(r["duration"] for r in runners.values())


def test_env_validation_reports_every_issue_and_runs_nothing(tmp_path: Path) -> None:
    done, db = run_example("env_validation", tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        "environment: invalid_env",
        "issue (env_var_missing): environment variable GRYT_COMPAT_TOKEN is not set",
        "issue (env_var_missing): environment variable GRYT_COMPAT_USER is not set",
        "not run: 2 issue(s)",
        "pipeline: invalid_env",
    ]
    with SqliteData(db) as data:
        [run] = list_runs(data)
        recorded = get_run(data, run["run_id"])
        assert recorded is not None and recorded["status"] == "invalid_env"
        assert [i["name"] for i in recorded["issues"]] == ["GRYT_COMPAT_TOKEN", "GRYT_COMPAT_USER"]
        assert recorded["steps"] == []


def test_env_validation_runs_once_the_environment_is_complete(tmp_path: Path) -> None:
    done, db = run_example(
        "env_validation", tmp_path, GRYT_COMPAT_TOKEN="t0ken-value", GRYT_COMPAT_USER="bob"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["environment: ok", "publishing as bob", "pipeline: success"]
    with SqliteData(db) as data:
        [run] = list_runs(data)
        recorded = get_run(data, run["run_id"])
        assert recorded is not None and recorded["status"] == "success"
        assert [(s["step_id"], s["status"]) for s in recorded["steps"]] == [("publish", "success")]
