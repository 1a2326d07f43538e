"""Hook objects: observers a pipeline is given (`Pipeline(hook=...)`, `[[hooks]]` in TOML).

Not to be confused with pluggy hooks (the plugin contract in `gryt.hookspecs`): a `Hook` watches the
pipelines it is attached to; a plugin's lifecycle hooks watch every run. `gryt.events` calls both.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from gryt.config import resolve_config
from gryt.typeinfo import Registrable

if TYPE_CHECKING:
    from gryt.context import RunContext


class Hook(Registrable):
    """Observe one pipeline's lifecycle. Override what you need; payloads are already masked."""

    def __init__(self, **options: Any) -> None:
        self.options = options

    def on_pipeline_start(self, pipeline: Any, context: RunContext | None = None) -> None:
        """Called after validators passed, before auth steps."""

    def on_pipeline_end(
        self, pipeline: Any, results: dict[str, Any], context: RunContext | None = None
    ) -> None:
        """Called once at the very end with the pipeline result."""

    def on_step_start(self, step: Any, context: RunContext | None = None) -> None:
        """Called before each step runs (`context.runner_id` says which runner)."""

    def on_step_end(self, step: Any, result: dict[str, Any], context: RunContext | None = None) -> None:
        """Called after each step with its (masked) result."""

    def on_destination_start(self, destination: Any, context: RunContext | None = None) -> None:
        """Called before a destination publishes (after every runner succeeded)."""

    def on_destination_end(
        self, destination: Any, result: dict[str, Any], context: RunContext | None = None
    ) -> None:
        """Called with each destination's outcome: `status`, `duration`, `artifacts`, `results`, ...;
        also for destinations `skipped` because the run did not deliver (`error` says why)."""

    def on_error(self, scope: str, error: BaseException | str, context: RunContext | None = None) -> None:
        """Called when something fails outside a step result (a runner crash, a destination, a hook)."""


class PrintHook(Hook):
    """Plain progress on stderr: one line per pipeline, step, destination and error event."""

    name = "print"
    summary = "Print one line per pipeline/step/destination event to stderr"
    config_keys = ()

    def __init__(self, **options: Any) -> None:
        super().__init__(**resolve_config(self.config_keys, options, where=self.name))
        self._started = time.monotonic()

    def _line(self, text: str) -> None:
        sys.stderr.write(f"gryt: {text}\n")
        sys.stderr.flush()

    def on_pipeline_start(self, pipeline: Any, context: RunContext | None = None) -> None:
        self._started = time.monotonic()
        run_id = context.run_id if context is not None else "?"
        self._line(f"run {run_id} of {getattr(pipeline, 'name', 'pipeline')} started")

    def on_pipeline_end(
        self, pipeline: Any, results: dict[str, Any], context: RunContext | None = None
    ) -> None:
        elapsed = time.monotonic() - self._started
        error = f": {results['error']}" if results.get("error") else ""
        self._line(f"run {results.get('run_id', '?')} {results.get('status', '?')} in {elapsed:.2f}s{error}")

    def on_step_start(self, step: Any, context: RunContext | None = None) -> None:
        self._line(f"{_where(step, context)} started")

    def on_step_end(self, step: Any, result: dict[str, Any], context: RunContext | None = None) -> None:
        self._outcome(_where(step, context), result)

    def _outcome(self, where: str, result: dict[str, Any]) -> None:
        status = result.get("status", "?")
        duration = result.get("duration")
        took = f" in {duration:.2f}s" if isinstance(duration, (int, float)) and status != "skipped" else ""
        error = f": {result['error']}" if result.get("error") else ""
        self._line(f"{where} {status}{took}{error}")

    def on_destination_start(self, destination: Any, context: RunContext | None = None) -> None:
        self._line(f"deliver/{getattr(destination, 'id', '?')} started")

    def on_destination_end(
        self, destination: Any, result: dict[str, Any], context: RunContext | None = None
    ) -> None:
        self._outcome(f"deliver/{getattr(destination, 'id', '?')}", result)

    def on_error(self, scope: str, error: BaseException | str, context: RunContext | None = None) -> None:
        self._line(f"error in {scope}: {error}")


def _where(step: Any, context: RunContext | None) -> str:
    runner = context.runner_id if context is not None and context.runner_id else "-"
    return f"{runner}/{getattr(step, 'id', '?')}"
