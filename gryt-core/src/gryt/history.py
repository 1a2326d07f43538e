"""Run history: the one module that knows how runs, runners, steps and auth attempts are stored.

The pipeline records through a `Recorder` as the run goes (so a crash leaves a readable run marked
`running`); the CLI reads back with `list_runs()` and `get_run()`. Values handed in are already masked.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gryt.data import Data

RUN_STATUSES = ("running", "success", "error", "invalid_env", "auth_failed", "interrupted")


def now_iso() -> str:
    """UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`: sortable as text, parseable by SQLite's date functions."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def _decode(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
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


def _run_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """A `pipelines` row for callers: `run_id` alias, decoded config, and whether it was abandoned."""
    view = dict(row)
    view["run_id"] = view["pipeline_id"]
    view["config"] = _decode(view.pop("config_json", None))
    for key in ("issues", "destinations", "warnings"):
        view[key] = _decode(view.pop(f"{key}_json", None))
    abandoned = False
    if view.get("status") == "running" and view.get("pid") and view.get("host") == socket.gethostname():
        abandoned = not _pid_alive(int(view["pid"]))
    view["abandoned"] = abandoned
    return view


class Recorder:
    """Writes one run's progress to a Data store; every method is a no-op without a store.

    With `background=True`, step, runner and auth rows are written by one writer thread in call order
    while the next command already runs (timestamps are taken at call time). `run_started` writes at
    once; `run_finished` and `close()` wait until every queued row is written. Write errors become
    `errors` (one line each) instead of failing the run.
    """

    def __init__(self, data: Data | None, *, background: bool = False) -> None:
        self.data = data
        self.errors: list[str] = []
        self._background = background and data is not None
        self._queue: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None

    def _write(self, fn: Callable[..., Any], *args: Any) -> None:
        if not self._background:
            fn(*args)
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, name="gryt-recorder", daemon=True)
            self._thread.start()
        self._queue.put((fn, args))

    def _drain(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, args = item
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - reported through `errors`, the run goes on
                self.errors.append(f"could not record to {getattr(self.data, 'path', None)}: {exc}")

    def close(self) -> None:
        """Wait until every queued row is written and stop the writer thread."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def run_started(self, run_id: str, name: str | None, config: Mapping[str, Any] | None = None) -> None:
        if self.data is None:
            return
        self.data.insert(
            "pipelines",
            {
                "pipeline_id": run_id,
                "name": name,
                "start_timestamp": now_iso(),
                "status": "running",
                "config_json": dict(config or {}),
                "pid": os.getpid(),
                "host": socket.gethostname(),
            },
        )

    def run_finished(
        self,
        run_id: str,
        status: str,
        *,
        duration: float | None = None,
        error: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Close the run row after every queued row is written.

        `extra` may carry `issues`, `destinations`, `warnings` (stored as JSON) and `config` (replaces
        `config_json`, e.g. re-masked with secrets declared during the run).
        """
        if self.data is None:
            return
        end = now_iso()
        self.close()
        values: dict[str, Any] = {
            "status": status,
            "end_timestamp": end,
            "duration": duration,
            "error": error,
        }
        for key, value in (extra or {}).items():
            if key in ("issues", "destinations", "warnings", "config"):
                values[f"{key}_json"] = json.dumps(value, default=str, ensure_ascii=False)
        self.data.update("pipelines", values, {"pipeline_id": run_id})

    def runner_started(
        self, run_id: str, runner_id: str, name: str | None = None, needs: Iterable[str] = ()
    ) -> None:
        if self.data is None:
            return
        self._write(
            self.data.upsert,
            "runners",
            {
                "pipeline_id": run_id,
                "runner_id": runner_id,
                "name": name or runner_id,
                "status": "running",
                "start_timestamp": now_iso(),
                "needs_json": list(needs),
            },
            ("pipeline_id", "runner_id"),
        )

    def runner_finished(
        self,
        run_id: str,
        runner_id: str,
        status: str,
        *,
        duration: float | None = None,
        name: str | None = None,
        needs: Iterable[str] = (),
    ) -> None:
        """Close a runner's row; creates it for runners that never started (skipped or interrupted)."""
        if self.data is None:
            return
        data = self.data
        values: dict[str, Any] = {"status": status, "end_timestamp": now_iso(), "duration": duration}
        row: dict[str, Any] = {"pipeline_id": run_id, "runner_id": runner_id, "name": name or runner_id}
        row.update(values, needs_json=list(needs))

        def write() -> None:
            with data.transaction():
                if not data.update("runners", values, {"pipeline_id": run_id, "runner_id": runner_id}):
                    data.insert("runners", row)

        self._write(write)

    def step_finished(
        self,
        run_id: str,
        runner_id: str | None,
        step_id: str,
        step_type: str,
        result: Mapping[str, Any],
        *,
        start_timestamp: str | None = None,
        log_path: str | None = None,
    ) -> None:
        """Append the execution to `step_runs`; the `step_runs_latest` trigger upserts `steps_output`
        in the same statement, so both change atomically."""
        if self.data is None:
            return
        end = now_iso()
        self._write(
            self.data.insert,
            "step_runs",
            {
                "pipeline_id": run_id,
                "runner_id": runner_id,
                "step_id": step_id,
                "name": step_type,
                "status": str(result.get("status", "error")),
                "returncode": result.get("returncode"),
                "attempts": result.get("attempts"),
                "timed_out": 1 if result.get("timed_out") else 0,
                "duration": result.get("duration"),
                "start_timestamp": start_timestamp or end,
                "end_timestamp": end,
                "output_json": json.dumps(result, default=str, ensure_ascii=False),
                "log_path": log_path,
            },
        )

    def auth_finished(
        self,
        run_id: str,
        auth_id: str,
        auth_type: str,
        result: Mapping[str, Any],
        *,
        duration: float | None = None,
        start_timestamp: str | None = None,
    ) -> None:
        """Append the attempt to `auth_runs`; the `auth_runs_latest` trigger upserts `auth_output`."""
        if self.data is None:
            return
        end = now_iso()
        self._write(
            self.data.insert,
            "auth_runs",
            {
                "pipeline_id": run_id,
                "auth_id": auth_id,
                "name": auth_type,
                "status": str(result.get("status", "error")),
                "duration": duration,
                "start_timestamp": start_timestamp or end,
                "end_timestamp": end,
                "output_json": json.dumps(dict(result), default=str, ensure_ascii=False),
            },
        )

    def list_runs(self, limit: int = 20, pipeline: str | None = None) -> list[dict[str, Any]]:
        return list_runs(self.data, limit=limit, pipeline=pipeline) if self.data is not None else []

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        return get_run(self.data, run_id) if self.data is not None else None


def list_runs(data: Data, limit: int = 20, pipeline: str | None = None) -> list[dict[str, Any]]:
    """The latest runs first (at most `limit`; 0 or less means all), optionally of one pipeline name.

    Each dict is a `pipelines` row plus `run_id`, decoded `config` and `abandoned` (status `running`
    but its process, on this host, is gone).
    """
    sql = "SELECT * FROM pipelines"
    params: list[Any] = []
    if pipeline is not None:
        sql += " WHERE name = ?"
        params.append(pipeline)
    sql += " ORDER BY start_timestamp DESC, pipeline_id DESC"
    if limit > 0:
        sql += " LIMIT ?"
        params.append(limit)
    return [_run_view(row) for row in data.query(sql, params)]


def get_run(data: Data, run_id: str) -> dict[str, Any] | None:
    """One run with its runners, steps and auth attempts (outputs decoded), or None.

    `run_id` may be a unique prefix of a run id.
    """
    rows = data.query("SELECT * FROM pipelines WHERE pipeline_id = ?", (run_id,))
    if not rows and run_id:
        escaped = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = data.query(
            "SELECT * FROM pipelines WHERE pipeline_id LIKE ? ESCAPE '\\' LIMIT 2", (escaped + "%",)
        )
        if len(rows) != 1:
            return None
    run = _run_view(rows[0])
    key = (run["pipeline_id"],)
    runners = data.query("SELECT * FROM runners WHERE pipeline_id = ? ORDER BY start_timestamp, rowid", key)
    for runner in runners:
        runner["needs"] = _decode(runner.pop("needs_json", None)) or []
    steps = data.query("SELECT * FROM step_runs WHERE pipeline_id = ? ORDER BY id", key)
    for step in steps:
        step["output"] = _decode(step.pop("output_json", None))
        step["timed_out"] = bool(step.get("timed_out"))
    auth = data.query("SELECT * FROM auth_runs WHERE pipeline_id = ? ORDER BY id", key)
    for attempt in auth:
        attempt["output"] = _decode(attempt.pop("output_json", None))
    run["runners"] = runners
    run["steps"] = steps
    run["auth"] = auth
    return run
