"""The needs graph check and the runner schedule: order, skips and long chains, without subprocesses."""

from __future__ import annotations

from typing import Any

import pytest

from gryt.errors import ConfigError
from gryt.pipeline import NeedsError, Pipeline, needs_order
from gryt.runner import Runner
from gryt.step import Step
from gryt.validators import Issue, Validator, run_validators


class Mark(Step):
    """Appends its id to a shared list and ends with the status it was given."""

    def __init__(self, id: str, log: list[str], status: str = "success") -> None:
        super().__init__(id)
        self.log = log
        self.status = status

    def run(self) -> dict[str, Any]:
        self.log.append(self.id)
        return {"status": self.status}


def test_needs_order_puts_needs_first_in_declaration_order() -> None:
    graph = {"x": ["c"], "y": [], "c": [], "z": ["y", "x"]}
    assert needs_order(graph) == ["c", "x", "y", "z"]


@pytest.mark.parametrize(
    ("graph", "kind", "message"),
    [
        ({"a": ["a"]}, "self", "runner needs form a cycle: a -> a"),
        ({"a": [], "b": ["nope"]}, "unknown", "runner 'b' needs unknown runner 'nope'; known runners: a, b"),
        ({"a": ["b"], "b": ["c"], "c": ["a"]}, "cycle", "runner needs form a cycle: a -> b -> c -> a"),
    ],
)
def test_needs_order_errors(graph: dict[str, list[str]], kind: str, message: str) -> None:
    with pytest.raises(NeedsError) as info:
        needs_order(graph)
    assert info.value.kind == kind and str(info.value) == message
    assert isinstance(info.value, ConfigError)


def test_long_chain_declared_backwards_needs_no_deep_recursion() -> None:
    n = 5000
    graph = {f"r{i}": [f"r{i - 1}"] if i else [] for i in reversed(range(n))}
    assert needs_order(graph) == [f"r{i}" for i in range(n)]


@pytest.mark.parametrize("parallel", [False, True])
def test_ready_runners_start_in_topological_order(parallel: bool) -> None:
    log: list[str] = []
    runners = [
        Runner([Mark("x1", log)], id="x", needs=["c"]),
        Runner([Mark("y1", log)], id="y"),
        Runner([Mark("c1", log)], id="c"),
        Runner([Mark("z1", log)], id="z", needs=["y"]),
    ]
    result = Pipeline(runners, max_parallel=1).execute(parallel=parallel)
    assert result["status"] == "success"
    assert log == ["c1", "x1", "y1", "z1"]


@pytest.mark.parametrize("parallel", [False, True])
def test_skips_name_the_first_need_that_failed_and_cascade(parallel: bool) -> None:
    log: list[str] = []
    runners = [
        Runner([Mark("a1", log)], id="a"),
        Runner([Mark("b1", log, status="error")], id="b"),
        Runner([Mark("c1", log)], id="c", needs=["a", "b"]),
        Runner([Mark("d1", log)], id="d", needs=["c"]),
        Runner([Mark("e1", log)], id="e", needs=["a"]),
    ]
    result = Pipeline(runners, max_parallel=2).execute(parallel=parallel)
    assert result["status"] == "error"
    assert result["runners"]["c"]["c1"]["error"] == "needs runner 'b', which ended with error"
    assert result["runners"]["d"]["d1"]["error"] == "needs runner 'c', which ended with skipped"
    assert result["runners"]["e"]["e1"]["status"] == "success"
    assert sorted(log) == ["a1", "b1", "e1"]


def test_parallel_chain_runs_every_runner_once() -> None:
    log: list[str] = []
    n = 300
    runners = [Runner([Mark(f"s{i}", log)], id=f"r{i}", needs=[f"r{i - 1}"] if i else []) for i in range(n)]
    result = Pipeline(runners).execute(parallel=True)
    assert result["status"] == "success"
    assert log == [f"s{i}" for i in range(n)]


def test_selected_runners_ignore_needs_outside_the_selection() -> None:
    log: list[str] = []
    runners = [
        Runner([Mark("a1", log, status="error")], id="a"),
        Runner([Mark("b1", log)], id="b", needs="a"),
    ]
    result = Pipeline(runners).select(["b"]).execute(parallel=True)
    assert result["status"] == "success" and log == ["b1"]


class Raising(Validator):
    name = "raising"

    def run(self) -> list[Issue]:
        raise RuntimeError("cannot check\nsecond line")


class NotAList(Validator):
    def run(self) -> list[Issue]:
        return None  # type: ignore[return-value]


class Finds(Validator):
    name = "finds"

    def run(self) -> list[Issue]:
        return [Issue("env_var_missing", "TOKEN", "TOKEN is not set")]


def test_run_validators_reports_every_validator_and_turns_bugs_into_issues() -> None:
    report = run_validators([Raising(), NotAList(), Finds()])
    assert [label for label, _issues in report] == ["raising", "NotAList", "finds"]
    assert report[0][1] == [
        {
            "kind": "validator_error",
            "name": "raising",
            "message": "RuntimeError: cannot check",
            "details": None,
        }
    ]
    assert report[1][1][0]["message"] == "TypeError: run() returned NoneType, not a list of Issue"
    assert report[2][1] == [
        {"kind": "env_var_missing", "name": "TOKEN", "message": "TOKEN is not set", "details": None}
    ]
