"""Rows a run could not send to its lost history server, kept in a local file until `gryt db sync` sends them.

One file per run (`.gryt/spool/<id>.jsonl`), one line per batch: its id and its writes, in the order the
run made them. A batch is sent with its id, so a backend that already has it (the connection broke after
the commit) applies it once.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gryt.data import encode_value
from gryt.errors import ConfigError
from gryt.histories import Write

if TYPE_CHECKING:
    from gryt.histories import History

SPOOL_DIR = "spool"
"""The spool folder's name, next to the project's local database (`.gryt/spool`)."""


def _as_list(write: Write) -> list[Any]:
    """`write` as one JSON list, its values encoded as the SQLite history stores them."""
    row = {name: encode_value(value) for name, value in write.row.items()}
    update = None if write.update is None else list(write.update)
    return [write.action, write.table, row, list(write.key), update]


def _from_list(item: Sequence[Any]) -> Write:
    """The `Write` that `_as_list` wrote."""
    action, table, row, key, update = item
    return Write(action, table, dict(row), tuple(key), None if update is None else tuple(update))


class Spool:
    """The spool file of one run: batches appended and flushed to disk as they come."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / f"{uuid.uuid4().hex}.jsonl"

    def add(self, batch: Sequence[Write], batch_id: str) -> None:
        """Append `batch`; on disk (fsync'd) when this returns."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"batch": batch_id, "writes": [_as_list(write) for write in batch]}, default=str)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())


def pending(folder: Path) -> list[Path]:
    """The spool files waiting in `folder`, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.jsonl"), key=lambda path: path.stat().st_mtime)


def send(history: History, path: Path) -> int:
    """Write every batch of the spool file at `path` to `history` in order, then remove the file.

    Returns the number of batches sent. A line that is not a batch (a file cut short by a crash) is a
    ConfigError naming the file and line; then nothing is sent and the file stays.
    """
    batches: list[tuple[str, list[Write]]] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            try:
                entry = json.loads(line)
                batches.append((str(entry["batch"]), [_from_list(item) for item in entry["writes"]]))
            except (ValueError, KeyError, TypeError) as exc:  # a line cut short, or not written by gryt
                raise ConfigError(
                    f"{path}:{number}: not a spooled batch ({exc}); move the file aside"
                ) from None
    for batch_id, writes in batches:
        history.write(writes, batch_id)
    path.unlink()
    return len(batches)
