"""Per-pipeline observers. Errors raised inside a hook are reported and never fail a run."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gryt.config import resolve_config
from gryt.errors import one_line
from gryt.masking import Masker
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


class PrintHook(Hook):
    """Plain progress on stderr: one line per pipeline, step and error event."""

    name = "print"
    summary = "Print one line per pipeline/step event to stderr"
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
        status = result.get("status", "?")
        duration = result.get("duration")
        took = f" in {duration:.2f}s" if isinstance(duration, (int, float)) and status != "skipped" else ""
        error = f": {result['error']}" if result.get("error") else ""
        self._line(f"{_where(step, context)} {status}{took}{error}")

    def on_error(self, scope: str, error: BaseException | str, context: RunContext | None = None) -> None:
        self._line(f"error in {scope}: {error}")


def _where(step: Any, context: RunContext | None) -> str:
    runner = context.runner_id if context is not None and context.runner_id else "-"
    return f"{runner}/{getattr(step, 'id', '?')}"


class EventDispatcher:
    """Sends lifecycle events to a pipeline's Hook objects, then to plugin hooks.

    An exception inside any hook becomes one warning line on stderr and an entry in `warnings` (and an
    `on_error` event with scope `hook:<name>` for the other hooks); it never reaches the run. Results
    and error messages are masked before any hook sees them.
    """

    def __init__(
        self, hooks: Sequence[Hook] = (), masker: Masker | None = None, *, plugins: bool = True
    ) -> None:
        self.hooks = list(hooks)
        self.masker = masker if masker is not None else Masker()
        self.warnings: list[str] = []
        self._plugins = plugins
        self._plugin_hook: Any = None
        self._impl_cache: dict[str, list[Any]] = {}

    def warn(self, message: str) -> None:
        """Report a problem that does not fail the run: stderr now, `warnings` in the result."""
        message = self.masker.mask(message)
        self.warnings.append(message)
        sys.stderr.write(f"gryt: warning: {message}\n")
        sys.stderr.flush()

    def _plugin_caller(self, spec: str) -> Any:
        if not self._plugins:
            return None
        if self._plugin_hook is None:
            try:
                from gryt.plugins import get_manager

                self._plugin_hook = get_manager().hook
            except Exception as exc:  # noqa: BLE001 - plugins must never fail a run
                self._plugins = False
                self.warn(f"plugin hooks disabled: {one_line(exc)}")
                return None
        return getattr(self._plugin_hook, spec)

    def _impls(self, spec: str) -> list[Any]:
        """Plugin implementations of `spec` (wrappers excluded), looked up once per dispatcher."""
        impls = self._impl_cache.get(spec)
        if impls is None:
            caller = self._plugin_caller(spec)
            found = caller.get_hookimpls() if caller is not None else []
            impls = [
                i for i in found if not (getattr(i, "hookwrapper", False) or getattr(i, "wrapper", False))
            ]
            self._impl_cache[spec] = impls
        return impls

    def _emit(
        self,
        method: str,
        spec: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        extra: Hook | None = None,
        report: bool = True,
    ) -> None:
        context = kwargs.get("context")
        hooks = self.hooks if extra is None or extra in self.hooks else [*self.hooks, extra]
        for hook in hooks:
            try:
                getattr(hook, method)(*args, context=context)
            except Exception as exc:  # noqa: BLE001 - a hook must never fail a run
                name = getattr(type(hook), "name", "") or type(hook).__name__
                self._failed(
                    f"hook:{name}", f"hook {name} failed in {method}: {one_line(exc)}", context, report
                )
        for impl in self._impls(spec):
            try:
                impl.function(**{name: kwargs[name] for name in impl.argnames if name in kwargs})
            except Exception as exc:  # noqa: BLE001 - a plugin hook must never fail a run
                name = impl.plugin_name
                self._failed(
                    f"plugin:{name}", f"plugin {name} failed in {spec}: {one_line(exc)}", context, report
                )

    def _failed(self, scope: str, message: str, context: Any, report: bool) -> None:
        self.warn(message)
        if report:
            self.error(scope, message, context, report=False)

    def pipeline_start(self, pipeline: Any, context: RunContext) -> None:
        self._emit(
            "on_pipeline_start",
            "gryt_pipeline_start",
            (pipeline,),
            {"pipeline": pipeline, "context": context},
        )

    def pipeline_end(self, pipeline: Any, result: dict[str, Any], context: RunContext) -> None:
        masked = self.masker.mask_obj(result)
        self._emit(
            "on_pipeline_end",
            "gryt_pipeline_end",
            (pipeline, masked),
            {"pipeline": pipeline, "result": masked, "context": context},
        )

    def _observed(self, spec: str, extra: Hook | None) -> bool:
        """Whether any Hook object or plugin gets `spec`: if not, no payload needs building or masking."""
        return bool(self.hooks) or extra is not None or bool(self._impls(spec))

    def step_start(self, step: Any, context: RunContext, *, extra: Hook | None = None) -> None:
        if not self._observed("gryt_step_start", extra):
            return
        self._emit(
            "on_step_start", "gryt_step_start", (step,), {"step": step, "context": context}, extra=extra
        )

    def step_end(
        self, step: Any, result: dict[str, Any], context: RunContext, *, extra: Hook | None = None
    ) -> None:
        if not self._observed("gryt_step_end", extra):
            return
        masked = self.masker.mask_obj(result)
        self._emit(
            "on_step_end",
            "gryt_step_end",
            (step, masked),
            {"step": step, "result": masked, "context": context},
            extra=extra,
        )

    def error(self, scope: str, error: BaseException | str, context: Any, *, report: bool = True) -> None:
        message = self.masker.mask(one_line(error) if isinstance(error, BaseException) else str(error))
        self._emit(
            "on_error",
            "gryt_error",
            (scope, message),
            {"scope": scope, "error": message, "context": context},
            report=report,
        )
