"""The run-history schema: its tables, their forward migrations, and the checks made when a database opens.

`SqliteData` calls `ensure_schema()` on every database it opens; `gryt.history` writes and reads the rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

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


def _migrate_v5(conn: sqlite3.Connection) -> None:
    """The run a `gryt run --failed` run continues (NULL for every other run)."""
    _add_missing_columns(conn, "pipelines", {"continues_run_id": "TEXT"})


Migration = Sequence[str] | Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = [_V1_TABLES, _migrate_v2, _migrate_v3, _migrate_v4, _migrate_v5]
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
