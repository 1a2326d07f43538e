"""Delivery: after every runner succeeded, resolve the artifacts and run each destination, with its
output logged, its outcome recorded and announced; or record why nothing was delivered."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gryt.artifacts import ArtifactError, check_explicit, resolve, select
from gryt.conditions import decide
from gryt.config import MAX_NESTING, too_deep
from gryt.errors import one_line
from gryt.expressions import Status
from gryt.history import now_iso
from gryt.interrupts import raised_by_code
from gryt.process import LazyLog
from gryt.status import ERROR, SKIPPED, SUCCESS, DeliveryStatus
from gryt.step import log_name
from gryt.typeinfo import type_name

if TYPE_CHECKING:
    from gryt.context import RunContext
    from gryt.destination import Destination
    from gryt.events import EventDispatcher
    from gryt.history import Recorder
    from gryt.pipeline import Pipeline


class Delivery:
    """The destinations of one run: `results` holds each artifact's result dict by destination id,
    `outcomes` one summary per destination (what the CLI, JUnit and hooks show)."""

    def __init__(
        self, pipeline: Pipeline, ctx: RunContext, events: EventDispatcher, recorder: Recorder
    ) -> None:
        self.pipeline = pipeline
        self.ctx = ctx
        self.events = events
        self.recorder = recorder
        self.results: dict[str, list[dict[str, Any]]] = {}
        self.outcomes: dict[str, dict[str, Any]] = {}

    def deliver(self, explicit: list[str | Path] | None) -> None:
        """Resolve the artifacts now that the runners built them (or check the `explicit` paths), then run
        each destination in turn."""
        destinations = self.pipeline.destinations
        if not destinations:
            return
        root = (self.pipeline.root or Path.cwd()).resolve()
        try:
            if explicit is not None:
                files = check_explicit(explicit)
            else:
                files = _as_given(resolve(self.pipeline.artifacts, root), root)
        except ArtifactError as exc:
            message = self.ctx.masker.mask(str(exc))
            for destination in destinations:
                self._record(destination, [{"artifact": None, "status": ERROR, "error": message}], 0.0, None)
            return
        for destination in destinations:
            if self.ctx.cancel.is_set():
                return
            reason = decide(getattr(destination, "condition", None), self.ctx.variables, Status(), "")
            if reason:
                self._record(destination, [{"artifact": None, "status": SKIPPED, "error": reason}], 0.0, None)
                continue
            self._publish(destination, files, root)

    def _publish(self, destination: Destination, files: list[Path], root: Path) -> None:
        """One destination: select its artifacts, publish with its output logged, record the outcome."""
        ctx = self.ctx
        start_ts = now_iso()
        t0 = time.monotonic()
        specs = getattr(destination, "artifact_specs", None)
        try:
            chosen = files if specs is None else select(specs, files, root)
        except ArtifactError as exc:
            item = {"artifact": None, "status": ERROR, "error": str(exc)}
            self._record(destination, [item], 0.0, start_ts)
            return
        if not chosen:
            item = {"artifact": None, "status": SKIPPED, "error": "nothing to publish: no artifact matched"}
            self._record(destination, [item], 0.0, start_ts)
            return
        log_path = (
            None
            if ctx.log_dir is None
            else Path(ctx.log_dir) / f"destination+{log_name(None, destination.id)}.log"
        )
        log = LazyLog(log_path) if log_path is not None else None
        destination.context = ctx
        destination.log = log
        self.events.destination_start(destination, ctx)
        try:
            items = self._call_publish(destination, chosen)
            if log is not None:
                for item in items:
                    if item.get("status") != SUCCESS:
                        what = item.get("artifact") or destination.id
                        line = f"[gryt] {what}: {item.get('status')}: {item.get('error') or ''}\n"
                        log.write(ctx.masker.mask(line))
        finally:
            destination.log = None
            if log is not None:
                log.close()
        written = log_path if log is not None and log.written else None
        self._record(destination, items, time.monotonic() - t0, start_ts, log_path=written, chosen=chosen)

    def _call_publish(self, destination: Destination, chosen: list[Path]) -> list[dict[str, Any]]:
        """`destination.publish(chosen)` as result dicts; a raising or malformed publish is one error."""
        try:
            published = destination.publish(chosen)
            if not isinstance(published, list):
                raise TypeError(f"publish() returned {type(published).__name__}, not a list")
            if too_deep(published):
                raise ValueError(f"publish() returned items nested more than {MAX_NESTING} levels deep")
        except BaseException as exc:  # plugin code: SystemExit too; a real Ctrl-C re-raised
            if not raised_by_code(exc):
                raise
            # a destination bug is a failed publish, not a crash
            published = [{"artifact": None, "status": ERROR, "error": one_line(exc)}]
            self.events.error(f"destination:{destination.id}", exc, self.ctx)
        return [dict(p) for p in published if isinstance(p, dict)]

    def _record(
        self,
        destination: Destination,
        items: list[dict[str, Any]],
        duration: float,
        start_ts: str | None,
        *,
        log_path: Path | None = None,
        chosen: list[Path] | None = None,
    ) -> None:
        """Keep, record and announce one destination's outcome (masked)."""
        ctx = self.ctx
        items = ctx.masker.mask_obj(items)
        statuses = {item.get("status") for item in items}
        status: DeliveryStatus = SKIPPED if statuses == {SKIPPED} else SUCCESS
        if statuses - {SUCCESS, SKIPPED}:
            status = ERROR
        summary: dict[str, Any] = {
            "type": type_name(destination),
            "status": status,
            "duration": round(duration, 6),
            "artifacts": [str(p) for p in chosen or []],
            "log_path": str(log_path) if log_path is not None else None,
        }
        if status != SUCCESS:
            summary["error"] = next(
                (i.get("error") for i in items if i.get("status") == status and i.get("error")), status
            )
        summary = ctx.masker.mask_obj(summary)
        self.results[destination.id] = items
        self.outcomes[destination.id] = summary
        self.recorder.destination_finished(
            ctx.run_id,
            destination.id,
            summary["type"],
            items,
            status=status,
            duration=summary["duration"],
            start_timestamp=start_ts,
            log_path=summary["log_path"],
        )
        self.events.destination_end(destination, {**summary, "results": items}, ctx)

    def skip_rest(self, reason: str) -> None:
        """Record every destination that did not run as `skipped`, with the reason."""
        for destination in self.pipeline.destinations:
            if destination.id not in self.outcomes:
                self._record(destination, [{"artifact": None, "status": SKIPPED, "error": reason}], 0.0, None)


def _as_given(paths: list[Path], root: Path) -> list[Path]:
    """Paths below `root` relative to it when the run works there (the CLI always does), so commands
    and results read `dist/app.whl`; absolute otherwise."""
    if Path.cwd().resolve() != root:
        return paths
    out = []
    for path in paths:
        try:
            out.append(path.relative_to(root))
        except ValueError:
            out.append(path)
    return out
