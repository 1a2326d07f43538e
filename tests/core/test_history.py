"""gryt.history: the run tables and their migrations, recording runs and reading them back (real SQLite
files in temp dirs)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest
from _schema import database_at

from gryt.data import SqliteData
from gryt.history import Recorder, get_run, list_runs
from gryt.schema import MIGRATIONS, SCHEMA_VERSION, schema_version

SEED_STEPS_OUTPUT = [
    ("step_id", "TEXT", 1),
    ("runner_id", "TEXT", 0),
    ("name", "TEXT", 0),
    ("output_json", "TEXT", 0),
    ("status", "TEXT", 0),
    ("duration", "REAL", 0),
    ("timestamp", "DATETIME", 0),
]


def test_tables_created_with_seed_columns(tmp_path: Path) -> None:
    with SqliteData(tmp_path / "g.db") as data:
        tables = set(data.tables())
        assert {"pipelines", "runners", "steps_output", "versions", "auth_output"} <= tables
        assert {"step_runs", "auth_runs", "schema_version"} <= tables
        cols = [(r["name"], r["type"], r["pk"]) for r in data.query("PRAGMA table_info(steps_output)")]
        assert cols == SEED_STEPS_OUTPUT
        pipeline_cols = {r["name"] for r in data.query("PRAGMA table_info(pipelines)")}
        assert {
            "pipeline_id",
            "name",
            "start_timestamp",
            "end_timestamp",
            "status",
            "config_json",
        } <= pipeline_cols
        assert {"pid", "host"} <= pipeline_cols
        assert schema_version(data) == SCHEMA_VERSION


@pytest.mark.parametrize("old_version", [None, 1])
def test_migration_from_older_schema(tmp_path: Path, old_version: int | None) -> None:
    """A seed-era database (no schema_version) and a version-1 database both open and get upgraded."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    if old_version is not None:
        conn.executescript(
            f"""
            CREATE TABLE schema_version (version INTEGER NOT NULL);
            INSERT INTO schema_version VALUES ({old_version});
            CREATE TABLE versions (id INTEGER PRIMARY KEY AUTOINCREMENT, version TEXT NOT NULL, tag TEXT,
                commit_sha TEXT, message TEXT, timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
            CREATE TABLE auth_output (auth_id TEXT PRIMARY KEY, name TEXT, output_json TEXT, status TEXT,
                duration REAL, timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
            """
        )
    conn.executescript(
        """
        CREATE TABLE pipelines (pipeline_id TEXT PRIMARY KEY, name TEXT, start_timestamp TEXT,
            end_timestamp TEXT, status TEXT, config_json TEXT);
        CREATE TABLE runners (runner_id TEXT NOT NULL, pipeline_id TEXT NOT NULL, name TEXT, status TEXT,
            start_timestamp TEXT, end_timestamp TEXT, PRIMARY KEY (pipeline_id, runner_id));
        CREATE TABLE steps_output (step_id TEXT PRIMARY KEY, runner_id TEXT, name TEXT, output_json TEXT,
            status TEXT, duration REAL, timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
        INSERT INTO pipelines VALUES ('old-run', 'ci', '2020-01-01T00:00:00.000Z', NULL, 'success', '{}');
        INSERT INTO steps_output (step_id, status) VALUES ('lint', 'success');
        """
    )
    conn.commit()
    conn.close()
    with SqliteData(path) as data:
        assert schema_version(data) == SCHEMA_VERSION
        assert {"step_runs", "auth_runs", "versions", "auth_output"} <= set(data.tables())
        assert {"pid", "host"} <= {r["name"] for r in data.query("PRAGMA table_info(pipelines)")}
        runs = list_runs(data)
        assert [r["run_id"] for r in runs] == ["old-run"]
        assert data.query("SELECT status FROM steps_output") == [{"status": "success"}]
        indexes = {r["name"] for r in data.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "idx_pipelines_start" in indexes
    with SqliteData(path) as data:  # reopening a current database changes nothing
        assert data.query("SELECT COUNT(*) AS n FROM schema_version") == [{"n": 1}]


def test_migration_from_version_4_adds_continues_run_id(tmp_path: Path) -> None:
    """A version-4 database file (as the gryt before `--failed` wrote it) keeps its runs readable and
    gains `pipelines.continues_run_id`, NULL for the runs it had."""
    path = tmp_path / "v4.db"
    conn = database_at(path, 4)
    conn.execute(
        "INSERT INTO pipelines (pipeline_id, name, start_timestamp, status, config_json)"
        " VALUES ('v4-run', 'ci', '2026-01-01T00:00:00.000Z', 'error', '{\"runners\": []}')"
    )
    conn.close()
    with SqliteData(path) as data:
        assert schema_version(data) == SCHEMA_VERSION == 5
        run = get_run(data, "v4-run")
        assert run is not None
        assert (run["status"], run["config"], run["continues_run_id"]) == ("error", {"runners": []}, None)
        Recorder(data).run_started("v5-run", "ci", {"runners": []}, continues="v4-run")
        assert [r["continues_run_id"] for r in list_runs(data)] == ["v4-run", None]  # newest first


def test_fresh_database_schema_equals_the_migrated_one(tmp_path: Path) -> None:
    migrated = database_at(tmp_path / "migrated.db", len(MIGRATIONS))
    SqliteData(tmp_path / "fresh.db").close()
    fresh = sqlite3.connect(tmp_path / "fresh.db")
    query = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name != 'schema_version' ORDER BY name"
    assert fresh.execute(query).fetchall() == migrated.execute(query).fetchall()
    migrated.close()
    fresh.close()


def _record_run(recorder: Recorder, run_id: str, status: Literal["success", "error"] = "success") -> None:
    recorder.run_started(run_id, "ci", {"runners": ["build"]})
    recorder.runner_started(run_id, "build", needs=["setup"])
    for step in ("compile", "test"):
        recorder.step_finished(
            run_id,
            "build",
            step,
            "command",
            {"status": status, "returncode": 0, "stdout": step, "duration": 0.1},
        )
    recorder.auth_finished(run_id, "ghcr", "docker-registry", {"status": "success"}, duration=0.2)
    recorder.runner_finished(run_id, "build", status, duration=0.3)
    recorder.run_finished(run_id, status, duration=0.5)


def test_history_rerun_same_step_ids_three_times(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    for n in range(3):
        with SqliteData(path) as data:
            _record_run(Recorder(data), f"run-{n}", "success" if n != 1 else "error")
    with SqliteData(path) as data:
        runs = list_runs(data)
        assert [r["run_id"] for r in runs] == ["run-2", "run-1", "run-0"]
        assert [r["status"] for r in runs] == ["success", "error", "success"]
        assert data.query("SELECT COUNT(*) AS n FROM steps_output") == [{"n": 2}]
        assert data.query("SELECT COUNT(*) AS n FROM step_runs") == [{"n": 6}]
        assert data.query("SELECT COUNT(*) AS n FROM runners") == [{"n": 3}]
        run = get_run(data, "run-1")
        assert run is not None
        assert run["status"] == "error" and run["config"] == {"runners": ["build"]}
        assert [s["step_id"] for s in run["steps"]] == ["compile", "test"]
        assert run["steps"][0]["output"]["stdout"] == "compile"
        assert run["runners"][0]["needs"] == ["setup"]
        assert run["auth"][0]["auth_id"] == "ghcr"
        assert get_run(data, "run-") is None  # ambiguous prefix
        assert get_run(data, "run-2")["run_id"] == "run-2"  # type: ignore[index]
        assert get_run(data, "nope") is None
        assert list_runs(data, limit=1, pipeline="ci")[0]["run_id"] == "run-2"
        assert list_runs(data, pipeline="other") == []


def test_abandoned_run_is_detected(tmp_path: Path) -> None:
    with SqliteData(tmp_path / "g.db") as data:
        Recorder(data).run_started("live", "ci")
        proc = subprocess.Popen([sys.executable, "-c", "pass"])
        proc.wait()
        data.insert(
            "pipelines",
            {
                "pipeline_id": "dead",
                "name": "ci",
                "status": "running",
                "pid": proc.pid,
                "host": __import__("socket").gethostname(),
                "start_timestamp": "2000-01-01T00:00:00.000Z",
            },
        )
        states = {r["run_id"]: r["abandoned"] for r in list_runs(data)}
        assert states == {"live": False, "dead": True}


def test_recorder_without_data_is_a_no_op() -> None:
    recorder = Recorder(None)
    _record_run(recorder, "x")
    assert recorder.errors == []


def test_listing_many_runs_uses_index(tmp_path: Path) -> None:
    with SqliteData(tmp_path / "g.db") as data:
        with data.transaction():
            for i in range(10_000):
                data.insert(
                    "pipelines",
                    {
                        "pipeline_id": f"r{i:05d}",
                        "name": "ci",
                        "start_timestamp": f"2024-01-01T00:00:{i:05d}",
                        "status": "success",
                    },
                )
        plan = data.query("EXPLAIN QUERY PLAN SELECT * FROM pipelines ORDER BY start_timestamp DESC LIMIT 20")
        assert any("idx_pipelines_start" in row["detail"] for row in plan)
        runs = list_runs(data, limit=20)
        assert len(runs) == 20 and runs[0]["run_id"] == "r09999"
