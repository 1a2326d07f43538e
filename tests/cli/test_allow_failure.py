"""Allowed failures end to end: `allow_failure` on steps and runners, through the real `gryt run`, the
SQLite history, JUnit and the Python form."""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gryt import CommandStep, Pipeline, Runner
from gryt.allow_failure import AllowFailure, parse_allow_failure
from gryt.errors import ConfigError

from .conftest import pipeline

ALLOWED = """\
[[runners]]
id = "test"
steps = [
  { id = "flaky", cmd = ["sh", "-c", "echo flaky-out; exit 3"], allow_failure = { exit_codes = [3, 4] } },
  { id = "after", cmd = ["touch", "after.marker"] },
]

[[runners]]
id = "optional"
allow_failure = true
steps = [
  { id = "boom", cmd = ["false"] },
  { id = "never", cmd = ["touch", "never.marker"] },
]

[[runners]]
id = "dependant"
needs = ["test", "optional"]
steps = [{ id = "runs", cmd = ["touch", "dependant.marker"] }]
"""


def test_allowed_failures_let_the_run_succeed_and_are_reported(gryt, project: Path) -> None:
    pipeline(project, "ci.toml", ALLOWED)
    done = gryt("run", "ci", "--json", "--junit", "junit.xml", cwd=project)
    assert done.code == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "success"
    flaky = result["runners"]["test"]["flaky"]
    assert (flaky["status"], flaky["returncode"], flaky["allowed"]) == ("error", 3, True)
    assert result["runners"]["optional"]["boom"]["allowed"] is True
    assert result["runners"]["optional"]["never"]["status"] == "skipped"  # the runner stopped there
    assert result["runners"]["dependant"]["runs"]["status"] == "success"
    assert (project / "after.marker").exists() and (project / "dependant.marker").exists()
    assert not (project / "never.marker").exists()
    assert result["warnings"] == [
        "allowed failure: step test/flaky failed: exit code 3",
        "allowed failure: step optional/boom failed: exit code 1",
    ]
    with sqlite3.connect(project / ".gryt" / "gryt.db") as db:
        rows = db.execute("SELECT runner_id, step_id, status, output_json FROM step_runs").fetchall()
        runners = dict(db.execute("SELECT runner_id, status FROM runners").fetchall())
    allowed = {(r, s) for r, s, status, out in rows if status == "error" and json.loads(out).get("allowed")}
    assert allowed == {("test", "flaky"), ("optional", "boom")}
    assert runners == {"test": "success", "optional": "error", "dependant": "success"}
    cases = {c.get("name"): c for c in ET.parse(project / "junit.xml").iter("testcase")}
    skipped = cases["flaky"].find("skipped")
    assert skipped is not None and skipped.get("message") == "allowed failure: exit code 3"
    assert not list(ET.parse(project / "junit.xml").iter("failure"))


def test_summary_lists_allowed_failures(gryt, project: Path) -> None:
    pipeline(project, "ci.toml", ALLOWED)
    done = gryt("run", "ci", cwd=project)
    assert done.code == 0, done.stderr
    assert "test/flaky error (allowed) exit 3" in done.stdout
    assert "warning: allowed failure: step test/flaky failed: exit code 3" in done.stdout
    assert "--- test/flaky" not in done.stdout  # not shown as a failure
    shown = gryt("runs", "show", "last", cwd=project)
    assert "error (allowed)" in shown.stdout


def test_an_exit_code_not_listed_fails_the_run(gryt, project: Path) -> None:
    pipeline(project, "ci.toml", ALLOWED.replace("exit 3", "exit 5"))
    done = gryt("run", "ci", "--json", cwd=project)
    assert done.code == 1
    result = json.loads(done.stdout)
    assert result["status"] == "error"
    assert "allowed" not in result["runners"]["test"]["flaky"]
    assert result["runners"]["test"]["after"]["status"] == "skipped"
    assert result["runners"]["dependant"]["runs"]["status"] == "skipped"
    assert result["error"] == "step test/flaky failed: exit code 5"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            '"yes"',
            'runners[0].steps[0].allow_failure: expected a boolean or a table like { exit_codes = [3] }, got "yes"',
        ),
        (
            "{ exit_code = [3] }",
            'runners[0].steps[0].allow_failure.exit_code: unknown key (did you mean "exit_codes"?)',
        ),
        (
            "{ exit_codes = [] }",
            "runners[0].steps[0].allow_failure.exit_codes: expected a non-empty list of exit codes",
        ),
        (
            "{ exit_codes = [300] }",
            "runners[0].steps[0].allow_failure.exit_codes[0]: expected an exit code between 0 and 255, got 300",
        ),
    ],
)
def test_bad_allow_failure_is_a_config_error(gryt, project: Path, value: str, message: str) -> None:
    pipeline(
        project,
        "ci.toml",
        f'[[runners]]\nsteps = [{{ id = "a", cmd = ["true"], allow_failure = {value} }}]\n',
    )
    done = gryt("validate", "ci", cwd=project)
    assert done.code == 2
    assert len(done.error_lines) == 1
    assert message in done.stderr


def test_python_form(tmp_path: Path) -> None:
    marker = tmp_path / "dependant.marker"
    pipe = Pipeline(
        [
            Runner([CommandStep("flaky", {"cmd": ["sh", "-c", "exit 4"]}, allow_failure=[3, 4])], id="test"),
            Runner([CommandStep("boom", {"cmd": ["false"]})], id="optional", allow_failure=True),
            Runner(
                [CommandStep("runs", {"cmd": ["touch", str(marker)]})], id="dep", needs=["test", "optional"]
            ),
        ]
    )
    result = pipe.execute()
    assert result["status"] == "success"
    assert result["runners"]["test"]["flaky"]["allowed"] is True
    assert marker.exists()
    assert [r.passed for r in pipe.runners] == [True, True, True]
    assert (pipe.runners[1].status, pipe.runners[1].allowed) == ("error", True)


def test_policy_truth_table() -> None:
    any_failure = AllowFailure()
    codes = AllowFailure((3,))
    assert any_failure.allows({"status": "error", "returncode": 1})
    assert any_failure.allows({"status": "error", "returncode": None})  # timed out, missing tool
    assert not any_failure.allows({"status": "interrupted", "returncode": None})
    assert not any_failure.allows({"status": "success", "returncode": 0})
    assert codes.allows({"status": "error", "returncode": 3})
    assert not codes.allows({"status": "error", "returncode": 4})
    assert not codes.allows({"status": "error", "returncode": None})
    assert parse_allow_failure(False, "x") is None
    assert parse_allow_failure(True, "x") == any_failure
    assert parse_allow_failure({"exit_codes": [3]}, "x") == codes
    with pytest.raises(ConfigError, match=r"x.allow_failure\[0\]"):
        parse_allow_failure([True], "x")
