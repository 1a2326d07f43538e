"""SqliteData, the generic store: real SQLite files in temp dirs."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gryt.data import SqliteData
from gryt.errors import ConfigError


def test_file_database_uses_wal(tmp_path: Path) -> None:
    with SqliteData(tmp_path / "g.db") as data:
        assert data.query("PRAGMA journal_mode")[0]["journal_mode"] == "wal"
        assert data.query("PRAGMA synchronous")[0]["synchronous"] == 1  # NORMAL


def test_memory_and_json_values() -> None:
    for data in (SqliteData(":memory:"), SqliteData("ignored.db", in_memory=True)):
        with data:
            assert data.path is None
            data.create_table(
                "things", {"id": "INTEGER PRIMARY KEY", "payload": "TEXT", "n": "INTEGER DEFAULT 0"}
            )
            data.insert("things", {"id": 1, "payload": {"a": [1, 2]}})
            data.insert("things", {"id": 2, "payload": ["x"], "n": 5})
            rows = data.query("SELECT * FROM things ORDER BY id")
            assert rows == [
                {"id": 1, "payload": '{"a": [1, 2]}', "n": 0},
                {"id": 2, "payload": '["x"]', "n": 5},
            ]
            assert data.update("things", {"n": 7}, {"id": 2}) == 1
            assert data.update("things", {"n": 7}, {"id": 99}) == 0
            assert data.query("SELECT n FROM things WHERE id = ?", (2,)) == [{"n": 7}]
    assert not Path("ignored.db").exists()


@pytest.mark.parametrize(
    "call",
    [
        lambda d: d.insert("steps_output; DROP TABLE pipelines", {"step_id": "x"}),
        lambda d: d.insert("steps_output", {"step_id) VALUES ('a'); --": "x"}),
        lambda d: d.update("pipelines", {"status": "x"}, {"1=1 OR pipeline_id": "a"}),
        lambda d: d.create_table("t", {"a": "TEXT); DROP TABLE pipelines; --"}),
        lambda d: d.create_table("bad name", {"a": "TEXT"}),
    ],
)
def test_identifiers_are_validated(tmp_path: Path, call) -> None:
    with SqliteData(tmp_path / "g.db") as data:
        with pytest.raises(ConfigError, match="invalid"):
            call(data)
        assert "pipelines" in data.tables()


def test_values_are_parameters(tmp_path: Path) -> None:
    with SqliteData(tmp_path / "g.db") as data:
        evil = "x'); DROP TABLE pipelines; --"
        data.insert("pipelines", {"pipeline_id": evil, "name": evil})
        assert data.query("SELECT name FROM pipelines")[0]["name"] == evil


def test_transaction_rolls_back(tmp_path: Path) -> None:
    with SqliteData(tmp_path / "g.db") as data:
        with pytest.raises(RuntimeError), data.transaction():
            data.insert("pipelines", {"pipeline_id": "a"})
            with data.transaction():
                data.insert("pipelines", {"pipeline_id": "b"})
            raise RuntimeError("boom")
        assert data.query("SELECT * FROM pipelines") == []
        with data.transaction():
            data.insert("pipelines", {"pipeline_id": "c"})
        assert len(data.query("SELECT * FROM pipelines")) == 1


def test_not_a_database(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("hello, this is not sqlite\n" * 100)
    with pytest.raises(ConfigError) as info:
        SqliteData(bogus)
    message = str(info.value)
    assert str(bogus) in message and "\n" not in message and "not a SQLite database" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_path(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ConfigError) as info:
            SqliteData(locked / "sub" / "g.db")
        assert str(locked / "sub") in str(info.value)
        with pytest.raises(ConfigError) as info:
            SqliteData(locked / "g.db")
        assert str(locked / "g.db") in str(info.value)
    finally:
        locked.chmod(0o700)


def test_path_below_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError) as info:
        SqliteData(blocker / "g.db")
    assert str(blocker / "g.db") in str(info.value)


def test_directory_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        SqliteData(tmp_path)


def test_ten_threads_insert_concurrently(tmp_path: Path) -> None:
    data = SqliteData(tmp_path / "g.db")
    errors: list[BaseException] = []
    barrier = threading.Barrier(10)

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(50):
                data.insert("pipelines", {"pipeline_id": f"{n}-{i}", "name": f"t{n}"})
                with data.transaction():
                    data.upsert("steps_output", {"step_id": f"s{i}", "status": f"t{n}"}, key=("step_id",))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert data.query("SELECT COUNT(*) AS n FROM pipelines") == [{"n": 500}]
    assert data.query("SELECT COUNT(*) AS n FROM steps_output") == [{"n": 50}]
    data.close()


def test_two_processes_write_one_file(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    SqliteData(path).close()
    script = (
        "import sys\nfrom gryt.data import SqliteData\nd = SqliteData(sys.argv[1])\n"
        "for i in range(100):\n    d.insert('pipelines', {'pipeline_id': sys.argv[2] + str(i)})\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path), p]) for p in "ab"]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    with SqliteData(path) as data:
        assert data.query("SELECT COUNT(*) AS n FROM pipelines") == [{"n": 200}]
