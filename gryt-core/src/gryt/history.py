"""Run history: the one module that knows how runs, runners, steps and auth attempts are stored.

The tables and their forward migrations are `gryt.schema`'s (`SqliteData` applies them whenever it opens a
database); this module writes the rows and reads them back. The pipeline records through a `Recorder` as the run
goes (so a crash leaves a readable run marked `running`); the CLI reads back with `list_runs()` and
`get_run()`. Values handed in are already masked.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import groupby
from typing import TYPE_CHECKING, Any

from gryt.status import ERROR, RUNNING, RunStatus, StepStatus

if TYPE_CHECKING:
    from gryt.data import Data

_JSON = json.JSONEncoder(default=str, ensure_ascii=False)


def to_json(value: Any) -> str:
    """JSON as gryt stores it: UTF-8 text kept as is, anything unknown written as its `str()`."""
    return _JSON.encode(value)


_second: tuple[int, str] = (-1, "")
"""The last whole second formatted by `now_iso` (formatting is most of its cost)."""


def now_iso() -> str:
    """UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`: sortable as text, parseable by SQLite's date functions."""
    global _second
    now = time.time()
    whole = int(now)
    second, text = _second
    if whole != second:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _second = (whole, text)
    return f"{text}.{int((now - whole) * 1000):03d}Z"


def _decode(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to decode: shown as stored
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
    if view.get("status") == RUNNING and view.get("pid") and view.get("host") == socket.gethostname():
        abandoned = not _pid_alive(int(view["pid"]))
    view["abandoned"] = abandoned
    return view


BATCH_DELAY = 0.05
"""Seconds the background writer gathers rows before writing them in one transaction."""

_Row = tuple[Callable[..., Any], tuple[Any, ...]]


def _insert_table(data: Data, item: _Row) -> str | None:
    fn, args = item
    return str(args[0]) if fn == data.insert else None


def _write_grouped(data: Data, batch: list[_Row]) -> None:
    """Run `batch` in order; consecutive inserts into one table go to the store in one call."""
    for table, group in groupby(batch, key=lambda item: _insert_table(data, item)):
        if table is not None:
            data.insert_many(table, [args[1] for _, args in group])
        else:
            for fn, args in group:
                fn(*args)


class _Writer:
    """The one background thread of a process that writes every Recorder's queued rows.

    Started on first use and kept for the life of the process (a pipeline run creates no thread).
    It gathers what arrives within `BATCH_DELAY` and writes it in one transaction per store; a flush
    request (`Recorder.close`) cuts the wait short.
    """

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self.queue: queue.SimpleQueue[tuple[Recorder, _Row | threading.Event]] = queue.SimpleQueue()
        self.flushing = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def put(self, recorder: Recorder, item: _Row | threading.Event) -> None:
        if self.thread is None:
            with self.lock:
                if self.thread is None:
                    self.thread = threading.Thread(target=self._run, name="gryt-recorder", daemon=True)
                    self.thread.start()
        self.queue.put((recorder, item))

    def flush(self, recorder: Recorder) -> None:
        """Return once every row `recorder` queued so far is written."""
        done = threading.Event()
        self.put(recorder, done)
        self.flushing.set()
        done.wait()

    def _run(self) -> None:
        while True:
            first = self.queue.get()
            if not isinstance(first[1], threading.Event):
                self.flushing.wait(BATCH_DELAY)
            self.flushing.clear()
            batch = [first]
            while True:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                for recorder, group in groupby(batch, key=lambda entry: entry[0]):
                    rows: list[_Row] = []
                    for _, item in group:
                        if isinstance(item, threading.Event):
                            recorder._write_batch(rows)
                            rows = []
                            item.set()
                        else:
                            rows.append(item)
                    recorder._write_batch(rows)
            except Exception as exc:  # noqa: BLE001 - reported; the thread must live on for the next rows
                for recorder in {entry[0] for entry in batch}:
                    recorder.failed(exc)
            finally:  # whatever happened, nobody waits forever for a flush
                for _, item in batch:
                    if isinstance(item, threading.Event):
                        item.set()


_writer: _Writer | None = None
_writer_lock = threading.Lock()


def _background_writer() -> _Writer:
    global _writer
    if _writer is None:
        with _writer_lock:
            if _writer is None:
                _writer = _Writer()
    return _writer


class Recorder:
    """Writes one run's progress to a Data store; every method is a no-op without a store.

    With `background=True`, step, runner and auth rows are written by a background thread (one per
    process, shared by all recorders) in call order while the next command already runs (timestamps
    are taken at call time). It gathers what arrives within `BATCH_DELAY` seconds and writes it in one
    transaction: one commit and one thread wake-up per batch instead of per step, so a crashed run
    loses at most that much of its record. `run_started` writes at once (and raises when it cannot: the
    run has not started); `run_finished` and `close()` wait until every queued row is written. Later
    write errors become `errors` (one line per distinct problem) instead of raising.
    """

    def __init__(self, data: Data | None, *, background: bool = False) -> None:
        self.data = data
        self.errors: list[str] = []
        self._background = background and data is not None
        self._queued = False

    def _write(self, fn: Callable[..., Any], *args: Any) -> None:
        if not self._background:
            fn(*args)
            return
        self._queued = True
        _background_writer().put(self, (fn, args))

    def _write_batch(self, batch: list[_Row]) -> None:
        """Write `batch` in one transaction; when that fails, write each row alone to report each error."""
        data = self.data
        if data is None or not batch:
            return
        if len(batch) > 1:
            try:
                with data.transaction():
                    _write_grouped(data, batch)
                return
            except Exception:  # noqa: BLE001 - rolled back; the replay below reports every failing row
                pass
        for fn, args in batch:
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - reported through `errors`, the run goes on
                self.failed(exc)

    def failed(self, exc: Exception) -> None:
        """Note a write that failed, once per distinct message: a full disk or a lock held too long fails
        every row alike, and is one line for the user, not one per row."""
        from gryt.errors import GrytError

        where = "" if isinstance(exc, GrytError) else f" in {getattr(self.data, 'path', None)}"
        message = f"could not record the run{where}: {exc}"
        if message not in self.errors:
            self.errors.append(message)

    def close(self) -> None:
        """Wait until every queued row is written."""
        if self._queued:
            self._queued = False
            _background_writer().flush(self)

    def run_started(
        self,
        run_id: str,
        name: str | None,
        config: Mapping[str, Any] | None = None,
        *,
        continues: str | None = None,
    ) -> None:
        """Insert the run's row, `running`; `continues` is the run a `--failed` run reruns part of."""
        if self.data is None:
            return
        self.data.insert(
            "pipelines",
            {
                "pipeline_id": run_id,
                "name": name,
                "start_timestamp": now_iso(),
                "status": RUNNING,
                "config_json": dict(config or {}),
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "continues_run_id": continues,
            },
        )

    def run_finished(
        self,
        run_id: str,
        status: RunStatus,
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
                values[f"{key}_json"] = to_json(value)
        try:
            self.data.update("pipelines", values, {"pipeline_id": run_id})
        except Exception as exc:  # noqa: BLE001 - reported through `errors`: the run is over either way
            self.failed(exc)

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
                "status": RUNNING,
                "start_timestamp": now_iso(),
                "needs_json": list(needs),
            },
            ("pipeline_id", "runner_id"),
        )

    def runner_finished(
        self,
        run_id: str,
        runner_id: str,
        status: StepStatus,
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
                "status": str(result.get("status", ERROR)),
                "returncode": result.get("returncode"),
                "attempts": result.get("attempts"),
                "timed_out": 1 if result.get("timed_out") else 0,
                "duration": result.get("duration"),
                "start_timestamp": start_timestamp or end,
                "end_timestamp": end,
                "output_json": to_json(result),
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
                "status": str(result.get("status", ERROR)),
                "duration": duration,
                "start_timestamp": start_timestamp or end,
                "end_timestamp": end,
                "output_json": to_json(dict(result)),
            },
        )

    def destination_finished(
        self,
        run_id: str,
        destination_id: str,
        destination_type: str,
        items: Sequence[Mapping[str, Any]],
        *,
        status: str,
        duration: float | None = None,
        start_timestamp: str | None = None,
        log_path: str | None = None,
    ) -> None:
        """Append a destination's outcome to `destination_runs`: one row per artifact it reported."""
        if self.data is None:
            return
        end = now_iso()
        rows = items or [{"artifact": None, "status": status}]
        for item in rows:
            details = {k: v for k, v in item.items() if k not in ("artifact", "status", "error")}
            own = item.get("duration")
            self._write(
                self.data.insert,
                "destination_runs",
                {
                    "pipeline_id": run_id,
                    "destination_id": destination_id,
                    "name": destination_type,
                    "artifact": item.get("artifact"),
                    "status": str(item.get("status", ERROR)),
                    "details_json": to_json(details),
                    "error": item.get("error"),
                    "start_timestamp": start_timestamp or end,
                    "end_timestamp": end,
                    "duration": own if isinstance(own, (int, float)) else duration,
                    "log_path": log_path,
                },
            )


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
    """One run with its runners, steps, auth attempts and `destination_runs` (decoded), or None.

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
    deliveries = data.query("SELECT * FROM destination_runs WHERE pipeline_id = ? ORDER BY id", key)
    for delivery in deliveries:
        delivery["details"] = _decode(delivery.pop("details_json", None))
    run["runners"] = runners
    run["steps"] = steps
    run["auth"] = auth
    run["destination_runs"] = deliveries
    return run
