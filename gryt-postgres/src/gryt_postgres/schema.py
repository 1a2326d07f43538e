"""The run-history schema in PostgreSQL: the tables of gryt's SQLite history (same columns, same order),
their forward migrations and the schema version, applied under an advisory lock so concurrent runs
creating one database do it once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gryt.errors import ConfigError

if TYPE_CHECKING:
    import psycopg

# Forward migrations: index i brings a database from schema version i to i + 1. Never edit a released
# entry; append a new one.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE pipelines (
            pipeline_id TEXT COLLATE "C" PRIMARY KEY,
            name TEXT COLLATE "C",
            start_timestamp TEXT COLLATE "C",
            end_timestamp TEXT,
            status TEXT,
            config_json TEXT,
            pid INTEGER,
            host TEXT,
            duration DOUBLE PRECISION,
            error TEXT,
            issues_json TEXT,
            destinations_json TEXT,
            warnings_json TEXT,
            continues_run_id TEXT
        )""",
        """CREATE TABLE runners (
            runner_id TEXT NOT NULL,
            pipeline_id TEXT COLLATE "C" NOT NULL,
            name TEXT,
            status TEXT,
            start_timestamp TEXT COLLATE "C",
            end_timestamp TEXT,
            duration DOUBLE PRECISION,
            needs_json TEXT,
            seq BIGSERIAL,
            PRIMARY KEY (pipeline_id, runner_id)
        )""",
        """CREATE TABLE step_runs (
            id BIGSERIAL PRIMARY KEY,
            pipeline_id TEXT COLLATE "C" NOT NULL,
            runner_id TEXT,
            step_id TEXT NOT NULL,
            name TEXT,
            status TEXT,
            returncode INTEGER,
            attempts INTEGER,
            timed_out INTEGER,
            duration DOUBLE PRECISION,
            start_timestamp TEXT,
            end_timestamp TEXT,
            output_json TEXT,
            log_path TEXT
        )""",
        """CREATE TABLE auth_runs (
            id BIGSERIAL PRIMARY KEY,
            pipeline_id TEXT COLLATE "C" NOT NULL,
            auth_id TEXT NOT NULL,
            name TEXT,
            status TEXT,
            duration DOUBLE PRECISION,
            start_timestamp TEXT,
            end_timestamp TEXT,
            output_json TEXT
        )""",
        """CREATE TABLE destination_runs (
            id BIGSERIAL PRIMARY KEY,
            pipeline_id TEXT COLLATE "C" NOT NULL,
            destination_id TEXT NOT NULL,
            name TEXT,
            artifact TEXT,
            status TEXT,
            details_json TEXT,
            error TEXT,
            start_timestamp TEXT,
            end_timestamp TEXT,
            duration DOUBLE PRECISION,
            log_path TEXT
        )""",
        """CREATE TABLE versions (
            id BIGSERIAL PRIMARY KEY,
            version TEXT NOT NULL,
            tag TEXT,
            commit_sha TEXT,
            message TEXT,
            timestamp TEXT,
            pipeline_id TEXT
        )""",
        """CREATE TABLE history_batches (
            batch_id TEXT PRIMARY KEY,
            written_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""",
        "CREATE INDEX idx_pipelines_start ON pipelines (start_timestamp, pipeline_id)",
        "CREATE INDEX idx_pipelines_name_start ON pipelines (name, start_timestamp, pipeline_id)",
        "CREATE INDEX idx_pipelines_id_pattern ON pipelines (pipeline_id text_pattern_ops)",
        "CREATE INDEX idx_runners_pipeline ON runners (pipeline_id, start_timestamp)",
        "CREATE INDEX idx_step_runs_pipeline ON step_runs (pipeline_id, id)",
        "CREATE INDEX idx_auth_runs_pipeline ON auth_runs (pipeline_id, id)",
        "CREATE INDEX idx_destination_runs_pipeline ON destination_runs (pipeline_id, id)",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)

WRITTEN_TABLES = ("pipelines", "runners", "step_runs", "auth_runs", "destination_runs", "history_batches")
"""The tables a run writes (INSERT and UPDATE)."""
SEQUENCES = (("runners", "seq"), ("step_runs", "id"), ("auth_runs", "id"), ("destination_runs", "id"))
"""The serial columns whose sequences a run's inserts use."""

_LOCK = 0x67727974
"""The advisory lock key ("gryt") held while the schema is checked and migrated."""


def stored_version(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """The schema version recorded in the database (0 when it has none yet)."""
    row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return 0
    found = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(str(found[0])) if found is not None and found[0] is not None else 0


def newer(label: str, version: int) -> ConfigError:
    """The error for a database written by a newer gryt-postgres: this one would not know its rows."""
    return ConfigError(
        f"history {label}: schema version {version}, newer than this gryt-postgres's {SCHEMA_VERSION};"
        " upgrade gryt-postgres to use it"
    )


def ensure_schema(conn: psycopg.Connection[tuple[object, ...]], label: str) -> None:
    """Bring the database to SCHEMA_VERSION in one transaction, under the advisory lock; a newer one is
    a ConfigError and stays untouched."""
    version = stored_version(conn)
    if version > SCHEMA_VERSION:
        raise newer(label, version)
    if version == SCHEMA_VERSION:
        return
    # The lock is taken before the transaction begins: a transaction started after another one committed
    # the tables sees them, while one that waited for the lock inside could still find them missing.
    conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK,))
    try:
        with conn.transaction():
            version = stored_version(conn)
            if version > SCHEMA_VERSION:
                raise newer(label, version)
            if version == 0:
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            for migration in MIGRATIONS[version:]:
                for statement in migration:
                    conn.execute(statement)
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION,))
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK,))


def missing_rights(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    """What the connected role may not do that a run needs (`INSERT ON pipelines`, ...), in one query."""
    checks: list[tuple[str, str, tuple[str, str]]] = []
    for table in WRITTEN_TABLES:
        for right in ("INSERT", "UPDATE") if table != "history_batches" else ("INSERT",):
            checks.append((f"{right} ON {table}", "has_table_privilege(%s, %s)", (table, right)))
    for table, column in SEQUENCES:
        checks.append(
            (
                f"USAGE ON the sequence of {table}.{column}",
                "has_sequence_privilege(pg_get_serial_sequence(%s, %s), 'USAGE')",
                (table, column),
            )
        )
    sql = "SELECT " + ", ".join(expression for _, expression, _ in checks)
    row = conn.execute(sql, [value for _, _, params in checks for value in params]).fetchone()
    granted = list(row) if row is not None else []
    return [what for (what, _, _), ok in zip(checks, granted, strict=False) if not ok]
