"""The built-in `sqlite` history: runs kept in the project's SQLite database, through `SqliteData`."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gryt.histories import Write
from gryt.histories.sql import SqlHistory

if TYPE_CHECKING:
    from gryt.data import Data


class SqliteHistory(SqlHistory):
    """The run history in a SQLite database (`SqliteData`, whose schema is `gryt.schema`'s).

    Wraps a `Data` store that the caller may keep using (a pipeline's `data`); `owned` closes it with
    the history. URLs: `sqlite:///absolute/path.db`, `sqlite:relative/path.db`, `sqlite::memory:`.
    """

    name = "sqlite"

    def __init__(self, data: Data, *, owned: bool = False) -> None:
        self.data = data
        self.owned = owned
        self.label = str(data.path) if data.path is not None else ":memory:"

    @classmethod
    def connect(cls, url: str, *, read_only: bool = False, password: str | None = None) -> SqliteHistory:
        from gryt.data import SqliteData

        target = url.removeprefix(f"{cls.name}:")
        if target.startswith("//"):
            target = target[2:]
        path = Path(target).expanduser()
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        return cls(SqliteData(path, read_only=read_only), owned=True)

    def write(self, batch: Sequence[Write], batch_id: str | None = None) -> None:
        """Apply `batch` in one transaction; consecutive inserts into one table go in one statement."""
        data = self.data
        with data.transaction():
            for table, group in groupby(batch, key=lambda w: w.table if w.action == "insert" else None):
                if table is not None:
                    data.insert_many(table, [write.row for write in group])
                else:
                    for write in group:
                        self._apply(write)

    def _apply(self, write: Write) -> None:
        data, row = self.data, write.row
        where = {column: row[column] for column in write.key}
        if write.action == "upsert" and write.update is None:
            data.upsert(write.table, row, write.key)
        elif write.action == "upsert":
            values = {column: row[column] for column in write.update or ()}
            if not data.update(write.table, values, where):
                data.insert(write.table, row)
        elif write.action == "update":
            data.update(write.table, {k: v for k, v in row.items() if k not in where}, where)
        else:
            data.insert(write.table, row)

    def as_data(self) -> Data:
        return self.data

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return self.data.query(sql, params)

    def schema_version(self) -> int:
        from gryt.schema import schema_version

        return schema_version(self.data)

    def close(self) -> None:
        if self.owned:
            self.data.close()
