"""Faults of the database file itself: a schema from a newer gryt, corrupted pages, a read-only file in a
read-only folder, a lock another process holds past the busy timeout, a full disk, and a log folder that
cannot be created. Each is one line naming the file and what to do, the documented exit code, no
traceback, and earlier runs stay readable."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from .harness import GRYT, PY, Project

OK = '[[runners]]\nid = "r"\nsteps = [{ id = "s", cmd = ["echo", "hello"] }]\n'
COMMANDS = [
    ["run", "ok"],
    ["runs", "list"],
    ["runs", "show", "last"],
    ["runs", "show", "last", "--json"],
    ["db"],
    ["report", "last"],
    ["report", "--trend", "ok"],
]


def one_error_line(done: subprocess.CompletedProcess[bytes], *fragments: str) -> str:
    """The single `gryt: error:` line on stderr; it must contain every fragment; no traceback anywhere."""
    out = (done.stdout + done.stderr).decode(errors="replace")
    assert "Traceback" not in out, out
    lines = [line for line in done.stderr.decode(errors="replace").splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{done.stderr.decode()}"
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def recorded(project: Project) -> str:
    """The project with one successful run of `ok` recorded; returns its run id."""
    project.write_pipeline("ok.toml", OK)
    return str(project.json("run", "ok", "--json")["run_id"])


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_database_from_a_newer_gryt_is_refused_untouched(
    project: Project, recorded: str, args: list[str]
) -> None:
    with sqlite3.connect(project.db) as conn:
        conn.execute("UPDATE schema_version SET version = 999")
    conn.close()
    before = digest(project.db)

    done = project.run(*args)

    assert done.returncode == 2, done.stderr.decode()
    one_error_line(done, "gryt.db", "newer gryt", "schema version 999", "upgrade gryt")
    assert digest(project.db) == before
    with sqlite3.connect(project.db) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(999,)]
        assert conn.execute("SELECT COUNT(*) FROM pipelines").fetchone() == (1,)
    conn.close()


def _corrupt_table(db: Path, table: str) -> None:
    """Overwrite the header of `table`'s root page, as a failing disk or a stray write would."""
    with sqlite3.connect(db) as conn:
        page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with db.open("r+b") as fh:
        fh.seek((page - 1) * size)
        fh.write(b"\xff" * 64)


@pytest.mark.parametrize("table", ["pipelines", "step_runs", "idx_pipelines_start"])
def test_corrupted_pages_are_one_line_for_every_command(project: Project, recorded: str, table: str) -> None:
    _corrupt_table(project.db, table)
    failed = 0
    for args in COMMANDS:
        done = project.run(*args)
        if done.returncode == 0:  # this command never read the broken page
            assert b"Traceback" not in done.stderr
            continue
        failed += 1
        assert done.returncode in (1, 2), (args, done.returncode, done.stderr.decode())
        text = (done.stdout + done.stderr).decode(errors="replace")
        assert "Traceback" not in text, text
        assert "gryt.db" in text and "corrupted" in text and ".recover" in text, text
        if done.returncode == 2:
            one_error_line(done, "gryt.db", "corrupted", "move it aside")
    assert failed, f"no command noticed the corrupted {table} page"


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_database_missing_one_of_its_tables_is_one_line(
    project: Project, recorded: str, args: list[str]
) -> None:
    with sqlite3.connect(project.db) as conn:
        conn.execute("DROP TABLE step_runs")
    conn.close()

    done = project.run(*args)

    assert done.returncode == 2, done.stderr.decode()
    one_error_line(done, "gryt.db", "damaged", "step_runs is missing", "move the file aside")
    assert b"hello" not in done.stdout


def _drop_write_access() -> list[str]:
    """A command prefix under which chmod is obeyed: root ignores file modes unless it loses
    CAP_DAC_OVERRIDE, which `setpriv` removes from the bounding set (gryt then runs without it)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root, and without setpriv chmod 0444 does not stop root from writing")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


def test_history_commands_read_a_read_only_database_in_a_read_only_folder(
    project: Project, recorded: str
) -> None:
    prefix = _drop_write_access()

    def gryt(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [*prefix, GRYT, *args],
            cwd=project.root,
            env=project.env,
            capture_output=True,
            timeout=60,
            check=False,
        )

    folder = project.db.parent
    for path in folder.glob("gryt.db*"):
        path.chmod(0o444)
    folder.chmod(0o555)
    try:
        before = sorted(p.name for p in folder.iterdir())
        for args in (
            ["runs", "list", "--json"],
            ["runs", "show", recorded, "--json"],
            ["db", "-t", "pipelines"],
        ):
            done = gryt(*args)
            assert done.returncode == 0, (args, done.stderr.decode())
            assert recorded.encode() in done.stdout
        listed = gryt("runs", "list")
        assert listed.returncode == 0 and b"success" in listed.stdout, listed.stderr.decode()
        run = gryt("run", "ok")
        assert run.returncode == 2
        one_error_line(run, "gryt.db", "readonly")
        assert sorted(p.name for p in folder.iterdir()) == before
    finally:
        folder.chmod(0o755)
        for path in folder.glob("gryt.db*"):
            path.chmod(0o644)


HOLDER = """\
import sqlite3, sys, time
from pathlib import Path
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO versions (version) VALUES ('held')")
Path(sys.argv[2]).write_text("locked")
while not Path(sys.argv[3]).exists():
    time.sleep(0.05)
conn.execute("ROLLBACK")
"""


def test_a_lock_held_past_the_busy_timeout_is_one_line_and_nothing_half_written(
    project: Project, recorded: str
) -> None:
    holder = project.root / "holder.py"
    holder.write_text(HOLDER)
    locked, release = project.file("holder.locked"), project.file("holder.release")
    proc = subprocess.Popen([PY, str(holder), str(project.db), str(locked), str(release)])
    try:
        project.wait_for_file("holder.locked")
        assert project.run("runs", "show", recorded, "--json").returncode == 0  # readers are not blocked
        started = time.monotonic()
        done = project.run("run", "ok")
        waited = time.monotonic() - started
    finally:
        release.write_text("")
        proc.wait(timeout=30)
    assert done.returncode == 2, done.stderr.decode()
    one_error_line(done, "gryt.db", "locked", "another process", "retry")
    assert waited >= 29, f"gave up after {waited:.1f}s, before the 30 s busy timeout"
    assert b"hello" not in done.stdout, "the pipeline ran although its run could not be recorded"
    runs = project.runs()
    assert [r["run_id"] for r in runs] == [recorded]
    assert project.show(recorded)["status"] == "success"


BIG = """\
[[runners]]
id = "r"
steps = [
  { id = "loud", cmd = ["sh", "-c", "yes hello | head -c 400000; echo done"] },
  { id = "quiet", cmd = ["true"] },
]
"""


def test_a_full_disk_ends_the_run_as_error_without_failing_the_steps(project: Project, recorded: str) -> None:
    """The disk fills up during the run: a file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) makes every
    write past 300 kB fail like ENOSPC would, for the step log and for the database's WAL file."""
    project.write_pipeline("big.toml", BIG)
    limit = 300_000
    assert project.db.stat().st_size < limit

    def full_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        [GRYT, "run", "big", "--json"],
        cwd=project.root,
        env=project.env,
        capture_output=True,
        timeout=120,
        preexec_fn=full_disk,
        check=False,
    )
    assert done.returncode == 1, done.stderr.decode()
    assert b"Traceback" not in done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "error"
    assert {sid: s["status"] for sid, s in result["runners"]["r"].items()} == {
        "loud": "success",
        "quiet": "success",
    }
    assert "could not" in result["error"]
    warnings = [line for line in done.stderr.decode().splitlines() if line.strip()]
    assert warnings and all(line.startswith("gryt: warning: could not") for line in warnings), warnings
    assert len(warnings) <= 2, "one line per distinct problem (log files, database), not one per row"
    runs = {r["run_id"]: r for r in project.runs()}
    assert runs[result["run_id"]]["status"] == "error", "the run was left running"
    assert project.show(recorded)["status"] == "success"


def test_a_file_where_the_log_folder_goes_is_one_line_before_anything_runs(
    project: Project, recorded: str
) -> None:
    logs = project.db.parent / "logs"
    shutil.rmtree(logs)
    logs.write_text("not a folder")

    done = project.run("run", "ok")

    assert done.returncode == 2
    one_error_line(done, ".gryt/logs", "cannot create the log folder", "a file is in its place")
    assert b"hello" not in done.stdout
    assert [r["run_id"] for r in project.runs()] == [recorded]
