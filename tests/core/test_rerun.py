"""gryt.rerun: which runners of a recorded run `--failed` reruns, from the rows `get_run` returns."""

from __future__ import annotations

from typing import Any

import pytest

from gryt import CommandStep, Pipeline, Runner
from gryt.errors import ConfigError
from gryt.rerun import nothing_to_rerun, plan_rerun


def shape() -> dict[str, Any]:
    """a <- b <- c, and d alone; `Pipeline.describe()` as the run recorded it and as it is now."""
    runners = [
        Runner([CommandStep("s", {"cmd": ["true"]})], id="a"),
        Runner([CommandStep("s", {"cmd": ["true"]})], id="b", needs=["a"]),
        Runner([CommandStep("s", {"cmd": ["true"]})], id="c", needs=["b"]),
        Runner([CommandStep("s", {"cmd": ["true"]})], id="d"),
    ]
    return Pipeline(runners, name="ci").describe()


def run(statuses: dict[str, str], steps: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    recorded = {**shape(), **extra.pop("config", {})}
    return {
        "run_id": "r1",
        "status": extra.pop("status", "error"),
        "abandoned": extra.pop("abandoned", False),
        "config": recorded,
        "runners": [{"runner_id": rid, "status": status} for rid, status in statuses.items()],
        "steps": steps or [],
        **extra,
    }


def test_failed_interrupted_and_never_started_runners_and_what_they_skipped() -> None:
    failed = run(
        {"a": "error", "b": "skipped", "c": "skipped", "d": "success"},
        [{"runner_id": "a", "status": "error"}],
    )
    assert plan_rerun(failed, shape()).runners == ["a", "b", "c"]
    interrupted = run({"a": "success", "b": "interrupted"})  # c, d never started (no row)
    plan = plan_rerun(interrupted, shape())
    assert (plan.runners, plan.every_runner) == (["b", "c", "d"], False)
    nothing_ran = run({}, status="auth_failed")
    assert plan_rerun(nothing_ran, shape()).every_runner is True


def test_allowed_failures_and_runners_skipped_by_their_own_condition_are_not_rerun() -> None:
    steps = [{"runner_id": "a", "status": "error", "output": {"allowed": True}}]
    allowed = run({"a": "error", "b": "success", "c": "skipped", "d": "success"}, steps, status="success")
    assert plan_rerun(allowed, shape()).runners == []
    assert nothing_to_rerun(allowed) == "gryt: run r1 succeeded: nothing to rerun"


def test_a_narrowed_run_reruns_only_within_its_selection_and_an_abandoned_run_is_usable() -> None:
    narrowed = run(
        {"b": "error", "c": "skipped"},
        [{"runner_id": "b", "status": "error"}],
        config={"selected": ["b", "c"]},
    )
    assert plan_rerun(narrowed, shape()).runners == ["b", "c"]
    abandoned = run({"a": "success", "b": "running"}, status="running", abandoned=True)
    assert plan_rerun(abandoned, shape()).runners == ["b", "c", "d"]


def test_unusable_runs_are_refused() -> None:
    with pytest.raises(ConfigError, match="run r1 is still running"):
        plan_rerun(run({}, status="running"), shape())
    with pytest.raises(ConfigError, match="no pipeline shape recorded"):
        plan_rerun({**run({}), "config": {"name": "ci", "auth": []}}, shape())
    renamed = run({}, config={"name": "release"})
    with pytest.raises(ConfigError, match="run r1 is a run of 'release', not of pipeline 'ci'"):
        plan_rerun(renamed, shape())
    grown = shape()
    grown["runners"][0]["steps"] = [{"id": "t"}, {"id": "s"}]
    with pytest.raises(ConfigError, match=r"steps of runner 'a' changed \(added t\)"):
        plan_rerun(run({"a": "error"}), grown)
