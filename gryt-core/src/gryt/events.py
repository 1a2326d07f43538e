"""Lifecycle events of a run, delivered to the pipeline's Hook objects and then to plugins' hooks.

Observers observe: each one gets its own copy of a result, so one that changes it changes neither the
run nor what the next observer sees. Plugin implementations are called one by one in pluggy's order
(`tryfirst` first, then the last registered first, `trylast` last), so one that raises is reported and
the others still run. A plugin whose `gryt_observe_run` declines the run gets none of them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gryt.errors import one_line
from gryt.hook import Hook
from gryt.interrupts import raised_by_code
from gryt.masking import Masker

if TYPE_CHECKING:
    from pluggy import HookImpl

    from gryt.context import RunContext


_CONTAINERS = (dict, list, tuple)


def _copy(value: Any) -> Any:
    """A deep copy of result-shaped data (dicts, lists, tuples of plain values); plain values inside are
    taken as they are, without a call each (a step result holds mostly plain values)."""
    if isinstance(value, dict):
        return {k: _copy(v) if isinstance(v, _CONTAINERS) else v for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(v) if isinstance(v, _CONTAINERS) else v for v in value)
    return value


class EventDispatcher:
    """Sends lifecycle events to a pipeline's Hook objects, then to plugin hooks.

    An exception inside any observer becomes one warning line on stderr and an entry in `warnings` (and
    an `on_error` event with scope `hook:<name>` or `plugin:<name>` for the others); it never reaches
    the run. That includes `SystemExit` (`sys.exit()` in a hook) and a `KeyboardInterrupt` the hook
    raised itself; a real Ctrl-C still interrupts (see `gryt.interrupts`). Results and error messages are masked before any observer sees them.
    """

    def __init__(
        self, hooks: Sequence[Hook] = (), masker: Masker | None = None, *, plugins: bool = True
    ) -> None:
        self.hooks = list(hooks)
        self.masker = masker if masker is not None else Masker()
        self.warnings: list[str] = []
        self._plugins = plugins
        self._plugin_hook: Any = None
        self._impl_cache: dict[str, list[HookImpl]] = {}
        self._silent_plugins: frozenset[str] | None = None

    def warn(self, message: str) -> None:
        """Report a problem that does not fail the run: stderr now, `warnings` in the result."""
        message = self.masker.mask(message)
        self.warnings.append(message)
        sys.stderr.write(f"gryt: warning: {message}\n")
        sys.stderr.flush()

    def _impls(self, spec: str, context: RunContext) -> list[HookImpl]:
        """Plugin implementations of `spec` in pluggy's call order, without those of plugins that do not
        observe this run (`gryt_observe_run`); looked up once per dispatcher."""
        impls = self._impl_cache.get(spec)
        if impls is not None:
            return impls
        impls = self._all_impls(spec)
        if impls:
            silent = self._silent(context)
            impls = [impl for impl in impls if impl.plugin_name not in silent]
        self._impl_cache[spec] = impls
        return impls

    def _all_impls(self, spec: str) -> list[HookImpl]:
        if self._plugins and self._plugin_hook is None:
            try:
                from gryt.plugins.manager import get_manager

                self._plugin_hook = get_manager().hook
            except Exception as exc:  # noqa: BLE001 - plugins must never fail a run
                self._plugins = False
                self.warn(f"plugin hooks disabled: {one_line(exc)}")
        caller = getattr(self._plugin_hook, spec) if self._plugins else None
        return list(reversed(caller.get_hookimpls())) if caller is not None else []

    def _silent(self, context: RunContext) -> frozenset[str]:
        """The plugins whose `gryt_observe_run` declined this run (asked once, at the first event)."""
        if self._silent_plugins is not None:
            return self._silent_plugins
        silent: set[str] = set()
        failures: list[tuple[str, str]] = []
        for impl in self._all_impls("gryt_observe_run"):
            try:
                observes = impl.function(**{name: context for name in impl.argnames})  # only `context`
            except BaseException as exc:  # a plugin's SystemExit too; a real Ctrl-C is re-raised
                if not raised_by_code(exc):
                    raise
                name = impl.plugin_name
                failures.append((name, f"plugin {name} failed in gryt_observe_run: {one_line(exc)}"))
                continue
            if observes is False:
                silent.add(impl.plugin_name)
        self._silent_plugins = frozenset(silent)
        for name, message in failures:  # reported once the answer is known: to those that observe the run
            self._failed(f"plugin:{name}", message, context, True)
        return self._silent_plugins

    def _emit(
        self,
        method: str,
        spec: str,
        kwargs: dict[str, Any],
        *,
        extra: Hook | None = None,
        report: bool = True,
    ) -> None:
        context = kwargs["context"]
        hooks = self.hooks if extra is None or extra in self.hooks else [*self.hooks, extra]
        for hook in hooks:
            args = [_copy(v) for k, v in kwargs.items() if k != "context"]
            try:
                getattr(hook, method)(*args, context=context)
            except BaseException as exc:  # a hook's SystemExit too; a real Ctrl-C is re-raised
                if not raised_by_code(exc):
                    raise
                name = getattr(type(hook), "name", "") or type(hook).__name__
                self._failed(
                    f"hook:{name}", f"hook {name} failed in {method}: {one_line(exc)}", context, report
                )
        for impl in self._impls(spec, context):
            try:
                impl.function(**{name: _copy(kwargs[name]) for name in impl.argnames if name in kwargs})
            except BaseException as exc:  # a plugin's SystemExit too; a real Ctrl-C is re-raised
                if not raised_by_code(exc):
                    raise
                name = impl.plugin_name
                self._failed(
                    f"plugin:{name}", f"plugin {name} failed in {spec}: {one_line(exc)}", context, report
                )

    def _failed(self, scope: str, message: str, context: RunContext, report: bool) -> None:
        self.warn(message)
        if report:
            self.error(scope, message, context, report=False)

    def _observed(self, spec: str, extra: Hook | None, context: RunContext) -> bool:
        """Whether any Hook object or plugin gets `spec`: if not, no payload needs building or masking."""
        return bool(self.hooks) or extra is not None or bool(self._impls(spec, context))

    def pipeline_start(self, pipeline: Any, context: RunContext) -> None:
        self._emit("on_pipeline_start", "gryt_pipeline_start", {"pipeline": pipeline, "context": context})

    def pipeline_end(self, pipeline: Any, result: dict[str, Any], context: RunContext) -> None:
        masked = self.masker.mask_obj(result)
        self._emit(
            "on_pipeline_end",
            "gryt_pipeline_end",
            {"pipeline": pipeline, "result": masked, "context": context},
        )

    def step_start(self, step: Any, context: RunContext, *, extra: Hook | None = None) -> None:
        if self._observed("gryt_step_start", extra, context):
            self._emit("on_step_start", "gryt_step_start", {"step": step, "context": context}, extra=extra)

    def step_end(
        self, step: Any, result: dict[str, Any], context: RunContext, *, extra: Hook | None = None
    ) -> None:
        if self._observed("gryt_step_end", extra, context):
            masked = self.masker.mask_obj(result)
            self._emit(
                "on_step_end",
                "gryt_step_end",
                {"step": step, "result": masked, "context": context},
                extra=extra,
            )

    def destination_start(self, destination: Any, context: RunContext) -> None:
        if self._observed("gryt_destination_start", None, context):
            self._emit(
                "on_destination_start",
                "gryt_destination_start",
                {"destination": destination, "context": context},
            )

    def destination_end(self, destination: Any, result: dict[str, Any], context: RunContext) -> None:
        if self._observed("gryt_destination_end", None, context):
            masked = self.masker.mask_obj(result)
            self._emit(
                "on_destination_end",
                "gryt_destination_end",
                {"destination": destination, "result": masked, "context": context},
            )

    def error(self, scope: str, error: BaseException | str, context: Any, *, report: bool = True) -> None:
        message = self.masker.mask(one_line(error) if isinstance(error, BaseException) else str(error))
        self._emit(
            "on_error",
            "gryt_error",
            {"scope": scope, "error": message, "context": context},
            report=report,
        )
