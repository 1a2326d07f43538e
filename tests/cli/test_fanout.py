"""One run spread over several databases, as CI jobs record it: `gryt run --runner X --run-id ID --db
JOB.db`, `gryt db merge`, `gryt run --deliver-only`, `gryt runs show --junit`; and `gryt plan --json`."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _gryt import Done
from _schema import database_at

from .conftest import pipeline

PIPELINE = """
[pipeline]
name = "ci"
secrets = ["API_TOKEN"]

[[runners]]
id = "lint"
steps = [{ id = "check", cmd = ["sh", "-c", "mkdir -p dist && echo lint > dist/lint.txt && echo token $API_TOKEN"] }]

[[runners]]
id = "test"
matrix = { py = ["a", "b"] }
steps = [{ id = "unit", cmd = ["sh", "-c", "echo test ${{ matrix.py }}"] }]

[[runners]]
id = "build"
needs = ["lint", "test"]
steps = [{ id = "wheel", cmd = ["sh", "-c", "test -f dist/lint.txt && echo built > dist/app.txt"] }]

[[destinations]]
id = "out"
type = "directory"
path = "published"

[artifacts]
paths = ["dist/*"]
"""
RUNNERS = ["lint", "test (py=a)", "test (py=b)", "build"]
TIMES = re.compile(r' time="[^"]*"')


def history(gryt: Callable[..., Done], project: Path, run_id: str, db: Path) -> dict[str, Any]:
    """What must be equal between a fanned-out and a single-machine run: runners, steps, statuses.

    `gryt` runs gryt in-process (the `cli` fixture) or as a subprocess (`_gryt.run_gryt`, the CI tests)."""
    done = gryt("runs", "show", run_id, "--db", str(db), "--json", cwd=project)
    assert done.code == 0, done.stderr
    run = json.loads(done.stdout)
    return {
        "status": run["status"],
        "runners": sorted((r["runner_id"], r["status"], tuple(r["needs"])) for r in run["runners"]),
        "steps": sorted((s["runner_id"], s["step_id"], s["status"]) for s in run["steps"]),
        "destinations": sorted(
            (d["destination_id"], d["artifact"], d["status"]) for d in run["destination_runs"]
        ),
    }


def dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(db)
    try:
        return {
            table: sorted(tuple(map(str, row)) for row in conn.execute(f"SELECT * FROM {table}"))
            for table in ("pipelines", "runners", "step_runs", "auth_runs", "destination_runs")
        }
    finally:
        conn.close()


def fan_out(cli: Any, project: Path, run_id: str) -> list[Path]:
    """Each runner in its own database, in needs order, as one CI job each."""
    dbs = []
    for runner in RUNNERS:
        db = project / "jobs" / f"{runner.replace(' ', '_')}.db"
        done = cli(
            "run", "ci", "--runner", runner, "--no-deliver", "--run-id", run_id, "--db", str(db), cwd=project
        )
        assert done.code == 0, done.stdout + done.stderr
        dbs.append(db)
    return dbs


def test_fanned_out_run_merges_into_the_history_of_a_single_machine_run(cli: Any, project: Path) -> None:
    pipeline(project, "ci.toml", PIPELINE)
    single = cli("run", "ci", "--run-id", "single-1", "--junit", "single.xml", cwd=project)
    assert single.code == 0, single.stdout
    dbs = fan_out(cli, project, "ci-7")
    merged = project / "merged" / "gryt.db"
    done = cli("db", "merge", "--db", str(merged), *map(str, dbs), cwd=project)
    assert done.code == 0, done.stderr
    assert "1 run(s) added" in done.stdout.splitlines()[0]
    before = dump(merged)
    again = cli("db", "merge", "--db", str(merged), *map(str, reversed(dbs)), "--json", cwd=project)
    assert [m["unchanged"] for m in json.loads(again.stdout)["merged"]] == [["ci-7"]] * 4
    assert dump(merged) == before  # idempotent

    shutil.rmtree(project / "published")  # what the single-machine run delivered
    delivered = cli("run", "ci", "--deliver-only", "--run-id", "ci-7", "--db", str(merged), cwd=project)
    assert delivered.code == 0, delivered.stdout + delivered.stderr
    assert (project / "published" / "app.txt").read_text() == "built\n"
    junit = cli("runs", "show", "ci-7", "--db", str(merged), "--junit", "merged.xml", cwd=project)
    assert junit.code == 0, junit.stderr

    single_db = project / ".gryt" / "gryt.db"
    assert history(cli, project, "ci-7", merged) == history(cli, project, "single-1", single_db)
    merged_xml = TIMES.sub("", (project / "merged.xml").read_text())
    assert merged_xml == TIMES.sub("", (project / "single.xml").read_text())
    logs = {Path(r[0]) for r in sqlite3.connect(merged).execute("SELECT log_path FROM step_runs") if r[0]}
    assert logs and all(p.parent == merged.parent / "logs" / "ci-7" and p.is_file() for p in logs)


def test_merging_a_file_again_is_unchanged_and_keeps_the_measured_duration(cli: Any, project: Path) -> None:
    pipeline(project, "ci.toml", PIPELINE)
    job = project / "jobs" / "single.db"
    assert cli("run", "ci", "--run-id", "once", "--db", str(job), cwd=project).code == 0
    merged = project / "merged.db"
    assert cli("db", "merge", "--db", str(merged), str(job), cwd=project).code == 0
    again = cli("db", "merge", "--db", str(merged), str(job), cwd=project)
    assert again.code == 0, again.stderr
    assert "0 run(s) added, 0 updated, 1 unchanged" in again.stdout
    assert dump(merged)["pipelines"] == dump(job)["pipelines"]


def test_deliver_only_refuses_a_failed_or_incomplete_run(cli: Any, project: Path) -> None:
    pipeline(project, "ci.toml", PIPELINE.replace("echo test ${{ matrix.py }}", "exit 3"))
    db = project / "jobs" / "lint.db"
    assert (
        cli(
            "run", "ci", "--runner", "lint", "--no-deliver", "--run-id", "r1", "--db", str(db), cwd=project
        ).code
        == 0
    )
    merged = project / "merged.db"
    assert cli("db", "merge", "--db", str(merged), str(db), cwd=project).code == 0
    incomplete = cli("run", "ci", "--deliver-only", "--run-id", "r1", "--db", str(merged), cwd=project)
    assert incomplete.code == 2
    assert incomplete.error_lines == [
        "gryt: error: run r1: no record of runner(s) test (py=a), test (py=b), build; merge every job's"
        " database first (gryt db merge)"
    ]
    failing = project / "jobs" / "test.db"
    ran = cli(
        "run", "ci", "--runner", "test", "--no-deliver", "--run-id", "r1", "--db", str(failing), cwd=project
    )
    assert ran.code == 1
    assert cli("db", "merge", "--db", str(merged), str(failing), cwd=project).code == 0
    refused = cli("run", "ci", "--deliver-only", "--run-id", "r1", "--db", str(merged), cwd=project)
    assert refused.code == 1
    assert refused.error_lines[-1].startswith("gryt: error: run r1 ended error: step test (py=a)/unit failed")
    assert not (project / "published").exists()
    statuses = sqlite3.connect(merged).execute("SELECT status FROM destination_runs").fetchall()
    assert statuses == [("skipped",)]  # one skip kept of the two --no-deliver jobs, no delivery


def test_run_id_is_checked(cli: Any, project: Path) -> None:
    pipeline(project, "ci.toml", PIPELINE)
    bad = cli("run", "ci", "--run-id", "../x", cwd=project)
    assert (bad.code, len(bad.error_lines)) == (2, 1)
    assert "--run-id '../x': use 1 to 128 letters" in bad.stderr
    assert cli("run", "ci", "--run-id", "same", cwd=project).code == 0
    again = cli("run", "ci", "--run-id", "same", cwd=project)
    assert again.code == 2
    assert "already recorded" in again.stderr
    missing = cli("run", "ci", "--deliver-only", "--run-id", "nope", cwd=project)
    assert missing.code == 2 and "no such run" in missing.stderr
    both = cli("run", "ci", "--deliver-only", cwd=project)
    assert both.code == 2 and "--deliver-only: give --run-id" in both.stderr


def _set_version(db: Path, version: int) -> None:
    conn = sqlite3.connect(db)
    conn.execute("UPDATE schema_version SET version = ?", (version,))
    conn.commit()
    conn.close()


def test_merge_refuses_a_newer_schema_and_leaves_the_target_unchanged(cli: Any, project: Path) -> None:
    pipeline(project, "ci.toml", PIPELINE)
    [lint, *_rest] = fan_out(cli, project, "n1")
    newer = project / "jobs" / "newer.db"
    newer.write_bytes((project / "jobs" / "build.db").read_bytes())
    _set_version(newer, 999)
    target = project / "target.db"
    assert cli("db", "merge", "--db", str(target), str(lint), cwd=project).code == 0
    before = dump(target)
    done = cli(
        "db", "merge", "--db", str(target), str(project / "jobs" / "test_(py=a).db"), str(newer), cwd=project
    )
    assert done.code == 2
    assert len(done.error_lines) == 1
    assert str(newer) in done.stderr and "newer gryt (schema version 999" in done.stderr
    assert dump(target) == before


def test_merge_is_one_transaction(cli: Any, project: Path) -> None:
    pipeline(project, "ci.toml", PIPELINE)
    dbs = fan_out(cli, project, "t1")
    target = project / "target.db"
    assert cli("db", "merge", "--db", str(target), str(dbs[0]), cwd=project).code == 0
    before = dump(target)
    conn = sqlite3.connect(target)
    conn.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON step_runs WHEN NEW.step_id = 'wheel'"
        " BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"
    )
    conn.commit()
    conn.close()
    done = cli("db", "merge", "--db", str(target), *map(str, dbs), cwd=project)
    assert done.code == 2
    assert done.error_lines == ["gryt: error: target.db: merge failed, nothing changed: refused by a trigger"]
    assert dump(target) == before
    logs = target.parent / "logs" / "t1"
    assert [p.name for p in logs.iterdir()] == ["lint.check.log"]  # copied by the first merge only


def test_merge_reads_an_older_schema_without_changing_the_file(cli: Any, project: Path) -> None:
    old = project / "old.db"
    conn = database_at(old, 3)
    conn.execute(
        "INSERT INTO pipelines (pipeline_id, name, start_timestamp, end_timestamp, status)"
        " VALUES ('old-1', 'ci', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', 'success')"
    )
    conn.execute("INSERT INTO runners (pipeline_id, runner_id, status) VALUES ('old-1', 'lint', 'success')")
    conn.close()
    before = old.read_bytes()
    target = project / "target.db"
    done = cli("db", "merge", "--db", str(target), str(old), cwd=project)
    assert done.code == 0, done.stderr
    assert old.read_bytes() == before
    assert dump(target)["runners"] == [("lint", "old-1", "None", "success", "None", "None", "None", "None")]


def test_merge_refuses_a_file_that_is_no_database_and_itself(cli: Any, project: Path) -> None:
    (project / "notes.db").write_text("not a database")
    target = project / "target.db"
    done = cli("db", "merge", "--db", str(target), str(project / "notes.db"), cwd=project)
    assert done.code == 2 and len(done.error_lines) == 1 and "notes.db: not a gryt database" in done.stderr
    assert not target.exists()
    itself = cli("db", "merge", "--db", str(target), str(target), cwd=project)
    assert itself.code == 2 and "is the database merged into" in itself.stderr


def test_bare_db_keeps_dumping_tables(cli: Any, project: Path) -> None:
    pipeline(project, "ci.toml", PIPELINE)
    assert cli("run", "ci", "--run-id", "d1", cwd=project).code == 0
    done = cli("db", "--table", "runners", cwd=project)
    assert done.code == 0
    assert sorted(r["runner_id"] for r in json.loads(done.stdout)["runners"]) == sorted(RUNNERS)


PLAN_PIPELINE = """
[pipeline]
name = "plan"
secrets = ["API_TOKEN"]

[[auth]]
id = "hub"
type = "docker-registry"
registry = "127.0.0.1:5000"

[[runners]]
id = "test"
matrix = { py = ["a", "b"] }
steps = [{ id = "unit", cmd = ["sh", "-c", "echo ${{ matrix.py }}"], env = { API_TOKEN = "s3cr3t-plan-value" } }]

[[runners]]
id = "build"
needs = ["test"]
steps = [{ id = "wheel", cmd = ["true"] }]

[[destinations]]
id = "out"
type = "directory"
path = "published"
"""


def test_plan_json_tells_a_ci_generator_what_to_install_and_pass(cli: Any, project: Path) -> None:
    pipeline(project, "plan.toml", PLAN_PIPELINE)
    done = cli("plan", "plan", "--json", cwd=project)
    assert done.code == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["version"] == 1
    assert plan["file"] == ".gryt/pipelines/plan.toml"
    assert [(r["id"], r["needs"]) for r in plan["runners"]] == [
        ("test (py=a)", []),
        ("test (py=b)", []),
        ("build", ["test (py=a)", "test (py=b)"]),
    ]
    assert plan["groups"] == {"test": ["test (py=a)", "test (py=b)"]}
    assert {(p["kind"], p["type"], p["distribution"]) for p in plan["plugins"]} == {
        ("auth", "docker-registry", "gryt-auth-docker"),
        ("steps", "command", "gryt-core"),
        ("destinations", "directory", "gryt-core"),
    }
    assert plan["distributions"] == ["gryt-auth-docker", "gryt-core"]
    assert plan["environment"] == [
        {"name": "API_TOKEN", "secret": True, "used_by": ["pipeline"]},
        {"name": "DOCKER_TOKEN", "secret": True, "used_by": ["auth:hub"]},
        {"name": "DOCKER_USERNAME", "secret": False, "used_by": ["auth:hub"]},
    ]
    assert "s3cr3t-plan-value" not in done.stdout
