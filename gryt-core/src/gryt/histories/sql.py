"""Reading runs back with SQL that SQLite and PostgreSQL both understand: one query set for every SQL backend.

A backend supplies `_query` (rows as dicts, `?` placeholders) and the column that orders runners as they
were recorded; the views built here are what `gryt runs list/show --json` print on every backend.
"""

from __future__ import annotations

import json
import os
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from gryt.histories import History
from gryt.status import RUNNING


def decode(text: Any) -> Any:
    """A `*_json` column decoded; text that is not JSON (or nested too deeply) is returned as stored."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
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


def run_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """A `pipelines` row for callers: `run_id` alias, decoded config, and whether it was abandoned."""
    view = dict(row)
    view["run_id"] = view["pipeline_id"]
    view["config"] = decode(view.pop("config_json", None))
    for key in ("issues", "destinations", "warnings"):
        view[key] = decode(view.pop(f"{key}_json", None))
    abandoned = False
    if view.get("status") == RUNNING and view.get("pid") and view.get("host") == os.uname().nodename:
        abandoned = not _pid_alive(int(view["pid"]))
    view["abandoned"] = abandoned
    return view


def like_escaped(text: str) -> str:
    """`text` with LIKE's wildcards escaped (for `LIKE ? ESCAPE '\\'`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlHistory(History):
    """The readers of every SQL backend; subclasses run the queries and write the rows."""

    runner_order = "rowid"
    """The column that orders a run's runners as they were recorded (after their start time)."""
    hidden: frozenset[str] = frozenset()
    """Columns a backend keeps for itself, left out of the rows it returns."""

    @abstractmethod
    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of `sql` (with `?` placeholders) as dicts."""

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        rows = self._query(sql, params)
        if self.hidden:
            rows = [{k: v for k, v in row.items() if k not in self.hidden} for row in rows]
        return rows

    def list_runs(self, limit: int = 20, pipeline: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM pipelines"
        params: list[Any] = []
        if pipeline is not None:
            sql += " WHERE name = ?"
            params.append(pipeline)
        sql += " ORDER BY start_timestamp DESC, pipeline_id DESC"
        if limit > 0:
            sql += " LIMIT ?"
            params.append(limit)
        return [run_view(row) for row in self._rows(sql, params)]

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM pipelines WHERE pipeline_id = ?", (run_id,))
        if not rows and run_id:
            rows = self._rows(
                "SELECT * FROM pipelines WHERE pipeline_id LIKE ? ESCAPE '\\' LIMIT 2",
                (like_escaped(run_id) + "%",),
            )
            if len(rows) != 1:
                return None
        run = run_view(rows[0])
        key = (run["pipeline_id"],)
        runners = self._rows(
            f"SELECT * FROM runners WHERE pipeline_id = ? ORDER BY start_timestamp NULLS FIRST, {self.runner_order}",
            key,
        )
        for runner in runners:
            runner["needs"] = decode(runner.pop("needs_json", None)) or []
        steps = self._rows("SELECT * FROM step_runs WHERE pipeline_id = ? ORDER BY id", key)
        for step in steps:
            step["output"] = decode(step.pop("output_json", None))
            step["timed_out"] = bool(step.get("timed_out"))
        auth = self._rows("SELECT * FROM auth_runs WHERE pipeline_id = ? ORDER BY id", key)
        for attempt in auth:
            attempt["output"] = decode(attempt.pop("output_json", None))
        deliveries = self._rows("SELECT * FROM destination_runs WHERE pipeline_id = ? ORDER BY id", key)
        for delivery in deliveries:
            delivery["details"] = decode(delivery.pop("details_json", None))
        run["runners"] = runners
        run["steps"] = steps
        run["auth"] = auth
        run["destination_runs"] = deliveries
        return run

    def step_trend(self, pipeline: str, last: int) -> list[dict[str, Any]]:
        runs = self.list_runs(last, pipeline)[::-1]
        by_id = {str(run["run_id"]): run for run in runs}
        for run in runs:
            run["steps"] = []
        if runs:
            marks = ", ".join("?" * len(runs))
            sql = "SELECT pipeline_id, runner_id, step_id, status, duration FROM step_runs"
            for row in self._rows(f"{sql} WHERE pipeline_id IN ({marks}) ORDER BY id", list(by_id)):
                by_id[str(row["pipeline_id"])]["steps"].append(row)
        return runs

    def find_runs(self, given: str, limit: int) -> list[str]:
        if self._query("SELECT pipeline_id FROM pipelines WHERE pipeline_id = ?", (given,)):
            return [given]
        escaped = like_escaped(given)
        rows = self._query(
            "SELECT pipeline_id FROM pipelines"
            " WHERE pipeline_id LIKE ? ESCAPE '\\' OR pipeline_id LIKE ? ESCAPE '\\'"
            " ORDER BY start_timestamp DESC, pipeline_id DESC LIMIT ?",
            (escaped + "%", "%" + escaped, limit),
        )
        return [str(row["pipeline_id"]) for row in rows]
