"""Lifecycle hooks behave as pluggy promises: its call order, no wrappers, and observers cannot change a run."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from gryt import hookimpl
from gryt.context import RunContext
from gryt.data import SqliteData
from gryt.events import EventDispatcher
from gryt.hook import Hook
from gryt.pipeline import Pipeline
from gryt.plugins import PluginManager, use_manager
from gryt.runner import Runner
from gryt.step import CommandStep
from gryt.testing import isolated_manager


class Recorder:
    """A plugin object whose `gryt_step_start` appends its name to a shared list."""

    def __init__(self, name: str, calls: list[str], *, tryfirst: bool = False, trylast: bool = False) -> None:
        self.name = name

        @hookimpl(tryfirst=tryfirst, trylast=trylast)
        def gryt_step_start(step: Any) -> None:
            calls.append(name)

        self.gryt_step_start = gryt_step_start


def test_lifecycle_hooks_are_called_in_pluggys_order() -> None:
    calls: list[str] = []
    plugins = [
        Recorder("first-plain", calls),
        Recorder("tryfirst", calls, tryfirst=True),
        Recorder("trylast", calls, trylast=True),
        Recorder("last-plain", calls),
    ]
    manager = PluginManager(autoload=False, strict=False, warn=False, env={}).load()
    for plugin in plugins:
        assert manager.register_plugin(plugin, plugin.name).status == "ok"
    manager.hook.gryt_step_start(step=None, context=RunContext())
    by_pluggy = list(calls)
    calls.clear()
    with use_manager(manager):
        EventDispatcher().step_start(None, RunContext())
    assert calls == by_pluggy == ["tryfirst", "last-plain", "first-plain", "trylast"]


@pytest.mark.parametrize("old_style", [True, False])
def test_a_wrapper_marks_the_plugin_error_with_one_line(old_style: bool) -> None:
    class Wrapping:
        @hookimpl(hookwrapper=old_style, wrapper=not old_style)
        def gryt_step_end(self, step: Any) -> Any:
            yield

    manager = PluginManager(autoload=False, strict=False, warn=False, env={}).load()
    info = manager.register_plugin(Wrapping(), "wrapping")
    assert info.status == "error"
    assert info.error == (
        "gryt_step_end is a wrapper: gryt hooks take plain implementations (order them with tryfirst/trylast)"
    )
    assert manager.hook.gryt_step_end.get_hookimpls() == []


class Forger:
    """A plugin that rewrites every result it is given into a success."""

    @hookimpl
    def gryt_step_end(self, result: dict[str, Any]) -> None:
        result["status"] = "success"
        result["error"] = None
        result["exit_code"] = 0

    @hookimpl
    def gryt_pipeline_end(self, result: dict[str, Any]) -> None:
        result["status"] = "success"
        result["runners"].clear()


class ForgingHook(Hook):
    def on_step_end(self, step: Any, result: dict[str, Any], context: RunContext | None = None) -> None:
        result["status"] = "success"


def test_observers_that_change_results_do_not_change_the_run(tmp_path: Path) -> None:
    seen: list[str] = []

    class Witness(Hook):
        def on_step_end(self, step: Any, result: dict[str, Any], context: RunContext | None = None) -> None:
            seen.append(result["status"])

    data = SqliteData(tmp_path / "gryt.db")
    steps = [
        CommandStep("fails", {"cmd": [sys.executable, "-c", "raise SystemExit(3)"]}),
        CommandStep("after", {"cmd": [sys.executable, "-c", "open('ran', 'w')"], "cwd": str(tmp_path)}),
    ]
    pipeline = Pipeline([Runner(steps, id="r")], data=data, hook=[ForgingHook(), Witness()])
    with use_manager(isolated_manager(Forger())):
        result = pipeline.execute()
    data.close()
    assert result["status"] == "error"
    assert result["runners"]["r"]["fails"]["status"] == "error"
    assert result["runners"]["r"]["after"]["status"] == "skipped"
    assert not (tmp_path / "ran").exists()
    assert seen == ["error", "skipped"]
    with sqlite3.connect(tmp_path / "gryt.db") as conn:
        assert conn.execute("SELECT status FROM pipelines").fetchall() == [("error",)]
        assert dict(conn.execute("SELECT step_id, status FROM steps_output").fetchall()) == {
            "fails": "error",
            "after": "skipped",
        }


class Observer:
    """A plugin answering `gryt_observe_run` with `answer` (or raising) and recording every lifecycle call."""

    def __init__(self, answer: object, calls: list[str]) -> None:
        @hookimpl
        def gryt_observe_run(context: RunContext) -> object:
            calls.append("observe_run")
            if isinstance(answer, Exception):
                raise answer
            return answer

        @hookimpl
        def gryt_pipeline_start() -> None:
            calls.append("pipeline_start")

        @hookimpl
        def gryt_step_start() -> None:
            calls.append("step_start")

        @hookimpl
        def gryt_step_end() -> None:
            calls.append("step_end")

        @hookimpl
        def gryt_error(scope: str) -> None:
            calls.append(f"error {scope}")

        @hookimpl
        def gryt_pipeline_end() -> None:
            calls.append("pipeline_end")

        self.gryt_observe_run = gryt_observe_run
        self.gryt_pipeline_start = gryt_pipeline_start
        self.gryt_step_start = gryt_step_start
        self.gryt_step_end = gryt_step_end
        self.gryt_error = gryt_error
        self.gryt_pipeline_end = gryt_pipeline_end


def _two_step_run(tmp_path: Path, **plugins: Observer) -> dict[str, Any]:
    manager = PluginManager(autoload=False, strict=False, warn=False, env={}).load()
    for name, plugin in plugins.items():
        assert manager.register_plugin(plugin, name).status == "ok"
    steps = [CommandStep(name, {"cmd": [sys.executable, "-c", "pass"]}) for name in ("a", "b")]
    data = SqliteData(tmp_path / "gryt.db")
    with use_manager(manager):
        result: dict[str, Any] = Pipeline([Runner(steps, id="r")], data=data).execute()
    data.close()
    return result


def test_a_plugin_that_declines_a_run_gets_none_of_its_lifecycle_hooks(tmp_path: Path) -> None:
    declined: list[str] = []
    observing: list[str] = []
    undecided: list[str] = []
    result = _two_step_run(
        tmp_path,
        declined=Observer(False, declined),
        observing=Observer(True, observing),
        undecided=Observer(None, undecided),
    )
    assert result["status"] == "success"
    assert declined == ["observe_run"]  # asked once, then left out of the whole run
    everything = ["observe_run", "pipeline_start", *["step_start", "step_end"] * 2, "pipeline_end"]
    assert observing == undecided == everything


def test_a_failing_observe_run_is_reported_and_the_plugin_still_observes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken: list[str] = []
    witness: list[str] = []
    declined: list[str] = []
    result = _two_step_run(
        tmp_path,
        observer=Observer(RuntimeError("no idea"), broken),
        witness=Observer(True, witness),
        declined=Observer(False, declined),
    )
    assert result["status"] == "success"
    warning = "plugin observer failed in gryt_observe_run: RuntimeError: no idea"
    assert warning in result["warnings"]
    assert f"gryt: warning: {warning}" in capsys.readouterr().err
    assert broken[:2] == ["observe_run", "error plugin:observer"]
    assert broken[2:] == ["pipeline_start", *["step_start", "step_end"] * 2, "pipeline_end"]
    assert "error plugin:observer" in witness
    assert declined == ["observe_run"]  # declined before the failure was reported: not told of it
