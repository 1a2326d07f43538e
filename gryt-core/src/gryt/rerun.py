"""What `gryt run PIPELINE --failed [RUN_ID]` reruns: the runners of an earlier run that did not pass.

A runner is rerun whole when it ended `error` (a failure no `allow_failure` allowed), `interrupted`,
`running` (its run was abandoned) or never started (no row: the run ended before it, e.g. on an auth
failure), and when it was `skipped` while a runner it needs (directly or not) is rerun. Runners that
passed, and runners outside the earlier run's `--runner` selection, are not rerun: the new run treats
them as satisfied needs. The pipeline must still have the same runner ids, and every runner to rerun the
same step ids, as the earlier run recorded; otherwise the earlier run cannot say what is left to do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gryt.errors import ConfigError
from gryt.status import ERROR, INTERRUPTED, RUNNING, SKIPPED, SUCCESS


@dataclass(frozen=True)
class Rerun:
    """The runners a `--failed` run reruns, in the pipeline's order, and the run it continues."""

    run_id: str
    runners: list[str]
    every_runner: bool
    """True when the rerun covers every runner of the pipeline (a whole run: it delivers as one)."""


def plan_rerun(run: Mapping[str, Any], described: Mapping[str, Any]) -> Rerun:
    """The runners of `run` (as `gryt.history.get_run` returns it) to rerun with the pipeline whose
    current shape is `described` (`Pipeline.describe()`).

    Raises ConfigError when `run` is still running, or was recorded by another pipeline or with other
    runner or step ids.
    """
    run_id = str(run["run_id"])
    if run.get("status") == RUNNING and not run.get("abandoned"):
        raise ConfigError(f"run {run_id} is still running; --failed reruns a finished run")
    recorded = run.get("config")
    if not isinstance(recorded, Mapping):
        recorded = {}
    if recorded.get("name") != described.get("name"):
        raise ConfigError(
            f"run {run_id} is a run of {recorded.get('name')!r}, not of pipeline {described.get('name')!r}"
        )
    old_runners = _runner_steps(recorded, f"run {run_id}")
    new_runners = _runner_steps(described, "the pipeline")
    _check_runner_ids(run_id, list(old_runners), list(new_runners))
    selected = recorded.get("selected")
    considered = set(selected) if isinstance(selected, list) else set(old_runners)
    statuses = {str(r.get("runner_id")): str(r.get("status")) for r in run.get("runners") or []}
    allowed = _allowed_failures(run.get("steps") or [])
    needs = {str(r["id"]): [str(n) for n in r.get("needs") or []] for r in described["runners"]}
    failed = {
        rid
        for rid in new_runners
        if rid in considered
        and (
            statuses.get(rid) in (None, INTERRUPTED, RUNNING)
            or (statuses.get(rid) == ERROR and rid not in allowed)
        )
    }
    rerun = [
        rid
        for rid in new_runners
        if rid in failed
        or (rid in considered and statuses.get(rid) == SKIPPED and _all_needs(rid, needs) & failed)
    ]
    changed = [rid for rid in rerun if old_runners[rid] != new_runners[rid]]
    if changed:
        rid = changed[0]
        raise ConfigError(
            f"cannot rerun run {run_id}: the steps of runner {rid!r} changed "
            f"({_difference(old_runners[rid], new_runners[rid])}); run the whole pipeline"
        )
    return Rerun(run_id, rerun, every_runner=set(rerun) == set(new_runners))


def _runner_steps(described: Any, where: str) -> dict[str, list[str]]:
    """Runner id -> its step ids, from a `Pipeline.describe()` dict (one stored with a run)."""
    runners = described.get("runners") if isinstance(described, Mapping) else None
    if not isinstance(runners, list) or not all(isinstance(r, Mapping) and "id" in r for r in runners):
        raise ConfigError(f"{where}: no pipeline shape recorded (not a pipeline run); --failed cannot use it")
    return {
        str(r["id"]): [str(s.get("id")) for s in r.get("steps") or [] if isinstance(s, Mapping)]
        for r in runners
    }


def _check_runner_ids(run_id: str, old: Sequence[str], new: Sequence[str]) -> None:
    if set(old) != set(new):
        raise ConfigError(
            f"cannot rerun run {run_id}: the pipeline's runners changed since ({_difference(old, new)});"
            " run the whole pipeline"
        )


def _difference(old: Sequence[str], new: Sequence[str]) -> str:
    """What changed from the ids `old` to `new`: `added X; removed Y`, or the new order."""
    added = [i for i in new if i not in old]
    removed = [i for i in old if i not in new]
    parts = [f"added {', '.join(added)}" if added else "", f"removed {', '.join(removed)}" if removed else ""]
    return "; ".join(p for p in parts if p) or f"reordered: was {', '.join(old)}, now {', '.join(new)}"


def _allowed_failures(steps: Sequence[Mapping[str, Any]]) -> set[str]:
    """The runners whose failed steps were all allowed to fail: such a runner ends `error` but passed
    (the runners needing it ran)."""
    failed: dict[str, bool] = {}
    for step in steps:
        if step.get("status") == ERROR:
            output = step.get("output")
            rid = str(step.get("runner_id"))
            allowed = isinstance(output, Mapping) and output.get("allowed") is True
            failed[rid] = failed.get(rid, True) and allowed
    return {rid for rid, all_allowed in failed.items() if all_allowed}


def _all_needs(rid: str, needs: Mapping[str, Sequence[str]]) -> set[str]:
    """Every runner `rid` needs, directly or through others."""
    found: set[str] = set()
    pending = list(needs.get(rid, ()))
    while pending:
        need = pending.pop()
        if need not in found:
            found.add(need)
            pending.extend(needs.get(need, ()))
    return found


def nothing_to_rerun(run: Mapping[str, Any]) -> str:
    """The line `gryt run --failed` prints when every runner of `run` passed."""
    status = run.get("status")
    if status == SUCCESS:
        return f"gryt: run {run['run_id']} succeeded: nothing to rerun"
    return f"gryt: every runner of run {run['run_id']} passed ({status}: {run.get('error') or 'no error'}): nothing to rerun"
