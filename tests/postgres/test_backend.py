"""PostgresHistory in-process: the same recorded run reads back identically from SQLite and PostgreSQL
(`gryt runs list/show --json`), both schemas have the same columns, a batch sent twice lands once, and the
schema's version."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from _servers.postgres import PostgresServer

from gryt import history
from gryt.data import SqliteData
from gryt.histories import History, Write
from gryt.histories.sqlite import SqliteHistory
from gryt.history import Recorder
from gryt.schema import HISTORY_TABLES, ensure_schema
from gryt_postgres.history import PostgresHistory
from gryt_postgres.schema import SCHEMA_VERSION

from .conftest import Machine

RUN_ID = "20261129T120000-abcdef01"


def record(store: History, monkeypatch: pytest.MonkeyPatch) -> None:
    """One run with every kind of row, at fixed times."""
    ticks = itertools.count()
    monkeypatch.setattr(history, "now_iso", lambda: f"2026-11-29T12:00:{next(ticks):02d}.000Z")
    recorder = Recorder(store, background=True)
    recorder.run_started(RUN_ID, "ci", {"runners": ["build", "ship"]})
    recorder.auth_finished(RUN_ID, "login", "fly", {"status": "authenticated"}, duration=0.25)
    recorder.runner_started(RUN_ID, "build")
    recorder.step_finished(
        RUN_ID, "build", "compile", "command", {"status": "success", "returncode": 0, "duration": 1.5}
    )
    recorder.step_finished(
        RUN_ID,
        "build",
        "flaky",
        "command",
        {"status": "error", "returncode": 3, "timed_out": True, "error": "boom"},
    )
    recorder.runner_finished(RUN_ID, "build", "error", duration=2.0)
    recorder.runner_finished(RUN_ID, "ship", "skipped", needs=["build"])
    recorder.destination_finished(RUN_ID, "dist", "directory", [], status="skipped")
    recorder.run_finished(
        RUN_ID, "error", duration=3.0, error="build failed", extra={"warnings": ["slow disk"]}
    )
    assert recorder.errors == []
    store.close()


def test_runs_list_and_show_json_are_equal_on_both_backends(
    machine: Callable[..., Machine],
    postgres_server: PostgresServer,
    database: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    sqlite_file = tmp_path / "local.db"
    record(SqliteHistory(SqliteData(sqlite_file), owned=True), monkeypatch)
    monkeypatch.setenv("PGPASSWORD", postgres_server.password)
    record(PostgresHistory.connect(database), monkeypatch)
    remote = machine("remote")
    local = machine("local", url=None)
    for args in (("runs", "list", "--json"), ("runs", "show", RUN_ID, "--json"), ("runs", "show", "last")):
        from_server = remote.gryt(*args)
        from_file = local.gryt(*args, "--db", str(sqlite_file))
        assert from_server.code == 0 == from_file.code, from_server.stderr + from_file.stderr
        if "--json" in args:
            assert from_server.json() == from_file.json()
        else:
            assert from_server.stdout == from_file.stdout
    shown = remote.gryt("runs", "show", RUN_ID, "--json").json()
    assert [r["runner_id"] for r in shown["runners"]] == [
        "ship",
        "build",
    ]  # never started: no start time, first
    assert shown["runners"][0]["needs"] == ["build"] and shown["steps"][1]["timed_out"] is True
    assert shown["warnings"] == ["slow disk"] and shown["auth"][0]["output"] == {"status": "authenticated"}


def test_the_postgresql_schema_has_the_columns_of_the_sqlite_one(
    postgres_server: PostgresServer, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each schema is written out for its database (types, serials, collations differ): a column added to
    one and not the other fails here."""
    monkeypatch.setenv("PGPASSWORD", postgres_server.password)
    store = PostgresHistory.connect(database)
    try:
        rows = store._query(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
            " ORDER BY table_name, ordinal_position"
        )
    finally:
        store.close()
    remote: dict[str, list[str]] = {}
    for row in rows:
        if row["column_name"] not in PostgresHistory.hidden:
            remote.setdefault(str(row["table_name"]), []).append(str(row["column_name"]))
    latest = {"steps_output", "auth_output"}  # SQLite's latest-result tables, kept by its triggers
    assert set(remote) == set(HISTORY_TABLES) - latest | {"history_batches", "schema_version"}
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        ensure_schema(conn)
        for table in set(HISTORY_TABLES) - latest:
            assert remote[table] == [row[1] for row in conn.execute(f"PRAGMA table_info({table})")], table
    finally:
        conn.close()


def test_a_batch_sent_twice_is_applied_once(
    postgres_server: PostgresServer, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSWORD", postgres_server.password)
    store = PostgresHistory.connect(database)
    try:
        assert store.schema_version() == SCHEMA_VERSION
        row = {
            "pipeline_id": RUN_ID,
            "runner_id": None,
            "step_id": "s",
            "name": "command",
            "output_json": {"a": 1},
        }
        batch = [Write("insert", "step_runs", row)]
        store.write(batch, "batch-1")
        store.write(batch, "batch-1")
        store.write(batch, "batch-2")
        rows = store._query("SELECT output_json FROM step_runs")
        assert [r["output_json"] for r in rows] == ['{"a": 1}', '{"a": 1}']
    finally:
        store.close()
