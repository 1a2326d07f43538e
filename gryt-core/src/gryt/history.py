"""Run history: the one module that knows how runs, runners, steps and auth attempts are stored.

The run tables and their forward migrations are defined here; `SqliteData` applies them through
`ensure_schema()` whenever it opens a database. The pipeline records through a `Recorder` as the run
goes (so a crash leaves a readable run marked `running`); the CLI reads back with `list_runs()` and
`get_run()`. Values handed in are already masked.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import groupby
from typing import TYPE_CHECKING, Any

from gryt.status import ERROR, RUNNING, RunStatus, StepStatus

if TYPE_CHECKING:
    from gryt.data import Data

# Forward migrations: index i brings a database from schema version i to i + 1. Never edit a released
# entry; append a new one. Each entry is a list of SQL statements or a callable taking the connection.
_V1_TABLES = [
    """CREATE TABLE IF NOT EXISTS pipelines (
        pipeline_id TEXT PRIMARY KEY,
        name TEXT,
        start_timestamp TEXT,
        end_timestamp TEXT,
        status TEXT,
        config_json TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS runners (
        runner_id TEXT NOT NULL,
        pipeline_id TEXT NOT NULL,
        name TEXT,
        status TEXT,
        start_timestamp TEXT,
        end_timestamp TEXT,
        PRIMARY KEY (pipeline_id, runner_id)
    )""",
    """CREATE TABLE IF NOT EXISTS steps_output (
        step_id TEXT PRIMARY KEY,
        runner_id TEXT,
        name TEXT,
        output_json TEXT,
        status TEXT,
        duration REAL,
        timestamp DATETIME DEFAULT CURRENT_TIMESTAMP
    )""",
    """CREATE TABLE IF NOT EXISTS versions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        version TEXT NOT NULL,
        tag TEXT,
        commit_sha TEXT,
        message TEXT,
        timestamp DATETIME DEFAULT CURRENT_TIMESTAMP
    )""",
    """CREATE TABLE IF NOT EXISTS auth_output (
        auth_id TEXT PRIMARY KEY,
        name TEXT,
        output_json TEXT,
        status TEXT,
        duration REAL,
        timestamp DATETIME DEFAULT CURRENT_TIMESTAMP
    )""",
]


def _add_missing_columns(conn: sqlite3.Connection, table: str, columns: Mapping[str, str]) -> None:
    present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
    for name, declaration in columns.items():
        if name not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")


def _migrate_v2(conn: sqlite3.Connection) -> None:
    """History tables, run ownership (pid/host) and the indexes `runs list` needs."""
    _add_missing_columns(
        conn, "pipelines", {"pid": "INTEGER", "host": "TEXT", "duration": "REAL", "error": "TEXT"}
    )
    _add_missing_columns(conn, "runners", {"duration": "REAL", "needs_json": "TEXT"})
    _add_missing_columns(conn, "versions", {"pipeline_id": "TEXT"})
    conn.execute(
        """CREATE TABLE IF NOT EXISTS step_runs (
            id INTEGER PRIMARY KEY,
            pipeline_id TEXT NOT NULL,
            runner_id TEXT,
            step_id TEXT NOT NULL,
            name TEXT,
            status TEXT,
            returncode INTEGER,
            attempts INTEGER,
            timed_out INTEGER,
            duration REAL,
            start_timestamp TEXT,
            end_timestamp TEXT,
            output_json TEXT,
            log_path TEXT
        )"""
    )
    conn.execute(
        """CREATE TABLE IF NOT EXISTS auth_runs (
            id INTEGER PRIMARY KEY,
            pipeline_id TEXT NOT NULL,
            auth_id TEXT NOT NULL,
            name TEXT,
            status TEXT,
            duration REAL,
            start_timestamp TEXT,
            end_timestamp TEXT,
            output_json TEXT
        )"""
    )
    conn.execute(
        """CREATE TRIGGER IF NOT EXISTS step_runs_latest AFTER INSERT ON step_runs BEGIN
            INSERT INTO steps_output (step_id, runner_id, name, output_json, status, duration, timestamp)
            VALUES (NEW.step_id, NEW.runner_id, NEW.name, NEW.output_json, NEW.status, NEW.duration,
                    CURRENT_TIMESTAMP)
            ON CONFLICT (step_id) DO UPDATE SET runner_id = excluded.runner_id, name = excluded.name,
                output_json = excluded.output_json, status = excluded.status,
                duration = excluded.duration, timestamp = excluded.timestamp;
        END"""
    )
    conn.execute(
        """CREATE TRIGGER IF NOT EXISTS auth_runs_latest AFTER INSERT ON auth_runs BEGIN
            INSERT INTO auth_output (auth_id, name, output_json, status, duration, timestamp)
            VALUES (NEW.auth_id, NEW.name, NEW.output_json, NEW.status, NEW.duration, CURRENT_TIMESTAMP)
            ON CONFLICT (auth_id) DO UPDATE SET name = excluded.name, output_json = excluded.output_json,
                status = excluded.status, duration = excluded.duration, timestamp = excluded.timestamp;
        END"""
    )
    for statement in (
        "CREATE INDEX IF NOT EXISTS idx_pipelines_start ON pipelines (start_timestamp)",
        "CREATE INDEX IF NOT EXISTS idx_pipelines_name_start ON pipelines (name, start_timestamp)",
        "CREATE INDEX IF NOT EXISTS idx_runners_pipeline ON runners (pipeline_id, start_timestamp)",
        "CREATE INDEX IF NOT EXISTS idx_step_runs_pipeline ON step_runs (pipeline_id, start_timestamp)",
        "CREATE INDEX IF NOT EXISTS idx_auth_runs_pipeline ON auth_runs (pipeline_id, start_timestamp)",
    ):
        conn.execute(statement)


def _migrate_v3(conn: sqlite3.Connection) -> None:
    """Keep what a run found besides its steps: environment issues, published artifacts, warnings."""
    _add_missing_columns(
        conn, "pipelines", {"issues_json": "TEXT", "destinations_json": "TEXT", "warnings_json": "TEXT"}
    )


def _migrate_v4(conn: sqlite3.Connection) -> None:
    """Delivery history: one row per destination and artifact (artifact NULL for the destination as a
    whole, e.g. skipped or failed before publishing), with its log file."""
    conn.execute(
        """CREATE TABLE IF NOT EXISTS destination_runs (
            id INTEGER PRIMARY KEY,
            pipeline_id TEXT NOT NULL,
            destination_id TEXT NOT NULL,
            name TEXT,
            artifact TEXT,
            status TEXT,
            details_json TEXT,
            error TEXT,
            start_timestamp TEXT,
            end_timestamp TEXT,
            duration REAL,
            log_path TEXT
        )"""
    )
    conn.execute(
        "CREATE INDEX IF NOT EXISTS idx_destination_runs_pipeline ON destination_runs (pipeline_id, id)"
    )


Migration = Sequence[str] | Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = [_V1_TABLES, _migrate_v2, _migrate_v3, _migrate_v4]
SCHEMA_VERSION = len(MIGRATIONS)


class NewerSchema(Exception):
    """The database was written by a newer gryt: its schema version is above SCHEMA_VERSION."""

    def __init__(self, version: int) -> None:
        super().__init__(f"schema version {version}, newer than this gryt's {SCHEMA_VERSION}")
        self.version = version


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Bring the database on `conn` to SCHEMA_VERSION: every newer migration, in one transaction.

    A new database gets the current schema at once. One newer than this gryt raises NewerSchema and is
    left untouched: this gryt would not know what its rows mean.
    """
    version = _current_version(conn)
    if version > SCHEMA_VERSION:
        raise NewerSchema(version)
    if version == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _current_version(conn)
        if version > SCHEMA_VERSION:
            raise NewerSchema(version)
        if version == 0 and _is_empty(conn):
            for statement in _fresh_schema():
                conn.execute(statement)
        else:
            _apply(conn, MIGRATIONS[version:])
        conn.execute("DELETE FROM schema_version")
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


HISTORY_TABLES = (
    "pipelines",
    "runners",
    "steps_output",
    "versions",
    "auth_output",
    "step_runs",
    "auth_runs",
    "destination_runs",
)
"""The tables a database at SCHEMA_VERSION has; one missing means the file was damaged or edited."""


def missing_tables(conn: sqlite3.Connection) -> list[str]:
    """The HISTORY_TABLES that the database on `conn` lacks (read-only: nothing is created)."""
    present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return [name for name in HISTORY_TABLES if name not in present]


def schema_version(data: Data) -> int:
    """The schema version `data`'s database is at."""
    rows = data.query("SELECT MAX(version) AS v FROM schema_version")
    return int(rows[0]["v"])


def _current_version(conn: sqlite3.Connection) -> int:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    return stored_version(conn)


def stored_version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in the database on `conn` (0 when none is), without writing."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").fetchone() is None:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


def _apply(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> None:
    for migration in migrations:
        if callable(migration):
            migration(conn)
        else:
            for statement in migration:
                conn.execute(statement)


def _is_empty(conn: sqlite3.Connection) -> bool:
    """True for a database holding nothing but the schema_version table (a new file)."""
    row = conn.execute(
        "SELECT COUNT(*) FROM sqlite_master WHERE name != 'schema_version' AND name NOT LIKE 'sqlite_%'"
    ).fetchone()
    return row is not None and row[0] == 0


_fresh: dict[tuple[int, ...], list[str]] = {}


def _fresh_schema() -> list[str]:
    """The statements creating the current schema at once, derived from MIGRATIONS in memory.

    A new database gets these instead of every migration in turn (one CREATE per object rather than
    tables altered column by column): the same schema, faster to write to a file.
    """
    key = tuple(id(m) for m in MIGRATIONS)
    statements = _fresh.get(key)
    if statements is None:
        conn = sqlite3.connect(":memory:", isolation_level=None)
        try:
            _apply(conn, MIGRATIONS)
            rows = conn.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
                " AND name != 'schema_version' ORDER BY rowid"
            ).fetchall()
        finally:
            conn.close()
        statements = [row[0] for row in rows]
        _fresh[key] = statements
    return statements


_JSON = json.JSONEncoder(default=str, ensure_ascii=False)


def to_json(value: Any) -> str:
    """JSON as gryt stores it: UTF-8 text kept as is, anything unknown written as its `str()`."""
    return _JSON.encode(value)


_second: tuple[int, str] = (-1, "")
"""The last whole second formatted by `now_iso` (formatting is most of its cost)."""


def now_iso() -> str:
    """UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`: sortable as text, parseable by SQLite's date functions."""
    global _second
    now = time.time()
    whole = int(now)
    second, text = _second
    if whole != second:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _second = (whole, text)
    return f"{text}.{int((now - whole) * 1000):03d}Z"


def _decode(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to decode: shown as stored
        return text


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _run_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """A `pipelines` row for callers: `run_id` alias, decoded config, and whether it was abandoned."""
    view = dict(row)
    view["run_id"] = view["pipeline_id"]
    view["config"] = _decode(view.pop("config_json", None))
    for key in ("issues", "destinations", "warnings"):
        view[key] = _decode(view.pop(f"{key}_json", None))
    abandoned = False
    if view.get("status") == RUNNING and view.get("pid") and view.get("host") == socket.gethostname():
        abandoned = not _pid_alive(int(view["pid"]))
    view["abandoned"] = abandoned
    return view


BATCH_DELAY = 0.05
"""Seconds the background writer gathers rows before writing them in one transaction."""

_Row = tuple[Callable[..., Any], tuple[Any, ...]]


def _insert_table(data: Data, item: _Row) -> str | None:
    fn, args = item
    return str(args[0]) if fn == data.insert else None


def _write_grouped(data: Data, batch: list[_Row]) -> None:
    """Run `batch` in order; consecutive inserts into one table go to the store in one call."""
    for table, group in groupby(batch, key=lambda item: _insert_table(data, item)):
        if table is not None:
            data.insert_many(table, [args[1] for _, args in group])
        else:
            for fn, args in group:
                fn(*args)


class _Writer:
    """The one background thread of a process that writes every Recorder's queued rows.

    Started on first use and kept for the life of the process (a pipeline run creates no thread).
    It gathers what arrives within `BATCH_DELAY` and writes it in one transaction per store; a flush
    request (`Recorder.close`) cuts the wait short.
    """

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self.queue: queue.SimpleQueue[tuple[Recorder, _Row | threading.Event]] = queue.SimpleQueue()
        self.flushing = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def put(self, recorder: Recorder, item: _Row | threading.Event) -> None:
        if self.thread is None:
            with self.lock:
                if self.thread is None:
                    self.thread = threading.Thread(target=self._run, name="gryt-recorder", daemon=True)
                    self.thread.start()
        self.queue.put((recorder, item))

    def flush(self, recorder: Recorder) -> None:
        """Return once every row `recorder` queued so far is written."""
        done = threading.Event()
        self.put(recorder, done)
        self.flushing.set()
        done.wait()

    def _run(self) -> None:
        while True:
            first = self.queue.get()
            if not isinstance(first[1], threading.Event):
                self.flushing.wait(BATCH_DELAY)
            self.flushing.clear()
            batch = [first]
            while True:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                for recorder, group in groupby(batch, key=lambda entry: entry[0]):
                    rows: list[_Row] = []
                    for _, item in group:
                        if isinstance(item, threading.Event):
                            recorder._write_batch(rows)
                            rows = []
                            item.set()
                        else:
                            rows.append(item)
                    recorder._write_batch(rows)
            except Exception as exc:  # noqa: BLE001 - reported; the thread must live on for the next rows
                for recorder in {entry[0] for entry in batch}:
                    recorder.failed(exc)
            finally:  # whatever happened, nobody waits forever for a flush
                for _, item in batch:
                    if isinstance(item, threading.Event):
                        item.set()


_writer: _Writer | None = None
_writer_lock = threading.Lock()


def _background_writer() -> _Writer:
    global _writer
    if _writer is None:
        with _writer_lock:
            if _writer is None:
                _writer = _Writer()
    return _writer


class Recorder:
    """Writes one run's progress to a Data store; every method is a no-op without a store.

    With `background=True`, step, runner and auth rows are written by a background thread (one per
    process, shared by all recorders) in call order while the next command already runs (timestamps
    are taken at call time). It gathers what arrives within `BATCH_DELAY` seconds and writes it in one
    transaction: one commit and one thread wake-up per batch instead of per step, so a crashed run
    loses at most that much of its record. `run_started` writes at once (and raises when it cannot: the
    run has not started); `run_finished` and `close()` wait until every queued row is written. Later
    write errors become `errors` (one line per distinct problem) instead of raising.
    """

    def __init__(self, data: Data | None, *, background: bool = False) -> None:
        self.data = data
        self.errors: list[str] = []
        self._background = background and data is not None
        self._queued = False

    def _write(self, fn: Callable[..., Any], *args: Any) -> None:
        if not self._background:
            fn(*args)
            return
        self._queued = True
        _background_writer().put(self, (fn, args))

    def _write_batch(self, batch: list[_Row]) -> None:
        """Write `batch` in one transaction; when that fails, write each row alone to report each error."""
        data = self.data
        if data is None or not batch:
            return
        if len(batch) > 1:
            try:
                with data.transaction():
                    _write_grouped(data, batch)
                return
            except Exception:  # noqa: BLE001 - rolled back; the replay below reports every failing row
                pass
        for fn, args in batch:
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - reported through `errors`, the run goes on
                self.failed(exc)

    def failed(self, exc: Exception) -> None:
        """Note a write that failed, once per distinct message: a full disk or a lock held too long fails
        every row alike, and is one line for the user, not one per row."""
        from gryt.errors import GrytError

        where = "" if isinstance(exc, GrytError) else f" in {getattr(self.data, 'path', None)}"
        message = f"could not record the run{where}: {exc}"
        if message not in self.errors:
            self.errors.append(message)

    def close(self) -> None:
        """Wait until every queued row is written."""
        if self._queued:
            self._queued = False
            _background_writer().flush(self)

    def run_started(self, run_id: str, name: str | None, config: Mapping[str, Any] | None = None) -> None:
        if self.data is None:
            return
        self.data.insert(
            "pipelines",
            {
                "pipeline_id": run_id,
                "name": name,
                "start_timestamp": now_iso(),
                "status": RUNNING,
                "config_json": dict(config or {}),
                "pid": os.getpid(),
                "host": socket.gethostname(),
            },
        )

    def run_finished(
        self,
        run_id: str,
        status: RunStatus,
        *,
        duration: float | None = None,
        error: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Close the run row after every queued row is written.

        `extra` may carry `issues`, `destinations`, `warnings` (stored as JSON) and `config` (replaces
        `config_json`, e.g. re-masked with secrets declared during the run).
        """
        if self.data is None:
            return
        end = now_iso()
        self.close()
        values: dict[str, Any] = {
            "status": status,
            "end_timestamp": end,
            "duration": duration,
            "error": error,
        }
        for key, value in (extra or {}).items():
            if key in ("issues", "destinations", "warnings", "config"):
                values[f"{key}_json"] = to_json(value)
        try:
            self.data.update("pipelines", values, {"pipeline_id": run_id})
        except Exception as exc:  # noqa: BLE001 - reported through `errors`: the run is over either way
            self.failed(exc)

    def runner_started(
        self, run_id: str, runner_id: str, name: str | None = None, needs: Iterable[str] = ()
    ) -> None:
        if self.data is None:
            return
        self._write(
            self.data.upsert,
            "runners",
            {
                "pipeline_id": run_id,
                "runner_id": runner_id,
                "name": name or runner_id,
                "status": RUNNING,
                "start_timestamp": now_iso(),
                "needs_json": list(needs),
            },
            ("pipeline_id", "runner_id"),
        )

    def runner_finished(
        self,
        run_id: str,
        runner_id: str,
        status: StepStatus,
        *,
        duration: float | None = None,
        name: str | None = None,
        needs: Iterable[str] = (),
    ) -> None:
        """Close a runner's row; creates it for runners that never started (skipped or interrupted)."""
        if self.data is None:
            return
        data = self.data
        values: dict[str, Any] = {"status": status, "end_timestamp": now_iso(), "duration": duration}
        row: dict[str, Any] = {"pipeline_id": run_id, "runner_id": runner_id, "name": name or runner_id}
        row.update(values, needs_json=list(needs))

        def write() -> None:
            with data.transaction():
                if not data.update("runners", values, {"pipeline_id": run_id, "runner_id": runner_id}):
                    data.insert("runners", row)

        self._write(write)

    def step_finished(
        self,
        run_id: str,
        runner_id: str | None,
        step_id: str,
        step_type: str,
        result: Mapping[str, Any],
        *,
        start_timestamp: str | None = None,
        log_path: str | None = None,
    ) -> None:
        """Append the execution to `step_runs`; the `step_runs_latest` trigger upserts `steps_output`
        in the same statement, so both change atomically."""
        if self.data is None:
            return
        end = now_iso()
        self._write(
            self.data.insert,
            "step_runs",
            {
                "pipeline_id": run_id,
                "runner_id": runner_id,
                "step_id": step_id,
                "name": step_type,
                "status": str(result.get("status", ERROR)),
                "returncode": result.get("returncode"),
                "attempts": result.get("attempts"),
                "timed_out": 1 if result.get("timed_out") else 0,
                "duration": result.get("duration"),
                "start_timestamp": start_timestamp or end,
                "end_timestamp": end,
                "output_json": to_json(result),
                "log_path": log_path,
            },
        )

    def auth_finished(
        self,
        run_id: str,
        auth_id: str,
        auth_type: str,
        result: Mapping[str, Any],
        *,
        duration: float | None = None,
        start_timestamp: str | None = None,
    ) -> None:
        """Append the attempt to `auth_runs`; the `auth_runs_latest` trigger upserts `auth_output`."""
        if self.data is None:
            return
        end = now_iso()
        self._write(
            self.data.insert,
            "auth_runs",
            {
                "pipeline_id": run_id,
                "auth_id": auth_id,
                "name": auth_type,
                "status": str(result.get("status", ERROR)),
                "duration": duration,
                "start_timestamp": start_timestamp or end,
                "end_timestamp": end,
                "output_json": to_json(dict(result)),
            },
        )

    def destination_finished(
        self,
        run_id: str,
        destination_id: str,
        destination_type: str,
        items: Sequence[Mapping[str, Any]],
        *,
        status: str,
        duration: float | None = None,
        start_timestamp: str | None = None,
        log_path: str | None = None,
    ) -> None:
        """Append a destination's outcome to `destination_runs`: one row per artifact it reported."""
        if self.data is None:
            return
        end = now_iso()
        rows = items or [{"artifact": None, "status": status}]
        for item in rows:
            details = {k: v for k, v in item.items() if k not in ("artifact", "status", "error")}
            own = item.get("duration")
            self._write(
                self.data.insert,
                "destination_runs",
                {
                    "pipeline_id": run_id,
                    "destination_id": destination_id,
                    "name": destination_type,
                    "artifact": item.get("artifact"),
                    "status": str(item.get("status", ERROR)),
                    "details_json": to_json(details),
                    "error": item.get("error"),
                    "start_timestamp": start_timestamp or end,
                    "end_timestamp": end,
                    "duration": own if isinstance(own, (int, float)) else duration,
                    "log_path": log_path,
                },
            )


def list_runs(data: Data, limit: int = 20, pipeline: str | None = None) -> list[dict[str, Any]]:
    """The latest runs first (at most `limit`; 0 or less means all), optionally of one pipeline name.

    Each dict is a `pipelines` row plus `run_id`, decoded `config` and `abandoned` (status `running`
    but its process, on this host, is gone).
    """
    sql = "SELECT * FROM pipelines"
    params: list[Any] = []
    if pipeline is not None:
        sql += " WHERE name = ?"
        params.append(pipeline)
    sql += " ORDER BY start_timestamp DESC, pipeline_id DESC"
    if limit > 0:
        sql += " LIMIT ?"
        params.append(limit)
    return [_run_view(row) for row in data.query(sql, params)]


def get_run(data: Data, run_id: str) -> dict[str, Any] | None:
    """One run with its runners, steps, auth attempts and `destination_runs` (decoded), or None.

    `run_id` may be a unique prefix of a run id.
    """
    rows = data.query("SELECT * FROM pipelines WHERE pipeline_id = ?", (run_id,))
    if not rows and run_id:
        escaped = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = data.query(
            "SELECT * FROM pipelines WHERE pipeline_id LIKE ? ESCAPE '\\' LIMIT 2", (escaped + "%",)
        )
        if len(rows) != 1:
            return None
    run = _run_view(rows[0])
    key = (run["pipeline_id"],)
    runners = data.query("SELECT * FROM runners WHERE pipeline_id = ? ORDER BY start_timestamp, rowid", key)
    for runner in runners:
        runner["needs"] = _decode(runner.pop("needs_json", None)) or []
    steps = data.query("SELECT * FROM step_runs WHERE pipeline_id = ? ORDER BY id", key)
    for step in steps:
        step["output"] = _decode(step.pop("output_json", None))
        step["timed_out"] = bool(step.get("timed_out"))
    auth = data.query("SELECT * FROM auth_runs WHERE pipeline_id = ? ORDER BY id", key)
    for attempt in auth:
        attempt["output"] = _decode(attempt.pop("output_json", None))
    deliveries = data.query("SELECT * FROM destination_runs WHERE pipeline_id = ? ORDER BY id", key)
    for delivery in deliveries:
        delivery["details"] = _decode(delivery.pop("details_json", None))
    run["runners"] = runners
    run["steps"] = steps
    run["auth"] = auth
    run["destination_runs"] = deliveries
    return run
