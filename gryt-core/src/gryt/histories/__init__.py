"""History backends: where the run history (runs, runners, steps, auth, destinations, warnings) is kept.

A backend is a `History` subclass registered through the `gryt_register_histories` hook; its type name is
the URL scheme that selects it (`history = "postgresql://..."`). The built-in `sqlite` backend keeps the
history in the project's SQLite database (`db`), the default. The `Recorder` (`gryt.history`) hands a
backend batches of `Write`s; the history commands read through it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from gryt.errors import ConfigError

if TYPE_CHECKING:
    from gryt.data import Data


class Unreachable(ConfigError):
    """The history server cannot be reached (refused, timed out, unknown host): the one error after which
    `history_fallback = "local"` uses the local database instead."""


Action = Literal["insert", "upsert", "update"]


@dataclass(frozen=True)
class Write:
    """One row change a backend applies: `insert` the row; `upsert` it (on a clash of the `key` columns,
    set the `update` columns, or every other column when `update` is None); or `update` the row whose
    `key` columns match with the row's other columns. Dict and list values are stored as JSON text."""

    action: Action
    table: str
    row: Mapping[str, Any]
    key: tuple[str, ...] = ()
    update: tuple[str, ...] | None = None


class History(ABC):
    """A run-history backend: opens its store (bringing the schema to its version), writes batches of
    rows in one transaction each, and reads runs back in the shapes `gryt runs --json` prints.

    Subclasses set `name` (the URL scheme) and implement `connect` and the abstract methods. Values they
    receive are already masked.
    """

    name: ClassVar[str] = ""
    """The type name, and the URL scheme that selects this backend."""

    label: str = ""
    """Where the history is, for messages: a file path, or a URL without its password."""
    secret_variables: tuple[str, ...] = ()
    """Environment variables holding the backend's credentials (`PGPASSWORD`): a run masks their values,
    so a step that prints its environment cannot put them in the history."""
    spool: Path | None = None
    """Folder where a run keeps the rows it could not send (`is_lost`), for `gryt db sync`; None: none."""

    @classmethod
    @abstractmethod
    def connect(cls, url: str, *, read_only: bool = False, password: str | None = None) -> History:
        """Open the history at `url` and bring its schema to this version (a reader of a current schema
        writes nothing).

        Raises ConfigError (one line) when it cannot: `Unreachable`, refused, a newer schema, no right
        to write (unless `read_only`). `password` comes from a secret environment variable, never a file.
        """

    @abstractmethod
    def write(self, batch: Sequence[Write], batch_id: str | None = None) -> None:
        """Apply `batch` in one transaction. A backend that may lose its server keeps `batch_id` with the
        rows, so a batch sent again (`gryt db sync`) is applied once."""

    def is_lost(self, exc: Exception) -> bool:
        """True when `exc` means the store went away (rows are then spooled, not reported as failed)."""
        return False

    @abstractmethod
    def list_runs(self, limit: int = 20, pipeline: str | None = None) -> list[dict[str, Any]]:
        """The latest runs first (at most `limit`; 0 or less: all), optionally of one pipeline name.

        Each dict is a `pipelines` row plus `run_id`, decoded `config`, `issues`, `destinations`,
        `warnings`, and `abandoned` (status `running` but its process, on this host, is gone).
        """

    @abstractmethod
    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """One run (as in `list_runs`) with `runners`, `steps`, `auth` and `destination_runs`, or None.

        `run_id` may be a unique prefix of a run id.
        """

    @abstractmethod
    def find_runs(self, given: str, limit: int) -> list[str]:
        """Run ids equal to `given` (only that one when there is one), else starting or ending with it,
        newest first, at most `limit`."""

    def step_trend(self, pipeline: str, last: int) -> list[dict[str, Any]]:
        """The last `last` runs of `pipeline`, oldest first (as in `list_runs`), each with `steps`: its
        step executions' `runner_id`, `step_id`, `status` and `duration`, without output."""
        runs = self.list_runs(last, pipeline)[::-1]
        for run in runs:
            full = self.get_run(str(run["run_id"]))
            run["steps"] = [
                {key: step.get(key) for key in ("pipeline_id", "runner_id", "step_id", "status", "duration")}
                for step in (full or {}).get("steps", [])
            ]
        return runs

    def as_data(self) -> Data | None:
        """The store through the `Data` API (SQL in SQLite's dialect), for `gryt db merge`; None when the
        backend offers none."""
        return None

    @abstractmethod
    def schema_version(self) -> int:
        """The schema version the store is at."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection; rows written before are kept."""
