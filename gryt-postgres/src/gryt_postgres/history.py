"""`PostgresHistory`: the run history in a PostgreSQL database shared by every machine of a team.

Selected by `history = "postgresql://user@host/db"` (or `GRYT_HISTORY_URL`). The password comes only from
libpq's own means (PGPASSWORD, a .pgpass file) or the variable `history_password_env` names; it is never
stored or shown. Rows are written in batches (one transaction each, inserts of one table in one
`executemany`); each batch's id is kept in `history_batches`, so a batch sent again by `gryt db sync`
after a lost connection is applied once.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import TYPE_CHECKING, Any

from gryt.errors import ConfigError
from gryt.histories import Unreachable, Write
from gryt.histories.sql import SqlHistory
from gryt_postgres.data import parameters, statement
from gryt_postgres.schema import SCHEMA_VERSION, ensure_schema, missing_rights, stored_version

if TYPE_CHECKING:
    import psycopg

    from gryt.data import Data

CONNECT_TIMEOUT = 10
"""Seconds to wait for the server at the start of a command before it counts as unreachable."""


SESSION_OPTIONS = "-c synchronous_commit=off"
"""A commit returns before the server flushes it to disk: the durability of gryt's SQLite history
(WAL with synchronous=NORMAL), where a machine crash may lose the last moment of a run but never
corrupts it. Each batch stays atomic."""


def _one_line(exc: BaseException, password: str | None) -> str:
    """psycopg's message on one line, without the password should the server ever echo it."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.replace(password, "***") if password else text


class PostgresHistory(SqlHistory):
    """The run history in PostgreSQL (psycopg 3), with the tables and columns of the SQLite history."""

    name = "postgresql"
    runner_order = "seq"
    hidden = frozenset({"seq"})
    secret_variables = ("PGPASSWORD",)

    def __init__(self, conn: psycopg.Connection[Any], label: str) -> None:
        self.conn = conn
        self.label = label

    @classmethod
    def connect(cls, url: str, *, read_only: bool = False, password: str | None = None) -> PostgresHistory:
        import psycopg

        extra: dict[str, Any] = {"password": password} if password else {}
        try:
            conn = psycopg.connect(
                url,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT,
                application_name="gryt",
                options=SESSION_OPTIONS,
                **extra,
            )
        except psycopg.OperationalError as exc:
            message = f"history {url}: cannot connect: {_one_line(exc, password)}"
            # a server that answered (a wrong password, no such database) is reachable: no fallback then
            raise (ConfigError(message) if exc.sqlstate else Unreachable(message)) from None
        except psycopg.ProgrammingError as exc:
            conn_error = f"history {url}: {_one_line(exc, password)}"
            raise ConfigError(conn_error) from None
        history = cls(conn, url)
        try:
            history._prepare(read_only)
        except BaseException:
            conn.close()
            raise
        return history

    def _prepare(self, read_only: bool) -> None:
        """Bring the schema to this version (a reader of an up-to-date database writes nothing) and, for a
        writer, check that its role may write the history."""
        import psycopg

        try:
            if read_only and stored_version(self.conn) == SCHEMA_VERSION:
                return
            ensure_schema(self.conn, self.label)
            missing = [] if read_only else missing_rights(self.conn)
        except psycopg.Error as exc:
            raise ConfigError(
                f"history {self.label}: cannot prepare the schema: {_one_line(exc, None)}"
            ) from None
        if missing:
            user = self.conn.info.user
            raise ConfigError(
                f"history {self.label}: role {user!r} may not write the run history (missing {', '.join(missing)});"
                " grant it, or use the role only for `gryt runs`"
            )

    def write(self, batch: Sequence[Write], batch_id: str | None = None) -> None:
        with self.conn.transaction(), self.conn.cursor() as cur:
            if batch_id is not None:
                cur.execute(
                    "INSERT INTO history_batches (batch_id) VALUES (%s) ON CONFLICT DO NOTHING", (batch_id,)
                )
                if cur.rowcount == 0:
                    return
            for _, group in groupby(batch, key=lambda w: (w.action, w.table, tuple(w.row), w.key, w.update)):
                writes = list(group)
                cur.executemany(statement(writes[0]), [parameters(write) for write in writes])

    def is_lost(self, exc: Exception) -> bool:
        import psycopg

        return isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)) or self.conn.broken

    def as_data(self) -> Data:
        from gryt_postgres.data import PostgresData

        return PostgresData(self.conn)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql.replace("?", "%s"), list(params))
            return list(cur.fetchall())

    def schema_version(self) -> int:
        return stored_version(self.conn)

    def close(self) -> None:
        self.conn.close()
