"""What `gryt run` shows while a pipeline runs: a live Rich view on a terminal, plain lines elsewhere.

Both are `Hook` subclasses attached to the pipeline; payloads reaching them are already masked.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from gryt.cli._common import format_duration
from gryt.hook import Hook
from gryt.status import CACHED, ERROR, PASSED, SKIPPED, SUCCESS
from gryt.testcounts import counts_suffix, describe, failing_of, tally_of

SUMMARISED_SCOPES = ("auth:", "destination:")
"""Error scopes whose failure the end-of-run summary reports: the views do not print them a second time."""


@dataclass
class RunnerState:
    """Progress of one runner as seen through step events."""

    id: str
    total: int
    done: int = 0
    step: str | None = None
    started: float | None = None
    ended: float | None = None
    failed: bool = False


@dataclass
class DestinationState:
    """Progress of one destination in the deliver section."""

    id: str
    status: str | None = None
    started: float | None = None
    duration: float | None = None


def runner_ids(pipeline: Any) -> list[tuple[str, int]]:
    """(runner id, number of steps) for each runner of a pipeline, in order."""
    out = []
    for index, runner in enumerate(getattr(pipeline, "runners", None) or []):
        rid = getattr(runner, "id", None) or f"runner_{index}"
        out.append((str(rid), len(getattr(runner, "steps", None) or [])))
    return out


class _Tracker(Hook):
    """Keeps per-runner state from step events (thread-safe: runners call from their threads)."""

    def __init__(self, pipeline: Any = None) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.runners: dict[str, RunnerState] = {}
        self.logs: dict[tuple[str, str], Path] = {}
        """(runner id, step id) -> the step's full log file, for steps that wrote one."""
        self.destinations: dict[str, DestinationState] = {}
        self.started = time.monotonic()
        if pipeline is not None:
            self.track(pipeline)

    def track(self, pipeline: Any) -> None:
        with self.lock:
            self.runners = {rid: RunnerState(rid, total) for rid, total in runner_ids(pipeline)}
            self.destinations = {
                str(d.id): DestinationState(str(d.id)) for d in getattr(pipeline, "destinations", None) or []
            }

    def destination_started(self, destination: Any) -> None:
        with self.lock:
            state = self.destinations.setdefault(str(destination.id), DestinationState(str(destination.id)))
            state.started = time.monotonic()

    def destination_ended(self, destination: Any, result: dict[str, Any]) -> None:
        with self.lock:
            state = self.destinations.setdefault(str(destination.id), DestinationState(str(destination.id)))
            state.status = str(result.get("status"))
            state.duration = result.get("duration")

    def _state(self, context: Any) -> RunnerState:
        rid = str(getattr(context, "runner_id", None) or "?")
        state = self.runners.get(rid)
        if state is None:
            state = self.runners[rid] = RunnerState(rid, 0)
        return state

    def step_started(self, step: Any, context: Any) -> RunnerState:
        with self.lock:
            state = self._state(context)
            state.step = str(getattr(step, "id", step))
            if state.started is None:
                state.started = time.monotonic()
            return state

    def step_ended(self, step: Any, result: dict[str, Any], context: Any) -> RunnerState:
        with self.lock:
            state = self._state(context)
            state.done += 1
            if result.get("status") not in (*PASSED, SKIPPED) and result.get("allowed") is not True:
                state.failed = True
            log_path = getattr(step, "log_path", None)
            if isinstance(log_path, Path):
                self.logs[(state.id, str(getattr(step, "id", step)))] = log_path
            if state.total and state.done >= state.total:
                state.ended = time.monotonic()
                state.step = None
            return state


def _step_line(step: Any, result: dict[str, Any]) -> str:
    status = str(result.get("status"))
    parts = [f"{status} (allowed)" if result.get("allowed") is True else status]
    if tally_of(result) is not None:
        parts.append(counts_suffix(result).strip())
    if status not in (*PASSED, SKIPPED) and result.get("returncode") is not None:
        parts.append(f"exit {result.get('returncode')}")
    if result.get("timed_out"):
        parts.append("timed out")
    attempts = result.get("attempts")
    if isinstance(attempts, int) and attempts > 1:
        parts.append(f"{attempts} attempts")
    if status != SKIPPED:
        parts.append(format_duration(result.get("duration")))
    if status == CACHED:
        parts.append("- restored from the step cache")
    if status not in PASSED and result.get("error"):
        parts.append(f"- {result.get('error')}")
    return " ".join(parts)


def destination_line(outcome: dict[str, Any]) -> str:
    """`success 3 artifacts 0.4s`, `error 0.2s - reason`, `skipped - reason`: one destination's outcome."""
    status = str(outcome.get("status"))
    parts = [status]
    count = len(outcome.get("artifacts") or [])
    if status != SKIPPED:
        parts.append(f"{count} artifact{'s' if count != 1 else ''}")
        parts.append(format_duration(outcome.get("duration")))
    if status != SUCCESS and outcome.get("error"):
        parts.append(f"- {outcome.get('error')}")
    return " ".join(parts)


class PlainProgress(_Tracker):
    """One line per event, no control codes: for CI logs and pipes."""

    name = "gryt-cli-plain"

    def __init__(self, pipeline: Any = None, stream: IO[str] | None = None) -> None:
        super().__init__(pipeline)
        self.stream = stream
        self.out_lock = threading.Lock()

    def emit(self, line: str) -> None:
        stream = self.stream or sys.stdout
        with self.out_lock:
            stream.write(line + "\n")
            stream.flush()

    def on_pipeline_start(self, pipeline: Any, context: Any = None) -> None:
        run_id = getattr(context, "run_id", None)
        name = getattr(pipeline, "name", None) or "pipeline"
        self.emit(f"run {run_id} started: pipeline {name}" if run_id else f"pipeline {name} started")

    def on_step_start(self, step: Any, context: Any = None) -> None:
        state = self.step_started(step, context)
        self.emit(f"{state.id}/{getattr(step, 'id', step)} started")

    def on_step_end(self, step: Any, result: dict[str, Any], context: Any = None) -> None:
        state = self.step_ended(step, result, context)
        self.emit(f"{state.id}/{getattr(step, 'id', step)} {_step_line(step, result)}")

    def on_destination_start(self, destination: Any, context: Any = None) -> None:
        self.destination_started(destination)
        self.emit(f"deliver/{destination.id} started")

    def on_destination_end(self, destination: Any, result: dict[str, Any], context: Any = None) -> None:
        self.destination_ended(destination, result)
        self.emit(f"deliver/{destination.id} {destination_line(result)}")

    def on_error(self, scope: str, error: BaseException | str, context: Any = None) -> None:
        if not scope.startswith(SUMMARISED_SCOPES):
            self.emit(f"error in {scope}: {error}")


class LiveProgress(_Tracker):
    """A Rich live view: one line per runner with its current step, a spinner and the elapsed time."""

    name = "gryt-cli-live"

    def __init__(self, pipeline: Any = None, console: Any = None) -> None:
        super().__init__(pipeline)
        from rich.console import Console

        self.console = console or Console(highlight=False)
        self.live: Any = None
        self.errors: list[str] = []

    def __enter__(self) -> LiveProgress:
        from rich.live import Live

        self.live = Live(self, console=self.console, refresh_per_second=8, transient=True)
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)
            self.live = None

    def __rich__(self) -> Any:
        from rich.spinner import Spinner
        from rich.table import Table
        from rich.text import Text

        now = time.monotonic()
        table = Table.grid(padding=(0, 1))
        table.add_column(width=2)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, overflow="ellipsis")
        table.add_column(justify="right", no_wrap=True)
        with self.lock:
            states = list(self.runners.values())
        for state in states:
            elapsed = ""
            if state.started is not None:
                elapsed = format_duration((state.ended or now) - state.started)
            progress = f"{state.done}/{state.total}" if state.total else str(state.done)
            mark: Any
            if state.ended is not None:
                mark = Text("x", style="red") if state.failed else Text("ok", style="green")
                what = Text(f"{'failed' if state.failed else 'done'} ({progress})", style="dim")
            elif state.started is None:
                mark = Text("..", style="dim")
                what = Text("waiting", style="dim")
            else:
                mark = Spinner("dots", style="cyan")
                what = Text(f"{state.step or ''} ({progress})")
            table.add_row(mark, Text(state.id, style="bold"), what, elapsed)
        with self.lock:
            destinations = list(self.destinations.values())
        if destinations:
            table.add_row("", Text("deliver", style="bold dim"), "", "")
        for dest in destinations:
            mark, what, elapsed = self._destination_cells(dest, now)
            table.add_row(mark, Text(dest.id, style="bold"), what, elapsed)
        table.add_row("", Text("total", style="dim"), "", format_duration(now - self.started))
        return table

    @staticmethod
    def _destination_cells(dest: DestinationState, now: float) -> tuple[Any, Any, str]:
        from rich.spinner import Spinner
        from rich.text import Text

        if dest.status is not None:
            style = {SUCCESS: "green", SKIPPED: "dim"}.get(dest.status, "red")
            mark = Text({SUCCESS: "ok", SKIPPED: "-"}.get(dest.status, "x"), style=style)
            elapsed = format_duration(dest.duration) if dest.status != SKIPPED else ""
            return mark, Text(dest.status, style=style), elapsed
        if dest.started is not None:
            return Spinner("dots", style="cyan"), Text("publishing"), format_duration(now - dest.started)
        return Text("..", style="dim"), Text("waiting", style="dim"), ""

    def on_step_start(self, step: Any, context: Any = None) -> None:
        self.step_started(step, context)

    def on_step_end(self, step: Any, result: dict[str, Any], context: Any = None) -> None:
        state = self.step_ended(step, result, context)
        if result.get("status") not in (*PASSED, SKIPPED) and self.live is not None:
            from rich.text import Text

            line = f" {state.id}/{getattr(step, 'id', step)} {_step_line(step, result)}"
            mark = ("!", "yellow") if result.get("allowed") is True else ("x", "red")
            self.live.console.print(Text.assemble(mark, line))

    def on_destination_start(self, destination: Any, context: Any = None) -> None:
        self.destination_started(destination)

    def on_destination_end(self, destination: Any, result: dict[str, Any], context: Any = None) -> None:
        self.destination_ended(destination, result)
        if result.get("status") == ERROR and self.live is not None:
            from rich.text import Text

            line = f" deliver/{destination.id} {destination_line(result)}"
            self.live.console.print(Text.assemble(("x", "red"), line))

    def on_error(self, scope: str, error: BaseException | str, context: Any = None) -> None:
        if self.live is not None and not scope.startswith(SUMMARISED_SCOPES):
            from rich.text import Text

            self.live.console.print(Text.assemble(("error", "red"), f" in {scope}: {error}"))


def tail(text: Any, lines: int) -> str:
    """The last `lines` lines of `text` (nothing for 0)."""
    if not isinstance(text, str) or not text.strip() or lines <= 0:
        return ""
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def failed_steps(result: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(runner id, step id, step result) of every step that failed, allowed failures left out."""
    out = []
    for rid, steps in (result.get("runners") or {}).items():
        for sid, step in (steps or {}).items():
            failed = isinstance(step, dict) and step.get("status") not in (*PASSED, SKIPPED)
            if failed and step.get("allowed") is not True:
                out.append((str(rid), str(sid), step))
    return out


@dataclass
class Failures:
    """How the summary shows failed steps: `tail` lines of their output, then where the full log is."""

    tail: int
    logs: dict[tuple[str, str], Path]


def log_line(failures: Failures, runner_id: str, step_id: str) -> str | None:
    """`full log: <path>` (relative to the current directory when below it) for a step that wrote a log."""
    from gryt.project import display_path

    path = failures.logs.get((runner_id, step_id))
    return f"full log: {display_path(path)}" if path is not None else None


def failed_destinations(
    result: dict[str, Any], lines: int
) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    """(destination id, outcome, {stream: tail}) of every destination that failed; the tool's output
    is taken once (a batch command reports the same output for each artifact)."""
    out = []
    items_by_id = result.get("destinations") or {}
    for did, outcome in (result.get("delivery") or {}).items():
        if not isinstance(outcome, dict) or outcome.get("status") != ERROR:
            continue
        failing = [
            i for i in items_by_id.get(did) or [] if isinstance(i, dict) and i.get("status") != SUCCESS
        ]
        tails: dict[str, str] = {}
        for stream in ("stderr", "stdout"):
            texts = list(dict.fromkeys(t for t in (tail(i.get(stream), lines) for i in failing) if t))
            if texts:
                tails[stream] = tail("\n".join(texts), lines)
        out.append((str(did), outcome, tails))
    return out


def delivered(result: dict[str, Any]) -> list[str]:
    """`deliver/ID ARTIFACT -> WHERE`, one line per artifact a destination published and said where."""
    from gryt.destination import went

    lines = []
    for did, items in (result.get("destinations") or {}).items():
        for item in items or []:
            line = went(item.get("artifact"), item) if isinstance(item, dict) else None
            if line is not None and item.get("status") == SUCCESS:
                lines.append(f"deliver/{did} {line}")
    return lines


def render_summary(result: dict[str, Any], console: Any, elapsed: float, failures: Failures) -> None:
    """After a run on a terminal: a table of every step, then each failed step's output tail and log."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from gryt.cli.runs import plain, styled
    from gryt.project import display_path

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("runner", "step", "status", "duration", "attempts"):
        table.add_column(column, no_wrap=True)
    for rid, steps in (result.get("runners") or {}).items():
        for sid, raw in (steps or {}).items():
            step = raw if isinstance(raw, dict) else {}
            attempts = step.get("attempts")
            table.add_row(
                plain(rid),
                plain(sid),
                Text.assemble(
                    styled(str(step.get("status")), allowed=step.get("allowed") is True), counts_suffix(step)
                ),
                format_duration(step.get("duration")) if step.get("status") != SKIPPED else "-",
                str(attempts) if attempts is not None else "-",
            )
    for did, raw in (result.get("delivery") or {}).items():
        outcome = raw if isinstance(raw, dict) else {}
        status = str(outcome.get("status"))
        table.add_row(
            "deliver",
            plain(did),
            styled(status),
            format_duration(outcome.get("duration")) if status != SKIPPED else "-",
            "-",
        )
    if table.row_count:
        console.print(table)
    for line in delivered(result):
        console.print(Text(line), highlight=False, soft_wrap=True)
    for did, outcome, tails in failed_destinations(result, failures.tail):
        body = Text()
        body.append(str(outcome.get("error") or "failed") + "\n", style="bold red")
        for stream, text in tails.items():
            body.append(f"--- {stream} (last {failures.tail} lines) ---\n", style="dim")
            body.append(text + "\n")
        if outcome.get("log_path"):
            body.append(f"full log: {display_path(Path(outcome['log_path']))}\n", style="dim")
        console.print(Panel(body, title=plain(f"deliver/{did}"), title_align="left", border_style="red"))
    for rid, sid, step in failed_steps(result):
        body = Text()
        if step.get("error"):
            body.append(str(step["error"]) + "\n", style="bold red")
        for stream in ("stderr", "stdout"):
            text = tail(step.get(stream), failures.tail)
            if text:
                body.append(f"--- {stream} (last {failures.tail} lines) ---\n", style="dim")
                body.append(text + "\n")
        for line in failing_of(step):
            body.append(line + "\n")
        log = log_line(failures, rid, sid)
        if log is not None:
            body.append(log + "\n", style="dim")
        console.print(Panel(body, title=plain(f"{rid}/{sid}"), title_align="left", border_style="red"))
    _print_outcome(result, console, elapsed)


def _print_outcome(result: dict[str, Any], console: Any, elapsed: float) -> None:
    """Issues, auth failures, skipped destinations, warnings and the outcome line; every part that comes
    from the user or a step is a Text, never parsed as markup."""
    from rich.text import Text

    from gryt.cli.runs import styled

    for issue in result.get("issues") or []:
        console.print(Text.assemble(("issue", "red"), f" {issue.get('name')}: {issue.get('message')}"))
    for auth_id, auth in (result.get("auth") or {}).items():
        if isinstance(auth, dict) and auth.get("status") not in (SUCCESS, SKIPPED, None):
            console.print(Text.assemble((f"auth {auth_id} failed", "red"), f": {auth.get('error') or ''}"))
    for dest_id, outcome in (result.get("delivery") or {}).items():
        if isinstance(outcome, dict) and outcome.get("status") == SKIPPED and outcome.get("error"):
            console.print(Text(f"deliver/{dest_id} skipped: {outcome.get('error')}", style="dim"))
    for warning in result.get("warnings") or []:
        console.print(Text.assemble(("warning", "yellow"), f": {warning}"))
    status = str(result.get("status"))
    console.print(
        Text.assemble(f"run {result.get('run_id')} ", styled(status), f" in {format_duration(elapsed)}")
    )


def render_plain_summary(result: dict[str, Any], stream: IO[str], elapsed: float, failures: Failures) -> None:
    """Off a terminal: each failed step's tail and log, issues, auth failures, then one outcome line."""
    from gryt.project import display_path

    lines = [
        f"{rid}/{sid} tests: {describe(tally)}"
        for rid, steps in (result.get("runners") or {}).items()
        for sid, step in (steps or {}).items()
        if (tally := tally_of(step)) is not None
    ]
    for rid, sid, step in failed_steps(result):
        for name in ("stderr", "stdout"):
            text = tail(step.get(name), failures.tail)
            if text:
                lines.append(f"--- {rid}/{sid} {name} (last {failures.tail} lines) ---")
                lines.extend(text.splitlines())
        lines.extend(f"{rid}/{sid} {line}" for line in failing_of(step))
        log = log_line(failures, rid, sid)
        if log is not None:
            lines.append(f"{rid}/{sid} {log}")
    for issue in result.get("issues") or []:
        lines.append(f"issue {issue.get('name')}: {issue.get('message')}")
    for auth_id, auth in (result.get("auth") or {}).items():
        if isinstance(auth, dict) and auth.get("status") not in (SUCCESS, SKIPPED, None):
            lines.append(f"auth {auth_id} failed: {auth.get('error') or ''}")
    for did, outcome, tails in failed_destinations(result, failures.tail):
        for name, text in tails.items():
            lines.append(f"--- deliver/{did} {name} (last {failures.tail} lines) ---")
            lines.extend(text.splitlines())
        lines.append(f"deliver/{did} failed: {outcome.get('error') or 'error'}")
        if outcome.get("log_path"):
            lines.append(f"deliver/{did} full log: {display_path(Path(outcome['log_path']))}")
    lines.extend(delivered(result))
    for warning in result.get("warnings") or []:
        lines.append(f"warning: {warning}")
    lines.append(f"run {result.get('run_id')} {result.get('status')} in {format_duration(elapsed)}")
    stream.write("\n".join(lines) + "\n")
    stream.flush()
