"""Per-pipeline observers. Errors raised inside a hook are reported and never fail a run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

    def on_error(self, scope: str, error: BaseException | str, context: RunContext | None = None) -> None:
        """Called when something fails outside a step result (a runner crash, a destination, a hook)."""
