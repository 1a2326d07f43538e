"""Run history: the `Recorder` that writes a run's rows as it goes, and the readers `list_runs` / `get_run`.

Where the rows go is a history backend (`gryt.histories`; the project's SQLite database by default). The
pipeline records through a `Recorder` as the run goes (so a crash leaves a readable run marked `running`);
the CLI reads back through the backend. Values handed in are already masked.
"""

from __future__ import annotations

import os
import queue
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from itertools import groupby
from typing import TYPE_CHECKING, Any

from gryt.histories import History, Write
from gryt.json_text import to_json
from gryt.status import ERROR, RUNNING, RunStatus, StepStatus

if TYPE_CHECKING:
    from gryt.data import Data
    from gryt.histories.spool import Spool

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


BATCH_DELAY = 0.05
"""Seconds the background writer gathers rows before writing them in one transaction."""


def as_history(store: Data | History | None) -> History | None:
    """`store` as a history backend: a `Data` store (a pipeline's `data`) is read and written as SQLite."""
    if store is None or isinstance(store, History):
        return store
    from gryt.histories.sqlite import SqliteHistory

    return SqliteHistory(store)


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
        self.queue: queue.SimpleQueue[tuple[Recorder, Write | threading.Event]] = queue.SimpleQueue()
        self.flushing = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def put(self, recorder: Recorder, item: Write | threading.Event) -> None:
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
                    rows: list[Write] = []
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
    """Writes one run's progress to a history backend (or a `Data` store, as SQLite); every method is a
    no-op without one.

    With `background=True`, step, runner and auth rows are written by a background thread (one per
    process, shared by all recorders) in call order while the next command already runs (timestamps
    are taken at call time). It gathers what arrives within `BATCH_DELAY` seconds and writes it in one
    transaction: one commit and one thread wake-up per batch instead of per step, so a crashed run
    loses at most that much of its record. `run_started` writes at once (and raises when it cannot: the
    run has not started); `run_finished` and `close()` wait until every queued row is written. Later
    write errors become `errors` (one line per distinct problem) instead of raising. When the backend
    is lost (`History.is_lost`) and has a spool folder, this and every later row of the run go to a spool
    file instead, sent by `gryt db sync`; `warnings` says so, and the run is not failed for it.
    """

    def __init__(self, data: Data | History | None, *, background: bool = False) -> None:
        self.history = as_history(data)
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self._background = background and self.history is not None
        self._queued = False
        self._spool: Spool | None = None

    def _write(self, write: Write) -> None:
        if self.history is None:
            return
        if not self._background:
            self.history.write([write])
            return
        self._queued = True
        _background_writer().put(self, write)

    def _write_batch(self, batch: list[Write]) -> None:
        """Write `batch` in one transaction; when that fails, write each row alone to report each error."""
        history = self.history
        if history is None or not batch:
            return
        if self._spool is not None:
            self._keep(batch, uuid.uuid4().hex, None)
            return
        batch_id = uuid.uuid4().hex
        try:
            history.write(batch, batch_id)
            return
        except Exception as exc:  # noqa: BLE001 - spooled or reported below; the run goes on
            if self._keep(batch, batch_id, exc):
                return
            if len(batch) == 1:
                self.failed(exc)
                return
        for write in batch:
            try:
                history.write([write], uuid.uuid4().hex)
            except Exception as exc:  # noqa: BLE001 - reported through `errors`, the run goes on
                if not self._keep([write], uuid.uuid4().hex, exc):
                    self.failed(exc)

    def _keep(self, batch: list[Write], batch_id: str, exc: Exception | None) -> bool:
        """Put `batch` in the spool file when the backend is lost (`exc`) or was lost before (None)."""
        history = self.history
        if history is None or history.spool is None:
            return False
        if self._spool is None:
            if exc is None or not history.is_lost(exc):
                return False
            from gryt.histories.spool import Spool

            self._spool = Spool(history.spool)
            reason = " ".join(str(exc).split()) or type(exc).__name__
            self.warnings.append(
                f"lost the run history at {history.label} ({reason}); the rest of this run's record is kept in"
                f" {self._spool.path} until `gryt db sync` sends it"
            )
        try:
            self._spool.add(batch, batch_id)
        except OSError as error:
            self.failed(error)
        return True

    def failed(self, exc: Exception) -> None:
        """Note a write that failed, once per distinct message: a full disk or a lock held too long fails
        every row alike, and is one line for the user, not one per row."""
        from gryt.errors import GrytError

        label = self.history.label if self.history is not None else None
        where = "" if isinstance(exc, GrytError) else f" in {label}"
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
        if self.history is None:
            return
        row = {
            "pipeline_id": run_id,
            "name": name,
            "start_timestamp": now_iso(),
            "status": RUNNING,
            "config_json": dict(config or {}),
            "pid": os.getpid(),
            "host": os.uname().nodename,
            "continues_run_id": continues,
        }
        try:
            self.history.write([Write("insert", "pipelines", row)])
        except Exception as exc:
            if not self.history.is_lost(exc):
                raise
            from gryt.errors import ConfigError

            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise ConfigError(
                f"history {self.history.label}: lost before the run started: {reason}"
            ) from None

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
        if self.history is None:
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
        values["pipeline_id"] = run_id
        self._write_batch([Write("update", "pipelines", values, key=("pipeline_id",))])

    def runner_started(
        self, run_id: str, runner_id: str, name: str | None = None, needs: Iterable[str] = ()
    ) -> None:
        if self.history is None:
            return
        self._write(
            Write(
                "upsert",
                "runners",
                {
                    "pipeline_id": run_id,
                    "runner_id": runner_id,
                    "name": name or runner_id,
                    "status": RUNNING,
                    "start_timestamp": now_iso(),
                    "needs_json": list(needs),
                },
                key=("pipeline_id", "runner_id"),
            )
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
        if self.history is None:
            return
        values: dict[str, Any] = {"status": status, "end_timestamp": now_iso(), "duration": duration}
        row: dict[str, Any] = {"pipeline_id": run_id, "runner_id": runner_id, "name": name or runner_id}
        row.update(values, needs_json=list(needs))
        self._write(Write("upsert", "runners", row, key=("pipeline_id", "runner_id"), update=tuple(values)))

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
        if self.history is None:
            return
        end = now_iso()
        self._write(
            Write(
                "insert",
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
                    "output_json": dict(result),  # JSON-encoded by the backend, in the background writer
                    "log_path": log_path,
                },
            )
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
        if self.history is None:
            return
        end = now_iso()
        self._write(
            Write(
                "insert",
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
        if self.history is None:
            return
        end = now_iso()
        rows = items or [{"artifact": None, "status": status}]
        for item in rows:
            details = {k: v for k, v in item.items() if k not in ("artifact", "status", "error")}
            own = item.get("duration")
            self._write(
                Write(
                    "insert",
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
            )


def list_runs(data: Data | History, limit: int = 20, pipeline: str | None = None) -> list[dict[str, Any]]:
    """The latest runs first (see `History.list_runs`) from a history or a `Data` store."""
    history = as_history(data)
    return history.list_runs(limit, pipeline) if history is not None else []


def get_run(data: Data | History, run_id: str) -> dict[str, Any] | None:
    """One run with its runners, steps, auth attempts and `destination_runs` (see `History.get_run`)."""
    history = as_history(data)
    return history.get_run(run_id) if history is not None else None


def step_trend(data: Data | History, pipeline: str, last: int) -> list[dict[str, Any]]:
    """The last `last` runs of `pipeline`, oldest first, with their step executions (see
    `History.step_trend`), for `gryt report --trend`."""
    history = as_history(data)
    return history.step_trend(pipeline, last) if history is not None else []
