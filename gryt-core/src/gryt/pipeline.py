"""Pipelines: validators, auth steps, a runtime, runners (optionally in parallel) and destinations.

Execution order (DESIGN §2): validators (all of them; any issue ends the run as `invalid_env` before
anything else happens, `pipeline_start` included) -> `pipeline_start` -> auth steps in order (the first
failure ends the run as `auth_failed`) -> `runtime.provision()` -> runners -> destinations (only when
every runner succeeded) -> `runtime.teardown()` and `cleanup()` of every successful auth step, always ->
`pipeline_end` (called for every run, also `invalid_env` and `interrupted`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gryt.context import RunContext
from gryt.errors import ConfigError, one_line
from gryt.events import EventDispatcher
from gryt.history import Recorder, now_iso
from gryt.hook import Hook
from gryt.process import control_for
from gryt.runner import Runner, log_dir_for
from gryt.validators import Issue

if TYPE_CHECKING:
    from gryt.auth import Auth
    from gryt.data import Data
    from gryt.destination import Destination
    from gryt.runtime import Runtime
    from gryt.validators import Validator


SIGNAL_POLL = 0.1
"""Seconds between checks for pending signals while the main thread waits for runners."""


def _type_name(obj: object) -> str:
    return getattr(type(obj), "name", "") or type(obj).__name__


class Pipeline:
    """A whole CI run. `execute()` returns the result dict of DESIGN §2 plus `warnings` (and `error`).

    Construction checks the graph: duplicate runner or step ids, unknown `needs` and cycles raise
    ConfigError (a ValueError). `secrets` names environment variables whose values are masked.
    """

    def __init__(  # noqa: PLR0917 - the positional order is the public API (DESIGN §2)
        self,
        runners: Iterable[Runner],
        data: Data | None = None,
        runtime: Runtime | None = None,
        versioning: Any = None,
        hook: Hook | Sequence[Hook] | None = None,
        destinations: Iterable[Destination] | None = None,
        validators: Iterable[Validator] | None = None,
        auth_steps: Iterable[Auth] | None = None,
        *,
        name: str | None = None,
        max_parallel: int | None = None,
        secrets: Iterable[str] | None = None,
    ) -> None:
        self.runners: list[Runner] = list(runners)
        if data is None:
            data = next((r.data for r in self.runners if r.data is not None), None)
        self.data = data
        self.runtime = runtime
        self.versioning = versioning
        if hook is None:
            self.hooks: list[Hook] = []
        elif isinstance(hook, Hook):
            self.hooks = [hook]
        else:
            self.hooks = list(hook)
        self.destinations: list[Destination] = list(destinations or [])
        self.validators: list[Validator] = list(validators or [])
        self.auth_steps: list[Auth] = list(auth_steps or [])
        self.name = name or "pipeline"
        if max_parallel is not None and (
            isinstance(max_parallel, bool) or not isinstance(max_parallel, int) or max_parallel < 1
        ):
            raise ConfigError(f"max_parallel must be a positive integer, got {max_parallel!r}")
        self.max_parallel = max_parallel
        self.secrets: list[str] = [secrets] if isinstance(secrets, str) else list(secrets or [])
        self.context: RunContext | None = None
        self._selected: set[str] | None = None
        self._check_graph()

    def _check_graph(self) -> None:
        for index, runner in enumerate(self.runners):
            if not isinstance(runner, Runner):
                raise ConfigError(f"runners[{index}] is not a Runner: {runner!r}")
            if runner.auto_id:
                runner.id = f"runner_{index}"
        owners: dict[str, str] = {}
        step_owner: dict[str, str] = {}
        for runner in self.runners:
            if runner.id in owners:
                raise ConfigError(f"duplicate runner id {runner.id!r}")
            owners[runner.id] = runner.id
            for step in runner.steps:
                if step.id in step_owner:
                    raise ConfigError(
                        f"duplicate step id {step.id!r} (in runners {step_owner[step.id]!r} and {runner.id!r})"
                    )
                step_owner[step.id] = runner.id
        for kind, items in (("auth step", self.auth_steps), ("destination", self.destinations)):
            seen: set[str] = set()
            for item in items:
                if item.id in seen:
                    raise ConfigError(f"duplicate {kind} id {item.id!r}")
                seen.add(item.id)
        known = ", ".join(owners) or "none"
        for runner in self.runners:
            for need in runner.needs:
                if need not in owners:
                    raise ConfigError(
                        f"runner {runner.id!r} needs unknown runner {need!r}; known runners: {known}"
                    )
        self._order = self._topological_order()

    def _topological_order(self) -> list[Runner]:
        """Runners in declaration order, each after its needs; a cycle is a ConfigError naming it."""
        by_id = {r.id: r for r in self.runners}
        order: list[Runner] = []
        state: dict[str, int] = {}

        def visit(runner: Runner, path: list[str]) -> None:
            mark = state.get(runner.id)
            if mark == 2:
                return
            if mark == 1:
                cycle = [*path[path.index(runner.id) :], runner.id]
                raise ConfigError(f"runner needs form a cycle: {' -> '.join(cycle)}")
            state[runner.id] = 1
            for need in runner.needs:
                visit(by_id[need], [*path, runner.id])
            state[runner.id] = 2
            order.append(runner)

        for runner in self.runners:
            visit(runner, [])
        return order

    def select(self, runner_ids: Iterable[str]) -> Pipeline:
        """Run only these runners; their needs outside the selection count as satisfied."""
        ids = [runner_ids] if isinstance(runner_ids, str) else list(runner_ids)
        known = [r.id for r in self.runners]
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ConfigError(f"unknown runner {unknown[0]!r}; known runners: {', '.join(known) or 'none'}")
        self._selected = set(ids)
        return self

    @property
    def selected_runners(self) -> list[Runner]:
        return [r for r in self.runners if self._selected is None or r.id in self._selected]

    def describe(self, parallel: bool = False) -> dict[str, Any]:
        """The run's `config_json`: the shape of the pipeline (masked before it is stored)."""
        return {
            "name": self.name,
            "parallel": parallel,
            "max_parallel": self.max_parallel,
            "selected": sorted(self._selected) if self._selected is not None else None,
            "runtime": _type_name(self.runtime) if self.runtime is not None else None,
            "validators": [_type_name(v) for v in self.validators],
            "auth": [{"id": a.id, "type": _type_name(a)} for a in self.auth_steps],
            "runners": [r.describe() for r in self.runners],
            "destinations": [{"id": d.id, "type": _type_name(d)} for d in self.destinations],
            "secrets": list(self.secrets),
        }

    def interrupt(self, force: bool = False) -> None:
        """Stop the current run: no new step starts, running commands get SIGTERM (SIGKILL if `force`,
        else after a grace). Only sets flags and sends signals, so a signal handler may call it."""
        context = self.context
        if context is not None:
            control_for(context.cancel).interrupt(force)

    def execute(
        self,
        parallel: bool = False,
        artifacts: Iterable[str | Path] | None = None,
        show: bool = False,
        *,
        context: RunContext | None = None,
    ) -> dict[str, Any]:
        """Run the pipeline (see the module docstring for the order) and return its result.

        A KeyboardInterrupt is handled like `interrupt()`: the run is finished and recorded as
        `interrupted`, then the KeyboardInterrupt is re-raised.
        """
        ctx = context if context is not None else RunContext()
        if ctx.data is None:
            ctx.data = self.data
        ctx.show = ctx.show or show
        runners = self.selected_runners
        ctx.prefix_output = ctx.prefix_output or (parallel and len(runners) > 1)
        if ctx.log_dir is None:
            ctx.log_dir = log_dir_for(self.data, ctx.run_id)
        self.context = ctx
        control = control_for(ctx.cancel)
        for name in self.secrets:
            ctx.add_secret(os.environ.get(name))
        events = EventDispatcher(self.hooks, ctx.masker)
        recorder = Recorder(self.data, background=True)
        started = time.monotonic()
        secrets_at_start = ctx.masker.pattern
        recorder.run_started(ctx.run_id, self.name, ctx.masker.mask_obj(self.describe(parallel)))

        state = _RunState()
        state.issues = self._validate()
        if state.issues:
            first = state.issues[0]
            state.status = "invalid_env"
            state.error = f"{len(state.issues)} environment issue(s); first: {first.get('message')}"
        else:
            try:
                self._run(
                    ctx, events, recorder, state, runners=runners, parallel=parallel, artifacts=artifacts
                )
            except KeyboardInterrupt:
                state.keyboard = True
                control.interrupt()
            finally:
                self._finish(ctx, events, state)
                if state.pending:
                    self._skip_rest(ctx, events, recorder, state)
        if state.status is None:
            state.status = self._final_status(ctx, state)
        result: dict[str, Any] = {
            "status": state.status,
            "run_id": ctx.run_id,
            "runners": state.runner_results,
            "auth": state.auth_results,
            "issues": state.issues,
            "destinations": state.destination_results,
        }
        if state.status != "success":
            result["error"] = state.error or self._describe_failure(state)
        result = ctx.masker.mask_obj(result)
        recorder.close()
        for problem in recorder.errors:
            events.warn(problem)
        events.pipeline_end(self, result, ctx)
        result["warnings"] = list(events.warnings)
        extra: dict[str, Any] = {
            "issues": result["issues"],
            "destinations": result["destinations"],
            "warnings": result["warnings"],
        }
        if ctx.masker.pattern is not secrets_at_start:  # secrets declared during the run: re-mask
            extra["config"] = self.describe(parallel)
        recorder.run_finished(
            ctx.run_id,
            state.status,
            duration=round(time.monotonic() - started, 6),
            error=result.get("error"),
            extra=ctx.masker.mask_obj(extra),
        )
        if state.keyboard:
            raise KeyboardInterrupt
        return result

    def validate_environment(self) -> dict[str, Any]:
        """Run only the validators: `{"status": "ok" | "invalid_env", "issues": [...]}` (gryt-ci 1.x's report)."""
        issues = self._validate()
        return {"status": "invalid_env" if issues else "ok", "issues": issues}

    def _validate(self) -> list[dict[str, Any]]:
        issues: list[Issue] = []
        for validator in self.validators:
            try:
                found = validator.run()
                if not isinstance(found, list):
                    raise TypeError(f"run() returned {type(found).__name__}, not a list of Issue")
                issues.extend(found)
            except Exception as exc:  # noqa: BLE001 - a broken validator is an issue, the others still run
                issues.append(
                    Issue(kind="validator_error", name=_type_name(validator), message=one_line(exc))
                )
        return [i.to_dict() if isinstance(i, Issue) else dict(i) for i in issues]

    def _run(
        self,
        ctx: RunContext,
        events: EventDispatcher,
        recorder: Recorder,
        state: _RunState,
        *,
        runners: list[Runner],
        parallel: bool,
        artifacts: Iterable[str | Path] | None,
    ) -> None:
        events.pipeline_start(self, ctx)
        state.pending = [r for r in self._order if r in runners]
        if not self._authenticate(ctx, events, recorder, state):
            return
        if ctx.cancel.is_set():
            return
        if self.runtime is not None:
            state.provisioned = True
            try:
                self.runtime.provision()
            except Exception as exc:  # noqa: BLE001 - reported as the run's error, teardown still runs
                state.status = "error"
                state.error = f"runtime {_type_name(self.runtime)} failed to provision: {one_line(exc)}"
                events.error(f"runtime:{_type_name(self.runtime)}", state.error, ctx)
                return
            ctx.env.update({str(k): str(v) for k, v in (self.runtime.env or {}).items()})
            ctx.cwd = getattr(self.runtime, "cwd", None)
        for name in self.secrets:
            ctx.add_secret(ctx.env.get(name))
        if parallel:
            self._run_parallel(ctx, events, recorder, state, runners)
        else:
            self._run_sequential(ctx, events, recorder, state)
        if not ctx.cancel.is_set() and all(r.status == "success" for r in runners):
            self._publish(ctx, events, state, artifacts)

    def _authenticate(
        self, ctx: RunContext, events: EventDispatcher, recorder: Recorder, state: _RunState
    ) -> bool:
        for auth in self.auth_steps:
            if ctx.cancel.is_set():
                return False
            auth.context = ctx
            start_ts = now_iso()
            t0 = time.monotonic()
            try:
                raw: Any = auth.authenticate()
            except Exception as exc:  # noqa: BLE001 - an auth plugin bug is an auth failure
                raw = {"status": "error", "error": one_line(exc)}
            for value in getattr(auth, "secrets", []):
                ctx.add_secret(value)
            for key, value in getattr(auth, "exported_env", {}).items():
                ctx.env.setdefault(key, value)
            result = dict(raw) if isinstance(raw, dict) else {"status": "error", "error": "no result dict"}
            if result.get("status") not in ("success", "error", "skipped"):
                result["error"] = result.get("error") or f"unexpected status {result.get('status')!r}"
                result["status"] = "error"
            result.setdefault("duration", round(time.monotonic() - t0, 6))
            result = ctx.masker.mask_obj(result)
            state.auth_results[auth.id] = result
            recorder.auth_finished(
                ctx.run_id,
                auth.id,
                _type_name(auth),
                result,
                duration=result["duration"],
                start_timestamp=start_ts,
            )
            if result["status"] == "skipped":  # logged in before this run: not this run's to clean up
                continue
            if result["status"] == "success":
                state.authenticated.append(auth)
                continue
            state.status = "auth_failed"
            state.error = f"auth step {auth.id!r} failed: {result.get('error') or 'no reason given'}"
            events.error(f"auth:{auth.id}", state.error, ctx)
            return False
        return True

    def _run_sequential(
        self, ctx: RunContext, events: EventDispatcher, recorder: Recorder, state: _RunState
    ) -> None:
        while state.pending:
            runner = state.pending.pop(0)
            state.finished.add(runner.id)
            if self._ready_or_skip(runner, ctx, events, recorder, state) is False:
                continue
            try:
                state.runner_results[runner.id] = runner.execute(
                    context=ctx, events=events, recorder=recorder
                )
            except KeyboardInterrupt:
                state.keyboard = True
                control_for(ctx.cancel).interrupt()
                state.runner_results[runner.id] = {}
            except Exception as exc:  # noqa: BLE001 - a crashed runner fails the run, others go on
                runner.status = "error"
                state.runner_results[runner.id] = {}
                events.error(f"runner:{runner.id}", exc, ctx)

    def _ready_or_skip(
        self, runner: Runner, ctx: RunContext, events: EventDispatcher, recorder: Recorder, state: _RunState
    ) -> bool | None:
        """True when `runner` may start; False when it was recorded skipped/interrupted; None: wait."""
        if ctx.cancel.is_set():
            state.runner_results[runner.id] = runner.skip(
                "interrupted", "run interrupted before this runner started", ctx, events, recorder
            )
            return False
        selected = {r.id for r in self.selected_runners}
        by_id = {r.id: r for r in self.runners}
        for need in runner.needs:
            if need not in selected:
                continue
            status = by_id[need].status if need in state.finished else None
            if status is None:
                return None
            if status != "success":
                reason = f"needs runner {need!r}, which ended with {status}"
                state.runner_results[runner.id] = runner.skip("skipped", reason, ctx, events, recorder)
                return False
        return True

    def _run_parallel(
        self,
        ctx: RunContext,
        events: EventDispatcher,
        recorder: Recorder,
        state: _RunState,
        runners: list[Runner],
    ) -> None:
        limit = self.max_parallel or max(1, len(runners))
        control = control_for(ctx.cancel)
        running: dict[Future[dict[str, dict[str, Any]]], Runner] = {}
        with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="gryt-runner") as pool:
            while state.pending or running:
                try:
                    if not self._schedule(
                        pool, running, ctx, limit=limit, events=events, recorder=recorder, state=state
                    ):
                        break
                except KeyboardInterrupt:
                    control.interrupt(force=state.keyboard)
                    state.keyboard = True

    def _schedule(
        self,
        pool: ThreadPoolExecutor,
        running: dict[Future[dict[str, dict[str, Any]]], Runner],
        ctx: RunContext,
        *,
        limit: int,
        events: EventDispatcher,
        recorder: Recorder,
        state: _RunState,
    ) -> bool:
        """Start every runner that is ready, then wait for one to finish; False when nothing is left."""
        for runner in list(state.pending):
            if len(running) >= limit and not ctx.cancel.is_set():
                break
            ready = self._ready_or_skip(runner, ctx, events, recorder, state)
            if ready is None:
                continue
            state.pending.remove(runner)
            if ready is False:
                state.finished.add(runner.id)
                continue
            future = pool.submit(runner.execute, context=ctx, events=events, recorder=recorder)
            running[future] = runner
        if not running:
            if state.pending:  # needs can no longer be met (cannot happen after the cycle check)
                self._skip_rest(ctx, events, recorder, state)
            return False
        done: set[Future[dict[str, dict[str, Any]]]] = set()
        while not done:
            # Wait in slices: a signal the kernel delivers to a worker thread only runs its Python
            # handler (KeyboardInterrupt) once the main thread gets back to the interpreter.
            done, _ = wait(list(running), timeout=SIGNAL_POLL, return_when=FIRST_COMPLETED)
        for future in done:
            runner = running.pop(future)
            state.finished.add(runner.id)
            try:
                state.runner_results[runner.id] = future.result()
            except Exception as exc:  # noqa: BLE001 - a crashed runner fails the run, others go on
                runner.status = "error"
                state.runner_results[runner.id] = {}
                events.error(f"runner:{runner.id}", exc, ctx)
        return True

    def _skip_rest(
        self, ctx: RunContext, events: EventDispatcher, recorder: Recorder, state: _RunState
    ) -> None:
        for runner in state.pending:
            status = "interrupted" if ctx.cancel.is_set() else "skipped"
            state.runner_results[runner.id] = runner.skip(
                status, f"run ended before runner {runner.id!r} started", ctx, events, recorder
            )
            state.finished.add(runner.id)
        state.pending = []

    def _publish(
        self,
        ctx: RunContext,
        events: EventDispatcher,
        state: _RunState,
        artifacts: Iterable[str | Path] | None,
    ) -> None:
        paths = [Path(a) for a in (artifacts or [])]
        for destination in self.destinations:
            destination.context = ctx
            try:
                published = destination.publish(paths)
                if not isinstance(published, list):
                    raise TypeError(f"publish() returned {type(published).__name__}, not a list")
            except Exception as exc:  # noqa: BLE001 - a destination bug is a failed publish, not a crash
                published = [{"artifact": None, "status": "error", "error": one_line(exc)}]
                events.error(f"destination:{destination.id}", exc, ctx)
            state.destination_results[destination.id] = ctx.masker.mask_obj(
                [dict(p) for p in published if isinstance(p, dict)]
            )

    def _finish(self, ctx: RunContext, events: EventDispatcher, state: _RunState) -> None:
        """Teardown and auth cleanup, always; their errors are warnings."""
        if state.provisioned and self.runtime is not None:
            try:
                self.runtime.teardown()
            except Exception as exc:  # noqa: BLE001 - teardown problems must not hide the run's result
                events.warn(f"runtime {_type_name(self.runtime)} teardown failed: {one_line(exc)}")
        for auth in reversed(state.authenticated):
            try:
                auth.cleanup()
            except Exception as exc:  # noqa: BLE001 - cleanup problems must not hide the run's result
                events.warn(f"auth step {auth.id!r} cleanup failed: {one_line(exc)}")

    def _final_status(self, ctx: RunContext, state: _RunState) -> str:
        if state.keyboard or ctx.cancel.is_set():
            return "interrupted"
        runners = self.selected_runners
        if any(r.status != "success" for r in runners):
            return "error"
        for published in state.destination_results.values():
            if any(p.get("status") != "success" for p in published):
                return "error"
        return "success"

    def _describe_failure(self, state: _RunState) -> str:
        if state.keyboard:
            return "interrupted (KeyboardInterrupt)"
        for runner_id, steps in state.runner_results.items():
            for step_id, result in steps.items():
                if result.get("status") == "interrupted":
                    return "interrupted"
                if result.get("status") == "error":
                    return f"step {runner_id}/{step_id} failed: {result.get('error') or 'error'}"
        for dest_id, published in state.destination_results.items():
            for item in published:
                if item.get("status") != "success":
                    return f"destination {dest_id!r} failed: {item.get('error') or 'error'}"
        return "interrupted" if state.status == "interrupted" else "a runner failed"


class _RunState:
    """Mutable bookkeeping of one `execute()` call."""

    def __init__(self) -> None:
        self.status: str | None = None
        self.error: str | None = None
        self.keyboard = False
        self.provisioned = False
        self.issues: list[dict[str, Any]] = []
        self.authenticated: list[Auth] = []
        self.auth_results: dict[str, dict[str, Any]] = {}
        self.runner_results: dict[str, dict[str, dict[str, Any]]] = {}
        self.destination_results: dict[str, list[dict[str, Any]]] = {}
        self.pending: list[Runner] = []
        self.finished: set[str] = set()
