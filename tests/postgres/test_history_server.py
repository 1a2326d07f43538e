"""gryt-postgres against a real PostgreSQL server: runs from several machines in one history, concurrent
runs, a server lost mid-run and `gryt db sync`, refused connections, roles and schemas, secrets."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from _servers.postgres import PostgresServer
from _servers.registry import free_port

from .conftest import Machine, dump

MakeMachine = Callable[..., Machine]

TOKEN = "deploytok-7f3a9c1e5b"


def count(server: PostgresServer, url: str, sql: str) -> int:
    return int(server.psql(sql, url.rsplit("/", 1)[1]).strip())


def steps_recorded(server: PostgresServer, url: str) -> bool:
    """Whether a step row is in the database yet (its tables may not exist yet)."""
    name = url.rsplit("/", 1)[1]
    if server.psql("SELECT to_regclass('step_runs') IS NOT NULL", name).strip() != "t":
        return False
    return count(server, url, "SELECT count(*) FROM step_runs") > 0


def test_two_ci_machines_record_into_one_history_and_a_third_lists_both(
    machine: MakeMachine, postgres_server: PostgresServer, database: str
) -> None:
    first, second, third = (machine(name) for name in ("ci-1", "ci-2", "laptop"))
    outputs = []
    for ci in (first, second):
        done = ci.gryt("run", "ci")
        assert done.code == 0, done.stderr
        outputs.append(done.stdout + done.stderr)
    listed = third.gryt("runs", "list", "--json")
    assert listed.code == 0, listed.stderr
    runs = listed.json()
    assert len(runs) == 2 and {run["status"] for run in runs} == {"success"}
    assert not (third.root / ".gryt" / "gryt.db").exists()  # read from the server, nothing local
    shown = third.gryt("runs", "show", runs[0]["run_id"].split("-")[-1], "--json")
    assert shown.code == 0, shown.stderr
    run = shown.json()
    assert [r["runner_id"] for r in run["runners"]] == ["build", "package"]
    assert run["runners"][1]["needs"] == ["build"]
    assert [s["step_id"] for s in run["steps"]] == ["compile", "test", "zip"]
    text = third.gryt("runs", "list")
    assert runs[0]["run_id"] in text.stdout and runs[1]["run_id"] in text.stdout
    # neither the pipeline's secret nor the server's password reaches the tables or any output
    rows = dump(postgres_server, database)
    assert "compiling with ***" in rows and "tested with ***" in rows
    # the report of a run and a pipeline's trend are drawn from the server too
    report = third.gryt("report", "last")
    trend = third.gryt("report", "--trend", "ci")
    assert (report.code, trend.code) == (0, 0), report.stderr + trend.stderr
    pages = sorted((third.root / ".gryt" / "reports").glob("*.html"))
    assert [page.name.startswith("trend-") for page in pages] == [False, True]
    html = pages[0].read_text()
    assert all(f">{step}<" in html or f"{step}</" in html for step in ("compile", "test", "zip"))
    assert runs[0]["run_id"] in html
    for secret in (TOKEN, postgres_server.password):
        assert secret not in rows
        assert all(secret not in out for out in [*outputs, listed.stdout, shown.stdout, text.stdout])
        assert all(secret not in page.read_text() for page in pages)


@pytest.mark.slow
def test_sixteen_concurrent_runs_into_one_database(
    machine: MakeMachine, postgres_server: PostgresServer, database: str
) -> None:
    ci: Machine = machine("ci")
    procs = [ci.start("run", "ci") for _ in range(16)]
    results = [proc.communicate(timeout=180) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 16, [err for _, err in results if err]
    runs = ci.gryt("runs", "list", "-n", "0", "--json").json()
    assert len(runs) == 16 and {run["status"] for run in runs} == {"success"}
    assert count(postgres_server, database, "SELECT count(*) FROM step_runs") == 16 * 3
    assert count(postgres_server, database, "SELECT count(DISTINCT pipeline_id) FROM runners") == 16


def test_server_lost_mid_run_keeps_the_rows_and_db_sync_sends_them_once(
    machine: MakeMachine, postgres_server: PostgresServer, database: str
) -> None:
    pipeline = """
[[runners]]
id = "build"
steps = [
  { id = "first", cmd = ["sh", "-c", "echo one"] },
  { id = "wait", cmd = ["sh", "-c", "while [ ! -f go ]; do sleep 0.05; done; echo two"] },
  { id = "last", cmd = ["sh", "-c", "echo three"] },
]
"""
    ci: Machine = machine("ci", pipeline)
    proc = ci.start("run", "ci")
    try:
        deadline = time.monotonic() + 60
        while not steps_recorded(postgres_server, database):
            assert time.monotonic() < deadline, "the first step was never recorded"
            time.sleep(0.05)
        postgres_server.stop()
        (ci.root / "go").touch()
        _, err = proc.communicate(timeout=60)
    finally:
        if not (postgres_server.data_dir / "postmaster.pid").exists():
            postgres_server.start()
    assert proc.returncode == 0, err  # the steps succeeded: losing the history does not fail the run
    assert "gryt db sync" in err
    spooled = list((ci.root / ".gryt" / "spool").glob("*.jsonl"))
    assert len(spooled) == 1
    before = ci.gryt("runs", "show", "last", "--json").json()
    assert before["status"] == "running" and [s["step_id"] for s in before["steps"]] == ["first"]

    synced = ci.gryt("db", "sync")
    assert synced.code == 0, synced.stderr
    assert "sent" in synced.stdout
    after = ci.gryt("runs", "show", "last", "--json").json()
    assert after["status"] == "success"
    assert [s["step_id"] for s in after["steps"]] == ["first", "wait", "last"]
    assert after["runners"][0]["status"] == "success"
    assert not list((ci.root / ".gryt" / "spool").glob("*.jsonl"))
    again = ci.gryt("db", "sync")
    assert again.code == 0 and "nothing to send" in again.stdout
    assert count(postgres_server, database, "SELECT count(*) FROM step_runs") == 3


def test_unreachable_at_start_is_one_line_or_falls_back_to_local(
    machine: MakeMachine, tmp_path: Path
) -> None:
    url = f"postgresql://gryt@127.0.0.1:{free_port()}/nowhere"
    ci: Machine = machine("ci", url=url)
    done = ci.gryt("run", "ci")
    assert done.code == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"gryt: error: history {url}: cannot connect")
    listed = ci.gryt("runs", "list")
    assert listed.code == 2 and len(listed.stderr.strip().splitlines()) == 1

    (ci.root / ".gryt" / "config.toml").write_text('history_fallback = "local"\n')
    done = ci.gryt("run", "ci")
    assert done.code == 0, done.stderr
    assert "gryt: warning:" in done.stderr and "local database" in done.stderr
    local = ci.gryt("runs", "list", "--json", "--db", ".gryt/gryt.db").json()
    assert len(local) == 1 and local[0]["status"] == "success"


def test_a_role_without_write_permission_is_refused_in_one_line(
    machine: MakeMachine, postgres_server: PostgresServer, database: str
) -> None:
    owner: Machine = machine("owner")
    assert owner.gryt("run", "ci").code == 0
    name = database.rsplit("/", 1)[1]
    postgres_server.psql(
        "DO $$ BEGIN CREATE ROLE reader LOGIN PASSWORD 'readerpw'; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    postgres_server.psql("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader", name)
    reader_url = postgres_server.url(name, user="reader")
    reader: Machine = machine("reader", url=reader_url)
    done = reader.gryt("run", "ci", env={"PGPASSWORD": "readerpw"})
    assert done.code == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "role 'reader' may not write the run history" in lines[0]
    assert "INSERT ON pipelines" in lines[0]
    listed = reader.gryt("runs", "list", "--json", env={"PGPASSWORD": "readerpw"})
    assert listed.code == 0 and len(listed.json()) == 1


def test_a_schema_newer_than_this_gryt_is_refused_in_one_line(
    machine: MakeMachine, postgres_server: PostgresServer, database: str
) -> None:
    ci: Machine = machine("ci")
    assert ci.gryt("run", "ci").code == 0
    postgres_server.psql("UPDATE schema_version SET version = 99", database.rsplit("/", 1)[1])
    for args in (("run", "ci"), ("runs", "list")):
        done = ci.gryt(*args)
        assert done.code == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "schema version 99, newer than this gryt-postgres's 1" in lines[0]
    assert count(postgres_server, database, "SELECT count(*) FROM pipelines") == 1


def test_a_password_in_the_url_is_never_used_stored_or_shown(
    machine: MakeMachine, postgres_server: PostgresServer, database: str
) -> None:
    password = postgres_server.password
    url = database.replace("gryt@", f"gryt:{password}@")
    ci: Machine = machine("ci", url=url)
    done = ci.gryt("run", "ci")
    assert done.code == 0, done.stderr
    assert "the password in" in done.stderr and "PGPASSWORD" in done.stderr
    assert password not in done.stdout + done.stderr
    assert password not in dump(postgres_server, database)
    for path in (ci.root / ".gryt").rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path
    # without PGPASSWORD the URL's password is not used: the server refuses, in one line
    without = ci.gryt("run", "ci", env={"PGPASSWORD": ""})
    assert without.code == 2 and password not in without.stderr


def test_history_password_env_names_a_secret_variable(
    machine: MakeMachine, postgres_server: PostgresServer, database: str
) -> None:
    ci: Machine = machine("ci")
    (ci.root / ".gryt" / "config.toml").write_text('history_password_env = "HISTORY_PASSWORD"\n')
    done = ci.gryt("run", "ci", env={"PGPASSWORD": "", "HISTORY_PASSWORD": postgres_server.password})
    assert done.code == 0, done.stderr
    missing = ci.gryt("run", "ci", env={"PGPASSWORD": ""})
    assert missing.code == 2 and "HISTORY_PASSWORD is not set" in missing.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://gryt@127.0.0.1/x", 'unknown history type "postgres" (did you mean "postgresql"?)'),
        ("not a url", "is not a URL"),
    ],
)
def test_an_unknown_history_url_is_one_line(machine: MakeMachine, url: str, expected: str) -> None:
    ci: Machine = machine("ci", url=url)
    done = ci.gryt("run", "ci")
    assert done.code == 2 and expected in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_db_merge_brings_sqlite_runs_into_the_server_once(
    machine: MakeMachine, postgres_server: PostgresServer, database: str
) -> None:
    offline = machine("offline", url=None)
    for _ in range(2):
        assert offline.gryt("run", "ci").code == 0
    local_runs = offline.gryt("runs", "list", "--json").json()
    team = machine("team")
    merged = team.gryt("db", "merge", str(offline.root / ".gryt" / "gryt.db"), "--json")
    assert merged.code == 0, merged.stderr
    report = merged.json()
    assert report["database"] == database and sorted(report["merged"][0]["added"]) == sorted(
        r["run_id"] for r in local_runs
    )
    again = team.gryt("db", "merge", str(offline.root / ".gryt" / "gryt.db"), "--json").json()
    assert again["merged"][0]["added"] == [] and sum(again["merged"][0]["rows"].values()) == 0
    assert count(postgres_server, database, "SELECT count(*) FROM step_runs") == 2 * 3
    run_id = local_runs[0]["run_id"]
    on_server = team.gryt("runs", "show", run_id, "--json").json()
    on_file = offline.gryt("runs", "show", run_id, "--json").json()
    assert [s["step_id"] for s in on_server["steps"]] == [s["step_id"] for s in on_file["steps"]]
    assert on_server["status"] == on_file["status"] == "success"
    assert on_server["runners"] == on_file["runners"]
