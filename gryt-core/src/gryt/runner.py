"""Runners: an ordered list of steps executed one after the other, stopping at the first failure."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from gryt.allow_failure import AllowFailureSpec, parse_allow_failure
from gryt.conditions import Condition, decide, parse_condition
from gryt.config import MAX_NESTING, too_deep
from gryt.errors import ConfigError, one_line
from gryt.events import EventDispatcher
from gryt.expressions import Status
from gryt.history import Recorder, now_iso
from gryt.interrupts import raised_by_code
from gryt.status import ERROR, INTERRUPTED, SKIPPED, SUCCESS, RunStatus, StepStatus
from gryt.step import Step, empty_result

if TYPE_CHECKING:
    from gryt.context import RunContext
    from gryt.data import Data
    from gryt.variables import Contexts

FAILED: tuple[StepStatus, ...] = (ERROR,)
"""Step statuses that count as a failure (fail_fast stops the runner there)."""


def log_dir_for(data: Data | None, run_id: str) -> Any:
    """`<db dir>/logs/<run_id>` for a file database, else None (in-memory runs keep no log files)."""
    path = getattr(data, "path", None)
    return None if path is None else path.parent / "logs" / run_id


class Runner:
    """Run `steps` in order. With `fail_fast` (default), steps after a failure are recorded `skipped`.

    `id` defaults to `runner_<index>` inside a pipeline; `needs` names runners that must succeed first.
    `allow_failure` lets the runner fail without failing the run: it ends `error` with `allowed` set,
    the failed step's result says `allowed: True`, and the runners that need it still run. `if_` is
    its condition (`gryt.conditions`): when false the runner and its steps are recorded `skipped`.
    """

    def __init__(
        self,
        steps: Iterable[Step],
        data: Data | None = None,
        config: Mapping[str, Any] | None = None,
        *,
        id: str | None = None,
        needs: Iterable[str] | str = (),
        allow_failure: AllowFailureSpec = None,
        if_: str | Condition | None = None,
        matrix: Mapping[str, Any] | None = None,
    ) -> None:
        self.steps: list[Step] = list(steps)
        self.data = data
        self.config: dict[str, Any] = dict(config or {})
        where = id or "runner"
        fail_fast = self.config.setdefault("fail_fast", True)
        if not isinstance(fail_fast, bool):
            raise ConfigError(f"{where}.fail_fast: expected a boolean, got {fail_fast!r}")
        if id is not None and (not isinstance(id, str) or not id):
            raise ConfigError(f"runner id must be a non-empty string, got {id!r}")
        self.id: str = id or "runner_0"
        self.auto_id = id is None
        self.needs: tuple[str, ...] = (needs,) if isinstance(needs, str) else tuple(needs)
        self.status: StepStatus | None = None
        self.allow_failure = parse_allow_failure(allow_failure, where)
        self.condition = parse_condition(if_, where)
        self.matrix: dict[str, Any] | None = None if matrix is None else dict(matrix)
        """The matrix declared on this runner: a pipeline runs one copy of it per combination."""
        self.matrix_values: dict[str, Any] = {}
        """`matrix.*` of this runner, when it is one combination of a matrix (`group` is then the id the
        matrix was declared with)."""
        self.group: str | None = None
        self.shared_step_ids: frozenset[str] = frozenset()
        """Ids of this runner's steps that other runners of the pipeline use too: recorded as `RUNNER/STEP`."""
        self.allowed = False
        """True when the runner ended `error` but every failure in it was allowed (by the runner)."""
        seen: set[str] = set()
        for step in self.steps:
            if not isinstance(step, Step):
                raise ConfigError(f"{where}: {step!r} is not a Step")
            if step.id in seen:
                raise ConfigError(f"{where}: duplicate step id {step.id!r}")
            seen.add(step.id)

    def expand_matrix(self) -> list[Runner]:
        """One runner per combination of `matrix` (ids like `test (python=3.10)`), or `[self]` without one.
        Each copy has its own copies of the steps (their config deep-copied), the same data and hooks."""
        if self.matrix is None:
            return [self]
        from gryt.matrix import expand, runner_id

        copies = []
        for combo in expand(self.matrix, f"{self.id}.matrix"):
            steps = []
            for step in self.steps:
                twin = copy.copy(step)
                twin.config = copy.deepcopy(step.config)
                steps.append(twin)
            twin_runner = Runner(
                steps,
                self.data,
                self.config,
                id=runner_id(self.id, combo),
                needs=self.needs,
                allow_failure=self.allow_failure,
                if_=self.condition,
            )
            twin_runner.matrix_values = dict(combo)
            twin_runner.group = self.id
            copies.append(twin_runner)
        return copies

    @property
    def fail_fast(self) -> bool:
        return bool(self.config["fail_fast"])

    @property
    def passed(self) -> bool:
        """Succeeded, or failed with every failure allowed: what the runners needing it ask."""
        return self.status == SUCCESS or (self.status == ERROR and self.allowed)

    @property
    def failed(self) -> bool:
        """Ended in a way that fails the run: not passed and not skipped (a runner is skipped by its
        condition or because a need failed, which failed the run already)."""
        return self.status != SKIPPED and not self.passed

    def execute(
        self,
        *,
        context: RunContext | None = None,
        events: EventDispatcher | None = None,
        recorder: Recorder | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Run the steps; returns `{step_id: result}`. A KeyboardInterrupt is recorded, then re-raised.

        Inside a pipeline the context, event dispatcher and recorder are the pipeline's. Standalone, the
        runner records a run of its own (named after its id) when it has a database.
        """
        standalone = context is None
        if context is None:
            from gryt.context import RunContext

            context = RunContext(data=self.data)
            context.log_dir = log_dir_for(self.data, context.run_id)
        if recorder is None:
            recorder = Recorder(self.data if standalone else None, background=True)
        if events is None:
            events = EventDispatcher(masker=context.masker)
        if standalone:
            recorder.run_started(context.run_id, self.id, {"runners": [self.describe()]})
        started = time.monotonic()
        try:
            results = self._execute(context.for_runner(self.id), events, recorder)
        finally:
            if standalone:
                status: RunStatus = INTERRUPTED
                if self.status in (SUCCESS, ERROR):  # a standalone runner never skips
                    status = SUCCESS if self.passed else ERROR
                error = None if status == SUCCESS else f"runner {self.id} {status}"
                recorder.run_finished(
                    context.run_id, status, duration=time.monotonic() - started, error=error
                )
                for problem in recorder.errors:
                    events.warn(problem)
        return results

    def _execute(
        self, ctx: RunContext, events: EventDispatcher, recorder: Recorder
    ) -> dict[str, dict[str, Any]]:
        run_id = ctx.run_id
        self.status = None
        self.allowed = False
        recorder.runner_started(run_id, self.id, needs=self.needs)
        started = time.monotonic()
        results: dict[str, dict[str, Any]] = {}
        failed: str | None = None
        refused = False  # a failure that no allow_failure allows
        keyboard = False
        for step in self.steps:
            if ctx.cancel.is_set():
                result = empty_result(INTERRUPTED, "run interrupted before this step started")
                self._finish(step, result, ctx, events, recorder, start_ts=None)
            elif reason := self._skip_reason(step, failed, ctx):
                result = empty_result(SKIPPED, reason)
                self._finish(step, result, ctx, events, recorder, start_ts=None)
            else:
                try:
                    result = self._run_step(step, ctx, events, recorder)
                except KeyboardInterrupt:
                    keyboard = True
                    from gryt.process import control_for

                    control_for(ctx.cancel).interrupt()
                    result = empty_result(INTERRUPTED, "interrupted (KeyboardInterrupt)")
                    self._finish(step, result, ctx, events, recorder, start_ts=None)
                if result.get("status") in FAILED and not _allowed_by(step, result):
                    failed = failed or step.id
                    refused = refused or not result.get("allowed")
            results[step.id] = result
        statuses = {r.get("status") for r in results.values()}
        if INTERRUPTED in statuses or keyboard:
            self.status = INTERRUPTED
        elif failed is not None:
            self.status = ERROR
            self.allowed = not refused
        else:
            self.status = SUCCESS
        recorder.runner_finished(run_id, self.id, self.status, duration=time.monotonic() - started)
        if keyboard:
            raise KeyboardInterrupt
        return results

    def _skip_reason(self, step: Step, failed: str | None, ctx: RunContext) -> str:
        """Why `step` is skipped ("" to run it): its `if`, or an earlier failure with fail_fast."""
        earlier = f"step {failed!r} failed (fail_fast)" if failed is not None and self.fail_fast else ""
        condition = getattr(step, "condition", None)
        if condition is None:
            return earlier
        status = Status(failed=failed is not None, cancelled=ctx.cancel.is_set())
        return decide(condition, self.contexts(ctx), status, earlier)

    def contexts(self, ctx: RunContext) -> Contexts | None:
        """The run's variables with this runner's `matrix`."""
        if ctx.variables is None or not self.matrix_values:
            return ctx.variables
        return replace(ctx.variables, matrix=self.matrix_values)

    def _run_step(
        self, step: Step, ctx: RunContext, events: EventDispatcher, recorder: Recorder
    ) -> dict[str, Any]:
        step.context = ctx
        try:
            valid = step.validate()
        except BaseException as exc:  # plugin code: SystemExit too; a real Ctrl-C re-raised
            if not raised_by_code(exc):
                raise
            # a broken step is an error result, never a crash
            result = empty_result(ERROR, f"validate() raised {one_line(exc)}")
            self._finish(step, result, ctx, events, recorder, start_ts=None)
            return result
        if not valid:
            result = empty_result(SKIPPED, "validate() returned False")
            self._finish(step, result, ctx, events, recorder, start_ts=None)
            return result
        events.step_start(step, ctx, extra=step.hook)
        start_ts = now_iso()
        t0 = time.monotonic()
        try:
            cache = ctx.cache
            raw = step.run() if cache is None else cache.run(step, self, ctx, step.run, events.warn)
        except BaseException as exc:  # plugin code: SystemExit too; a real Ctrl-C re-raised
            if not raised_by_code(exc):
                raise
            # an exception in run() becomes an error result
            raw = empty_result(ERROR, f"run() raised {one_line(exc)}")
            raw["attempts"] = 1
        if not isinstance(raw, dict):
            raw = empty_result(ERROR, f"run() returned {type(raw).__name__}, not a result dict")
        elif too_deep(raw):  # masking, event copies and JSON walk results recursively
            raw = empty_result(ERROR, f"run() returned a result nested more than {MAX_NESTING} levels deep")
        result = dict(raw)
        if "status" not in result:
            result["status"] = ERROR
            result.setdefault("error", "run() returned a result without status")
        result.setdefault("duration", round(time.monotonic() - t0, 6))
        if _allowed_by(step, result) or (
            self.allow_failure is not None and self.allow_failure.allows(result)
        ):
            result["allowed"] = True
            reason = result.get("error") or f"exit code {result.get('returncode')}"
            events.warn(f"allowed failure: step {self.id}/{step.id} failed: {ctx.masker.mask(str(reason))}")
        self._finish(step, result, ctx, events, recorder, start_ts=start_ts)
        return result

    def _finish(
        self,
        step: Step,
        result: dict[str, Any],
        ctx: RunContext,
        events: EventDispatcher,
        recorder: Recorder,
        *,
        start_ts: str | None,
    ) -> None:
        if result.get("log_error"):  # one warning for all steps: a full disk fails every log alike
            message = (
                f"could not write the step log files ({result['log_error']}); the output is in the results"
            )
            if message not in events.warnings:
                events.warn(message)
        if ctx.cache is not None:
            ctx.cache.record(self.id, step, result)
        for warning in result.get("warnings") or []:  # a step's own, e.g. an environment it had to rebuild
            events.warn(f"step {self.id}/{step.id}: {ctx.masker.mask(str(warning))}")
        masked = ctx.masker.mask_obj(result)
        if masked is not result:
            result.clear()
            result.update(masked)
        log_path = getattr(step, "log_path", None) if start_ts is not None else None
        recorder.step_finished(
            ctx.run_id,
            self.id,
            f"{self.id}/{step.id}" if step.id in self.shared_step_ids else step.id,
            step.name or type(step).__name__,
            result,
            start_timestamp=start_ts,
            log_path=str(log_path) if log_path else None,
        )
        events.step_end(step, result, ctx, extra=step.hook)

    def skip(
        self,
        status: StepStatus,
        reason: str,
        ctx: RunContext,
        events: EventDispatcher,
        recorder: Recorder,
    ) -> dict[str, dict[str, Any]]:
        """Record every step as `status` (`skipped` or `interrupted`) without running anything."""
        ctx = ctx.for_runner(self.id)
        results: dict[str, dict[str, Any]] = {}
        for step in self.steps:
            result = empty_result(status, reason)
            self._finish(step, result, ctx, events, recorder, start_ts=None)
            results[step.id] = result
        self.status = status
        recorder.runner_finished(ctx.run_id, self.id, status, needs=self.needs)
        return results

    def describe(self) -> dict[str, Any]:
        """What `config_json` records about this runner (`allow_failure` only where set)."""
        described: dict[str, Any] = {
            "id": self.id,
            "needs": list(self.needs),
            "fail_fast": self.fail_fast,
            "steps": [_describe_step(s) for s in self.steps],
        }
        if self.allow_failure is not None:
            described["allow_failure"] = self.allow_failure.describe()
        if self.condition is not None:
            described["if"] = self.condition.source
        if self.group is not None:
            described["matrix"] = dict(self.matrix_values)
        return described


def _describe_step(step: Step) -> dict[str, Any]:
    described: dict[str, Any] = {
        "id": step.id,
        "type": step.name or type(step).__name__,
        "config": step.config,
    }
    policy = getattr(step, "allow_failure", None)
    if policy is not None:
        described["allow_failure"] = policy.describe()
    condition = getattr(step, "condition", None)
    if condition is not None:
        described["if"] = condition.source
    cache_spec = getattr(step, "cache_spec", None)
    if cache_spec is not None:
        described["cache"] = cache_spec.describe()
    return described


def _allowed_by(step: Step, result: Mapping[str, Any]) -> bool:
    """The step's own `allow_failure` allows this result (the runner goes on as after a success)."""
    policy = getattr(step, "allow_failure", None)
    return policy is not None and bool(policy.allows(result))
