"""`PostgresData`: the history database seen through gryt's `Data` API, for code written against it
(`gryt db merge` writes the runs it merges this way). Queries use SQLite's `?` placeholders and `IS ?`
(matching NULL too); both are translated to PostgreSQL's. `statement` and `parameters` turn a history
`Write` into SQL: `PostgresHistory.write` and this store's inserts share them."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from gryt.data import Data, check_identifier, encode_value
from gryt.histories import Write

if TYPE_CHECKING:
    import psycopg

_IS_PARAM = re.compile(r"\bIS \?")


def translate(sql: str) -> str:
    """`sql` with `IS ?` as `IS NOT DISTINCT FROM %s` and the other `?` as `%s` (a literal `%` doubled)."""
    return _IS_PARAM.sub("IS NOT DISTINCT FROM ?", sql).replace("%", "%%").replace("?", "%s")


class PostgresData(Data):
    """A `Data` store on an open psycopg connection (autocommit, so each call outside `transaction()`
    commits alone). The connection stays the caller's: `close()` leaves it open."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        self._apply(Write("insert", table, row))

    def upsert(self, table: str, row: Mapping[str, Any], key: Sequence[str]) -> None:
        self._apply(Write("upsert", table, row, tuple(key)))

    def _apply(self, write: Write) -> None:
        self.conn.execute(statement(write), parameters(write))

    def update(self, table: str, values: Mapping[str, Any], where: Mapping[str, Any]) -> int:
        if not values:
            return 0
        if not where:
            raise ValueError(f"update of {table} without a where clause")
        sets = ", ".join(f"{check_identifier(c, 'column name')} = %s" for c in values)
        conditions = " AND ".join(
            f"{check_identifier(c, 'column name')} IS NOT DISTINCT FROM %s" for c in where
        )
        params = [encode_value(v) for v in (*values.values(), *where.values())]
        cursor = self.conn.execute(
            f"UPDATE {check_identifier(table, 'table name')} SET {sets} WHERE {conditions}", params
        )
        return cursor.rowcount

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(translate(sql), list(params) if not isinstance(params, Mapping) else params)
            return list(cur.fetchall()) if cur.description is not None else []

    def create_table(self, name: str, columns: Mapping[str, str]) -> None:
        declared = ", ".join(f"{check_identifier(c, 'column name')} {t}" for c, t in columns.items())
        self.conn.execute(f"CREATE TABLE IF NOT EXISTS {check_identifier(name, 'table name')} ({declared})")

    @contextmanager
    def transaction(self) -> Iterator[PostgresData]:
        with self.conn.transaction():
            yield self

    def close(self) -> None:
        """Nothing to release: the connection belongs to the `PostgresHistory` that made this store."""


def statement(write: Write) -> str:
    """The SQL of `write` with `%s` placeholders, columns in the row's order; names checked."""
    table = check_identifier(write.table, "table name")
    columns = [check_identifier(column, "column name") for column in write.row]
    if write.action == "update":
        keys = set(write.key)
        assignments = ", ".join(f"{column} = %s" for column in columns if column not in keys)
        where = " AND ".join(f"{check_identifier(column, 'column name')} = %s" for column in write.key)
        return f"UPDATE {table} SET {assignments} WHERE {where}"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    if write.action == "upsert":
        key = [check_identifier(column, "column name") for column in write.key]
        updated = write.update if write.update is not None else [c for c in columns if c not in key]
        sets = ", ".join(f"{check_identifier(c, 'column name')} = EXCLUDED.{c}" for c in updated)
        sql += f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}"
    return sql


def parameters(write: Write) -> list[Any]:
    """The values `statement(write)` binds, encoded as the SQLite history stores them."""
    row = write.row
    if write.action == "update":
        keys = set(write.key)
        return [encode_value(v) for c, v in row.items() if c not in keys] + [
            encode_value(row[c]) for c in write.key
        ]
    return [encode_value(value) for value in row.values()]
