"""A run-history database file as an older gryt left it, for the migration tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gryt.schema import MIGRATIONS, _apply


def database_at(path: Path, version: int) -> sqlite3.Connection:
    """A new database at `path` with the schema of `version` (its first `version` migrations, and the
    version recorded), open in autocommit mode for the caller to add rows and close."""
    conn = sqlite3.connect(path, isolation_level=None)
    _apply(conn, MIGRATIONS[:version])
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (?)", (version,))
    return conn
