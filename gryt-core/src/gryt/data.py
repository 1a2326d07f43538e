"""The run store: a thread-safe SQLite database holding every pipeline, runner, step and auth result.

`SqliteData` opens (or creates) the database, brings it to the run-history schema (`gryt.schema`
owns that schema and its migrations), and offers a small API (`insert`, `upsert`, `update`, `query`,
`create_table`, `transaction`). Table and column names are checked against an identifier pattern;
values are always bound as parameters. The schema is documented in `docs/data.md`.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from gryt.errors import ConfigError
from gryt.json_text import to_json
from gryt.schema import SCHEMA_VERSION, NewerSchema, ensure_schema, missing_tables, stored_version

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_COLUMN_TYPE = re.compile(r"^(?:[A-Za-z0-9_ (),.+-]|'[^';]*')+$")

BUSY_TIMEOUT_MS = 30_000
"""How long a statement waits for another process's write lock: SQLite's busy handler is not fair, so
many concurrent runs on a loaded machine need more than a few seconds."""
MAX_VARIABLES = 999
"""Bound parameters per statement (SQLite's lowest default limit), for multi-row inserts."""


def check_identifier(name: str, what: str = "identifier") -> str:
    """Return `name` if it is a plain SQL identifier (letters, digits, `_`), else raise ConfigError."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ConfigError(f"invalid {what} {name!r}: use letters, digits and underscores only")
    return name


def _check_column_type(name: str, declaration: str) -> str:
    if not isinstance(declaration, str) or not _COLUMN_TYPE.match(declaration) or "--" in declaration:
        raise ConfigError(f"invalid type for column {name!r}: {declaration!r}")
    return declaration


_PLAIN = (str, int, float, type(None), bytes)


def encode_value(value: Any) -> Any:
    """The value as SQLite stores it: dicts and lists become JSON, paths become strings."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, (dict, list, tuple)):
        return to_json(value)
    if isinstance(value, Path):
        return str(value)
    return value


class Data(ABC):
    """Where gryt records runs. `SqliteData` is the implementation; the API is what steps may rely on."""

    path: Path | None = None
    """The database file, or None when the store lives in memory (no log files are written then)."""

    @abstractmethod
    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        """Insert one row; dict and list values are stored as JSON."""

    def insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert several rows (each like `insert`); stores may do it in one call."""
        for row in rows:
            self.insert(table, row)

    @abstractmethod
    def upsert(self, table: str, row: Mapping[str, Any], key: Sequence[str]) -> None:
        """Insert one row, or update the row whose `key` columns match (latest value wins)."""

    @abstractmethod
    def update(self, table: str, values: Mapping[str, Any], where: Mapping[str, Any]) -> int:
        """Set `values` on rows matching every `where` item; returns the number of rows changed."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict[str, Any]]:
        """Run one SQL statement with bound parameters; rows come back as dicts."""

    @abstractmethod
    def create_table(self, name: str, columns: Mapping[str, str]) -> None:
        """Create `name` if missing, with `columns` (name -> SQL type declaration)."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Data]:
        """Group several writes into one atomic transaction (nesting joins the outer one)."""

    @abstractmethod
    def close(self) -> None:
        """Close the store; further calls fail."""

    def __enter__(self) -> Data:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class DatabaseFault(ConfigError):
    """The database file itself failed: corrupted, locked too long, read-only, or its disk is full."""


def _newer(target: str, exc: NewerSchema) -> str:
    return (
        f"{target}: written by a newer gryt ({exc}); upgrade gryt (pip install -U gryt-core)"
        " or use another database with --db"
    )


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL journaling. On a new file this needs an exclusive lock, and when processes race to
    switch the same file SQLite answers "locked" at once, without its busy handler: retry until the busy
    timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _fault(target: str, exc: sqlite3.DatabaseError, *, opening: bool = False) -> Exception:
    """The one-line error for a fault of the database file, or `exc` itself for any other SQL error
    (a bad statement of a step's own `query()` stays an sqlite3 error)."""
    reason = str(exc)
    if "not a database" in reason or "malformed" in reason:
        if opening and "not a database" in reason:
            return DatabaseFault(f"{target}: not a SQLite database (or it is corrupted)")
        return DatabaseFault(
            f"{target}: the database is corrupted ({reason}); move it aside to start a new history,"
            f" or try `sqlite3 {target} .recover`"
        )
    if "locked" in reason or "busy" in reason:
        return DatabaseFault(
            f"{target}: database is locked: another process held it for more than"
            f" {BUSY_TIMEOUT_MS // 1000} s; retry once it is done"
        )
    if "disk is full" in reason:
        return DatabaseFault(f"{target}: the disk is full; free some space and retry")
    if "readonly" in reason or "unable to open" in reason:
        return DatabaseFault(f"{target}: cannot write database ({reason})")
    if "disk I/O" in reason:
        return DatabaseFault(
            f"{target}: a write failed (disk I/O error): the disk may be full or failing; free some space"
            " or check the disk, then retry"
        )
    if opening:
        return DatabaseFault(f"{target}: cannot use database ({reason})")
    return exc


def _check_tables(target: str, conn: sqlite3.Connection) -> None:
    """A database at the current schema version that lacks one of gryt's tables was damaged or edited:
    one line now, rather than an SQL error in the middle of a command."""
    missing = missing_tables(conn)
    if missing:
        raise DatabaseFault(
            f"{target}: damaged: the table{'s' * (len(missing) > 1)} {', '.join(missing)} "
            f"{'are' if len(missing) > 1 else 'is'} missing; move the file aside to start a new history"
        )


class SqliteData(Data):
    """SQLite-backed store, safe to share between threads (one connection, one re-entrant lock).

    Files use WAL, a busy timeout and `synchronous=NORMAL`, so several gryt processes can write one
    database. `db_path=":memory:"` or `in_memory=True` keeps everything in memory.
    """

    def __init__(
        self, db_path: str | Path = ".gryt.db", in_memory: bool = False, *, read_only: bool = False
    ) -> None:
        self.in_memory = in_memory or str(db_path) == ":memory:"
        self.path = None if self.in_memory else Path(db_path)
        self.read_only = read_only and self.path is not None
        self._lock = threading.RLock()
        self._depth = 0
        self._closed = False
        self._sql_cache: dict[tuple[str, tuple[str, ...], tuple[str, ...]], str] = {}
        self._conn = self._open()

    def _describe(self) -> str:
        return str(self.path) if self.path is not None else ":memory:"

    def _open(self) -> sqlite3.Connection:
        target = ":memory:" if self.path is None else str(self.path)
        if self.read_only:
            conn = self._open_read_only()
            if conn is not None:
                return conn
        if self.path is not None:
            if self.path.is_dir():
                raise ConfigError(f"{self.path}: is a directory, not a database file")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"{self.path}: cannot create its folder ({exc.strerror})") from None
        try:
            conn = sqlite3.connect(
                target, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise ConfigError(f"{target}: cannot open database ({exc})") from None
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if self.path is not None:  # synchronous first: switching a new file to WAL then syncs less
                conn.execute("PRAGMA synchronous = NORMAL")
                _use_wal(conn)
            conn.execute("PRAGMA foreign_keys = ON")
            ensure_schema(conn)
            _check_tables(target, conn)
        except NewerSchema as exc:
            conn.close()
            raise ConfigError(_newer(target, exc)) from None
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise _fault(target, exc, opening=True) from None
        return conn

    def _open_read_only(self) -> sqlite3.Connection | None:
        """A connection that never writes, for the history commands: they then work on a database, and
        in a folder, that this process may not write. None when the database is not at SCHEMA_VERSION
        yet (the caller opens it for writing, to migrate it).

        A WAL database in a read-only folder without its `-shm` file cannot be opened read-only, only as
        immutable (what the last run left unmerged in a `-wal` file is then not seen).
        """
        assert self.path is not None
        target = str(self.path)
        if not self.path.is_file():
            raise ConfigError(f"{target}: no database file here")
        conn: sqlite3.Connection | None = None
        try:
            for mode in ("mode=ro", "immutable=1"):
                uri = f"{self.path.resolve().as_uri()}?{mode}"
                conn = sqlite3.connect(
                    uri,
                    uri=True,
                    timeout=BUSY_TIMEOUT_MS / 1000,
                    isolation_level=None,
                    check_same_thread=False,
                )
                conn.row_factory = sqlite3.Row
                try:
                    version = stored_version(conn)
                    break
                except sqlite3.OperationalError:  # WAL needs a writable `-shm`: try immutable next
                    conn.close()
                    if mode != "mode=ro":
                        raise
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise _fault(target, exc, opening=True) from None
        assert conn is not None
        if version > SCHEMA_VERSION:
            conn.close()
            raise ConfigError(_newer(target, NewerSchema(version)))
        if version < SCHEMA_VERSION:
            conn.close()
            return None
        try:
            _check_tables(target, conn)
        except DatabaseFault:
            conn.close()
            raise
        return conn

    def _execute(self, sql: str, params: Any = (), *, many: bool = False) -> sqlite3.Cursor:
        with self._lock:
            if self._closed:
                raise ConfigError(f"{self._describe()}: database is closed")
            try:
                if many:
                    return self._conn.executemany(sql, params)
                return self._conn.execute(sql, params)
            except sqlite3.DatabaseError as exc:
                raise _fault(self._describe(), exc) from None

    def _insert_sql(self, table: str, columns: tuple[str, ...], key: tuple[str, ...] = ()) -> str:
        """The (cached) INSERT or upsert statement for these identifiers, validated once."""
        cache_key = (table, columns, key)
        sql = self._sql_cache.get(cache_key)
        if sql is not None:
            return sql
        check_identifier(table, "table name")
        if not columns:
            raise ValueError(f"insert into {table}: empty row")
        for column in (*columns, *key):
            check_identifier(column, "column name")
        placeholders = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
        if key:
            if any(k not in columns for k in key):
                raise ValueError(f"upsert into {table}: key columns {list(key)} must be in the row")
            updates = [c for c in columns if c not in key]
            if updates:
                assignments = ", ".join(f"{c} = excluded.{c}" for c in updates)
                sql += f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {assignments}"
            else:
                sql += f" ON CONFLICT ({', '.join(key)}) DO NOTHING"
        if len(self._sql_cache) < 256:
            self._sql_cache[cache_key] = sql
        return sql

    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        sql = self._insert_sql(table, tuple(row))
        self._execute(sql, [encode_value(v) for v in row.values()])

    def insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Consecutive rows with the same columns go to SQLite as one multi-row INSERT (all in one
        transaction): one statement step for many rows, so other threads wait less for the GIL."""
        with self.transaction():
            start = 0
            while start < len(rows):
                columns = tuple(rows[start])
                end = min(len(rows), start + max(1, MAX_VARIABLES // max(1, len(columns))))
                for index in range(start + 1, end):
                    if tuple(rows[index]) != columns:
                        end = index
                        break
                sql = self._insert_sql(table, columns)
                if end - start > 1:
                    values = sql[sql.index(" VALUES ") + 8 :]
                    sql += ", " + ", ".join([values] * (end - start - 1))
                plain = _PLAIN  # most values need no encoding: skip the call for them
                params = [
                    v if type(v) in plain else encode_value(v)
                    for row in rows[start:end]
                    for v in row.values()
                ]
                self._execute(sql, params)
                start = end

    def upsert(self, table: str, row: Mapping[str, Any], key: Sequence[str]) -> None:
        if not key:
            raise ValueError(f"upsert into {table}: no key columns")
        sql = self._insert_sql(table, tuple(row), tuple(key))
        self._execute(sql, [encode_value(v) for v in row.values()])

    def update(self, table: str, values: Mapping[str, Any], where: Mapping[str, Any]) -> int:
        check_identifier(table, "table name")
        if not values:
            return 0
        if not where:
            raise ValueError(f"update of {table} without a where clause")
        sets = ", ".join(f"{check_identifier(c, 'column name')} = ?" for c in values)
        conditions: list[str] = []
        params: list[Any] = [encode_value(v) for v in values.values()]
        for column, value in where.items():
            check_identifier(column, "column name")
            if value is None:
                conditions.append(f"{column} IS NULL")
            else:
                conditions.append(f"{column} = ?")
                params.append(encode_value(value))
        cursor = self._execute(f"UPDATE {table} SET {sets} WHERE {' AND '.join(conditions)}", params)
        return cursor.rowcount

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self._execute(sql, params)
            return [dict(row) for row in cursor.fetchall()]

    def create_table(self, name: str, columns: Mapping[str, str]) -> None:
        check_identifier(name, "table name")
        if not columns:
            raise ValueError(f"create_table {name}: no columns")
        parts = [
            f"{check_identifier(c, 'column name')} {_check_column_type(c, t)}" for c, t in columns.items()
        ]
        self._execute(f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(parts)})")

    def tables(self) -> list[str]:
        """Names of the user-visible tables, sorted."""
        rows = self.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        return [r["name"] for r in rows]

    @contextmanager
    def transaction(self) -> Iterator[SqliteData]:
        """Hold the lock and one write transaction; commit on success, roll back on any exception."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer and self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def __enter__(self) -> SqliteData:
        return self
