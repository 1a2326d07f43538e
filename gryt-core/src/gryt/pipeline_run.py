"""One execution of a `Pipeline`: the run's context, event dispatcher, recorder and results in one object.

Which runner starts next is `gryt.schedule`'s; what happens to the destinations is `gryt.delivery`'s.

`Pipeline` is the configuration a user builds; `Pipeline.execute()` creates a `PipelineRun` and returns
what its `execute()` returns. The order of the phases is described in `gryt.pipeline`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gryt.command import cancel_on
from gryt.conditions import decide
from gryt.config import MAX_NESTING, too_deep
from gryt.delivery import Delivery
from gryt.errors import one_line
from gryt.events import EventDispatcher
from gryt.expressions import Status
from gryt.history import Recorder, now_iso
from gryt.interrupts import raised_by_code
from gryt.process import control_for
from gryt.schedule import Schedule
from gryt.status import (
    AUTH_FAILED,
    ERROR,
    INTERRUPTED,
    INVALID_ENV,
    SKIPPED,
    SUCCESS,
    RunStatus,
    StepStatus,
)
from gryt.typeinfo import type_name
from gryt.validators import run_validators

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from gryt.auth import Auth
    from gryt.context import RunContext
    from gryt.pipeline import Pipeline
    from gryt.runner import Runner

SIGNAL_POLL = 0.1
"""Seconds between checks for pending signals while the main thread waits for runners."""

RunnerResults = dict[str, dict[str, Any]]


class PipelineRun:
    """The state of one `Pipeline.execute()` call, and the phases that run it."""

    def __init__(
        self,
        pipeline: Pipeline,
        ctx: RunContext,
        order: list[Runner],
        *,
        parallel: bool,
        no_delivery: str | None = None,
        artifacts: Iterable[str | Path] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.ctx = ctx
        self.runners = order
        """The selected runners, each after its needs."""
        self.parallel = parallel
        self.events = EventDispatcher(pipeline.hooks, ctx.masker)
        history = getattr(pipeline, "history", None)
        self.recorder = Recorder(history if history is not None else pipeline.data, background=True)
        self.reported = 0  # how many of the recorder's errors were already reported as warnings
        self.noted = 0  # how many of the recorder's warnings (history lost, rows spooled) were reported
        self.status: RunStatus | None = None
        self.error: str | None = None
        self.keyboard = False
        self.provisioned = False
        self.issues: list[dict[str, Any]] = []
        self.authenticated: list[Auth] = []
        self.auth_results: dict[str, dict[str, Any]] = {}
        self.runner_results: dict[str, RunnerResults] = {}
        self.delivery = Delivery(pipeline, ctx, self.events, self.recorder)
        self.no_delivery = no_delivery
        self.explicit = None if artifacts is None else list(artifacts)
        self.schedule: Schedule | None = None

    def execute(self) -> dict[str, Any]:
        """Run every phase and return the result dict (see `Pipeline.execute`), with the `${{ }}` of the
        pipeline's config values rendered for this run (`gryt.variables`; a ConfigError before anything
        runs when one cannot be)."""
        from gryt import variables

        self.ctx.variables = variables.run_contexts(self.pipeline, self.ctx.run_id)
        restore = variables.apply(self.pipeline, self.ctx.variables, self.ctx.masker)
        try:
            return self._execute()
        finally:
            restore()

    def _execute(self) -> dict[str, Any]:
        pipeline, ctx, events, recorder = self.pipeline, self.ctx, self.events, self.recorder
        control = control_for(ctx.cancel)
        pipeline.declare_secrets(ctx.masker)
        started = time.monotonic()
        secrets_at_start = ctx.masker.pattern
        recorder.run_started(
            ctx.run_id,
            pipeline.name,
            ctx.masker.mask_obj(pipeline.describe(self.parallel)),
            continues=pipeline.continues,
        )

        self._validate()
        if self.issues:
            self.status = INVALID_ENV
            self.error = f"{len(self.issues)} environment issue(s); first: {self.issues[0].get('message')}"
        elif self.status is None:
            try:
                self._run()
            except KeyboardInterrupt:
                self.keyboard = True
                control.interrupt()
            finally:
                self._finish()
                self._skip_rest()
        self.delivery.skip_rest(self.no_delivery or self._why_not_delivered())
        if self.status is None:
            self.status = self._final_status()
        result: dict[str, Any] = {
            "status": self.status,
            "run_id": ctx.run_id,
            "runners": self.runner_results,
            "auth": self.auth_results,
            "issues": self.issues,
            "destinations": self.delivery.results,
            "delivery": self.delivery.outcomes,
        }
        if self.status != SUCCESS:
            result["error"] = self.error or self._describe_failure()
        result = ctx.masker.mask_obj(result)
        recorder.close()
        self._report_recording(result)
        events.pipeline_end(pipeline, result, ctx)
        result["warnings"] = list(events.warnings)
        extra: dict[str, Any] = {
            "issues": result["issues"],
            "destinations": result["destinations"],
            "warnings": result["warnings"],
        }
        if ctx.masker.pattern is not secrets_at_start:  # secrets declared during the run: re-mask
            extra["config"] = pipeline.describe(self.parallel)
        recorder.run_finished(
            ctx.run_id,
            self.status,
            duration=round(time.monotonic() - started, 6),
            error=result.get("error"),
            extra=ctx.masker.mask_obj(extra),
        )
        self._report_recording(result)
        if self.keyboard:
            raise KeyboardInterrupt
        return result

    def _report_recording(self, result: dict[str, Any]) -> None:
        """Warn once about each new recorder error. A run whose record could not be written (disk full,
        database locked too long or corrupted) is not a success: it ends `error`, with that as its error."""
        errors = self.recorder.errors
        for problem in errors[self.reported :]:
            self.events.warn(problem)
        self.reported = len(errors)
        for note in self.recorder.warnings[self.noted :]:
            self.events.warn(note)
        self.noted = len(self.recorder.warnings)
        if errors and result["status"] == SUCCESS:
            self.status = ERROR
            result["status"] = ERROR
            result["error"] = self.ctx.masker.mask(errors[0])
        if "warnings" in result:
            result["warnings"] = list(self.events.warnings)

    def _validate(self) -> None:
        """Run the validators, their short commands stopped by an interrupt (`gryt.command.cancel_on`);
        interrupted, the run is `interrupted` and the checks' half-done findings are dropped."""
        ctx = self.ctx
        try:
            with cancel_on(ctx.cancel):
                found = run_validators(self.pipeline.validators)
        except KeyboardInterrupt:
            self.keyboard = True
            control_for(ctx.cancel).interrupt()
        if self.keyboard or ctx.cancel.is_set():
            self.status = INTERRUPTED
            self.error = "interrupted while checking the environment"
            return
        self.issues = [issue for _label, issues in found for issue in issues]

    def _run(self) -> None:
        pipeline, ctx = self.pipeline, self.ctx
        self.events.pipeline_start(pipeline, ctx)
        self.schedule = Schedule(self.runners)
        if not self._authenticate() or ctx.cancel.is_set():
            return
        runtime = pipeline.runtime
        if runtime is not None:
            self.provisioned = True
            try:
                runtime.provision()
            except BaseException as exc:  # plugin code: SystemExit too; a real Ctrl-C re-raised
                if not raised_by_code(exc):
                    raise
                # reported as the run's error, teardown still runs
                self.status = ERROR
                self.error = f"runtime {type_name(runtime)} failed to provision: {one_line(exc)}"
                self.events.error(f"runtime:{type_name(runtime)}", self.error, ctx)
                return
            ctx.env.update({str(k): str(v) for k, v in (runtime.env or {}).items()})
            ctx.cwd = getattr(runtime, "cwd", None)
        for name in pipeline.secrets:
            ctx.add_secret(ctx.env.get(name))
        if ctx.cache is not None:
            ctx.cache.plan(self.runners)
        try:
            if self.parallel:
                self._run_parallel(self.schedule)
            else:
                self._run_sequential(self.schedule)
        finally:
            if ctx.cache is not None:
                ctx.cache.finish(self.events.warn)
        delivers = not self.no_delivery and not any(r.failed for r in self.runners)
        if delivers and not ctx.cancel.is_set():
            self.delivery.deliver(self.explicit)

    def _authenticate(self) -> bool:
        ctx = self.ctx
        for auth in self.pipeline.auth_steps:
            if ctx.cancel.is_set():
                return False
            reason = decide(getattr(auth, "condition", None), ctx.variables, Status(), "")
            if reason:
                self._skip_auth(auth, reason)
                continue
            auth.context = ctx
            start_ts = now_iso()
            t0 = time.monotonic()
            try:
                with cancel_on(ctx.cancel):  # Ctrl-C stops a slow token or login command at once
                    raw: Any = auth.authenticate()
            except BaseException as exc:  # plugin code: SystemExit too; a real Ctrl-C interrupts the run
                if raised_by_code(exc):  # an auth plugin bug is an auth failure
                    raw = {"status": ERROR, "error": one_line(exc)}
                elif isinstance(exc, KeyboardInterrupt):
                    self.keyboard = True
                    control_for(ctx.cancel).interrupt()
                    raw = {"status": INTERRUPTED}
                else:
                    raise
            for value in getattr(auth, "secrets", []):
                ctx.add_secret(value)
            for key, value in getattr(auth, "exported_env", {}).items():
                ctx.env.setdefault(key, value)
            result = dict(raw) if isinstance(raw, dict) else {"status": ERROR, "error": "no result dict"}
            if too_deep(result):  # masking, event copies and JSON walk results recursively
                result = {"status": ERROR, "error": f"result nested more than {MAX_NESTING} levels deep"}
            if ctx.cancel.is_set() and result.get("status") != SUCCESS:  # not a failure: interrupted
                result.update(status=INTERRUPTED, error="interrupted")
            elif result.get("status") not in (SUCCESS, ERROR, SKIPPED):
                result["error"] = result.get("error") or f"unexpected status {result.get('status')!r}"
                result["status"] = ERROR
            result.setdefault("duration", round(time.monotonic() - t0, 6))
            result = ctx.masker.mask_obj(result)
            self.auth_results[auth.id] = result
            self.recorder.auth_finished(
                ctx.run_id,
                auth.id,
                type_name(auth),
                result,
                duration=result["duration"],
                start_timestamp=start_ts,
            )
            if result["status"] == SKIPPED:  # logged in before this run: not this run's to clean up
                continue
            if result["status"] == SUCCESS:
                self.authenticated.append(auth)
                continue
            if result["status"] == INTERRUPTED:
                return False
            self.status = AUTH_FAILED
            self.error = f"auth step {auth.id!r} failed: {result.get('error') or 'no reason given'}"
            self.events.error(f"auth:{auth.id}", self.error, ctx)
            return False
        return True

    def _skip_auth(self, auth: Auth, reason: str) -> None:
        """Record an auth step its condition skips."""
        result = self.ctx.masker.mask_obj({"status": SKIPPED, "error": reason, "duration": 0.0})
        self.auth_results[auth.id] = result
        self.recorder.auth_finished(self.ctx.run_id, auth.id, type_name(auth), result, duration=0.0)

    def _interrupt_rest(self, schedule: Schedule) -> None:
        for runner in schedule.rest():
            self._skip(runner, INTERRUPTED, "run interrupted before this runner started")
            schedule.ended(runner)

    def _skip(self, runner: Runner, status: StepStatus, reason: str) -> None:
        self.runner_results[runner.id] = runner.skip(status, reason, self.ctx, self.events, self.recorder)

    def _run_sequential(self, schedule: Schedule) -> None:
        ctx = self.ctx
        while True:
            if ctx.cancel.is_set():
                self._interrupt_rest(schedule)
                return
            decided = schedule.next()
            if decided is None:
                return
            runner, reason = decided
            reason = self._decide(runner, reason)
            if reason:
                self._skip(runner, SKIPPED, reason)
            else:
                try:
                    self.runner_results[runner.id] = runner.execute(
                        context=ctx, events=self.events, recorder=self.recorder
                    )
                except KeyboardInterrupt:
                    self.keyboard = True
                    control_for(ctx.cancel).interrupt()
                    self.runner_results[runner.id] = {}
                except Exception as exc:  # noqa: BLE001 - a crashed runner fails the run, others go on
                    self._crashed(runner, exc)
            schedule.ended(runner)

    def _decide(self, runner: Runner, need_failed: str) -> str:
        """Why `runner` is skipped ("" to start it): a failed need (`need_failed`), or its `if`."""
        status = Status(failed=bool(need_failed), cancelled=self.ctx.cancel.is_set())
        return decide(runner.condition, runner.contexts(self.ctx), status, need_failed)

    def _crashed(self, runner: Runner, exc: Exception) -> None:
        runner.status = ERROR
        self.runner_results[runner.id] = {}
        self.events.error(f"runner:{runner.id}", exc, self.ctx)

    def _run_parallel(self, schedule: Schedule) -> None:
        limit = self.pipeline.max_parallel or max(1, len(self.runners))
        control = control_for(self.ctx.cancel)
        running: dict[Future[RunnerResults], Runner] = {}
        from concurrent.futures import ThreadPoolExecutor  # sequential runs do without it (and `logging`)

        with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="gryt-runner") as pool:
            while schedule or running:
                try:
                    if not self._schedule(schedule, pool, running, limit):
                        break
                except KeyboardInterrupt:
                    control.interrupt(force=self.keyboard)
                    self.keyboard = True

    def _schedule(
        self,
        schedule: Schedule,
        pool: ThreadPoolExecutor,
        running: dict[Future[RunnerResults], Runner],
        limit: int,
    ) -> bool:
        """Start every runner that is ready, then wait for one to finish; False when nothing is left."""
        ctx = self.ctx
        while True:
            if ctx.cancel.is_set():
                self._interrupt_rest(schedule)
                break
            if len(running) >= limit:
                break
            decided = schedule.next()
            if decided is None:
                break
            runner, reason = decided
            reason = self._decide(runner, reason)
            if reason:
                self._skip(runner, SKIPPED, reason)
                schedule.ended(runner)
                continue
            future = pool.submit(runner.execute, context=ctx, events=self.events, recorder=self.recorder)
            running[future] = runner
        if not running:
            if schedule:  # needs can no longer be met (cannot happen after the cycle check)
                self._skip_rest()
            return False
        from concurrent.futures import FIRST_COMPLETED, wait

        done: set[Future[RunnerResults]] = set()
        while not done:
            # Wait in slices: a signal the kernel delivers to a worker thread only runs its Python
            # handler (KeyboardInterrupt) once the main thread gets back to the interpreter.
            done, _ = wait(list(running), timeout=SIGNAL_POLL, return_when=FIRST_COMPLETED)
        for future in done:
            runner = running.pop(future)
            try:
                self.runner_results[runner.id] = future.result()
            except Exception as exc:  # noqa: BLE001 - a crashed runner fails the run, others go on
                self._crashed(runner, exc)
            schedule.ended(runner)
        return True

    def _skip_rest(self) -> None:
        """Record the runners the run ended without starting (none before the schedule exists)."""
        if not self.schedule:
            return
        status: StepStatus = INTERRUPTED if self.ctx.cancel.is_set() else SKIPPED
        for runner in self.schedule.rest():
            self._skip(runner, status, f"run ended before runner {runner.id!r} started")

    def _why_not_delivered(self) -> str:
        if self.issues:
            return "not delivered: the environment is invalid"
        if self.keyboard or self.ctx.cancel.is_set():
            return "not delivered: the run was interrupted"
        if self.error:
            return f"not delivered: {self.error}"
        for runner in self.runners:
            if runner.failed:
                return f"not delivered: runner {runner.id!r} ended with {runner.status or 'no result'}"
        return "not delivered: the run did not finish"

    def _finish(self) -> None:
        """Teardown and auth cleanup, always; their errors are warnings."""
        runtime = self.pipeline.runtime
        if self.provisioned and runtime is not None:
            try:
                runtime.teardown()
            except BaseException as exc:  # plugin code: SystemExit too; a real Ctrl-C re-raised
                if not raised_by_code(exc):
                    raise
                # teardown problems must not hide the run's result
                self.events.warn(f"runtime {type_name(runtime)} teardown failed: {one_line(exc)}")
        for auth in reversed(self.authenticated):
            try:
                auth.cleanup()
            except BaseException as exc:  # plugin code: SystemExit too; a real Ctrl-C re-raised
                if not raised_by_code(exc):
                    raise
                # cleanup problems must not hide the run's result
                self.events.warn(f"auth step {auth.id!r} cleanup failed: {one_line(exc)}")

    def _final_status(self) -> RunStatus:
        if self.keyboard or self.ctx.cancel.is_set():
            return INTERRUPTED
        if any(r.failed for r in self.runners):
            return ERROR
        if any(d["status"] == ERROR for d in self.delivery.outcomes.values()):
            return ERROR
        return SUCCESS

    def _describe_failure(self) -> str:
        if self.keyboard:
            return "interrupted (KeyboardInterrupt)"
        for runner_id, steps in self.runner_results.items():
            for step_id, result in steps.items():
                if result.get("status") == INTERRUPTED:
                    return "interrupted"
                if result.get("status") == ERROR and not result.get("allowed"):
                    return f"step {runner_id}/{step_id} failed: {result.get('error') or 'error'}"
        for dest_id, outcome in self.delivery.outcomes.items():
            if outcome["status"] == ERROR:
                return f"destination {dest_id!r} failed: {outcome.get('error') or 'error'}"
        return "interrupted" if self.status == INTERRUPTED else "a runner failed"
