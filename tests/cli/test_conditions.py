"""`if` conditions end to end: on steps, runners, auth steps and destinations, through the real `gryt`
(skips recorded with their reason in the results and the SQLite history), the status functions after a
failure, git facts from a real repository, validate-time errors, and the Python form."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gryt import CommandStep, Pipeline, Runner
from gryt.auth import Auth
from gryt.destination import DirectoryDestination

from .conftest import pipeline

FAILING = """\
[[runners]]
id = "test"
steps = [
  { id = "unit", cmd = ["sh", "-c", "exit ${{ env.UNIT_EXIT || '0' }}"] },
  { id = "plain", cmd = ["touch", "plain.marker"] },
  { id = "cleanup", cmd = ["touch", "cleanup.marker"], if = "always()" },
  { id = "on-failure", cmd = ["touch", "on-failure.marker"], if = "failure()" },
  { id = "on-success", cmd = ["touch", "on-success.marker"], if = "success()" },
  { id = "env-gated", cmd = ["touch", "env-gated.marker"], if = "env.GATE == 'open'" },
]

[[runners]]
id = "notify"
needs = ["test"]
if = "failure()"
steps = [{ id = "mail", cmd = ["touch", "notify.marker"] }]

[[runners]]
id = "teardown"
needs = ["test"]
if = "${{ always() }}"
steps = [{ id = "down", cmd = ["touch", "teardown.marker"] }]

[[runners]]
id = "package"
needs = ["test"]
steps = [{ id = "wheel", cmd = ["touch", "package.marker"] }]
"""


def markers(project: Path) -> set[str]:
    return {p.name.removesuffix(".marker") for p in project.glob("*.marker")}


@pytest.mark.parametrize(
    ("unit_exit", "gate", "ran", "code"),
    [
        ("0", "", {"plain", "cleanup", "on-success", "teardown", "package"}, 0),
        ("0", "open", {"plain", "cleanup", "on-success", "env-gated", "teardown", "package"}, 0),
        ("1", "", {"cleanup", "on-failure", "notify", "teardown"}, 1),
        ("1", "open", {"cleanup", "on-failure", "notify", "teardown"}, 1),  # no status function: fail_fast
    ],
)
def test_status_functions_truth_table(
    gryt, project: Path, unit_exit: str, gate: str, ran: set[str], code: int
) -> None:
    pipeline(project, "ci.toml", FAILING)
    env = {"UNIT_EXIT": unit_exit} | ({"GATE": gate} if gate else {})
    done = gryt("run", "ci", "--json", cwd=project, env=env)
    assert done.code == code, done.stderr
    assert markers(project) == ran
    result = json.loads(done.stdout)
    steps = result["runners"]["test"]
    if unit_exit == "1":
        assert steps["plain"]["error"] == "step 'unit' failed (fail_fast)"
        assert steps["on-success"]["error"] == "if: success() was false"
        assert result["runners"]["package"]["wheel"]["error"] == "needs runner 'test', which ended with error"
    else:
        assert steps["on-failure"]["error"] == "if: failure() was false"
        assert result["runners"]["notify"]["mail"]["error"] == "if: failure() was false"
        assert result["status"] == "success"


def git(root: Path, *args: str) -> None:
    env = {
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@e",
    }
    subprocess.run(
        ["git", *args], cwd=root, env={**env, "PATH": "/usr/bin:/bin"}, check=True, capture_output=True
    )


RELEASE = """\
[[runners]]
id = "test"
steps = [{ id = "unit", cmd = ["true"] }]

[[runners]]
id = "release"
needs = ["test"]
if = "git.tag =~ 'v*' and git.branch != 'wip'"
steps = [{ id = "publish", cmd = ["touch", "dist/published"] }]

[[runners]]
id = "announce"
needs = ["release"]
steps = [{ id = "post", cmd = ["touch", "announced.marker"] }]

[[destinations]]
id = "tagged"
type = "directory"
path = "out-tagged"
if = "startsWith(git.tag, 'v')"

[[destinations]]
id = "always"
type = "directory"
path = "out-always"

[artifacts]
paths = ["dist/*"]
"""


def test_runner_and_destination_conditions_on_git_facts(gryt, project: Path) -> None:
    git(project, "init", "-q", "-b", "main")
    git(project, "commit", "-q", "--allow-empty", "-m", "one")
    (project / "dist").mkdir()
    (project / "dist" / "app.txt").write_text("app")
    pipeline(project, "rel.toml", RELEASE)

    untagged = gryt("run", "rel", "--json", cwd=project)
    assert untagged.code == 0, untagged.stderr  # a runner skipped by its condition fails nothing
    result = json.loads(untagged.stdout)
    assert result["runners"]["release"]["publish"] == {
        **result["runners"]["release"]["publish"],
        "status": "skipped",
        "error": "if: git.tag =~ 'v*' and git.branch != 'wip' was false",
    }
    assert (
        result["runners"]["announce"]["post"]["error"] == "needs runner 'release', which ended with skipped"
    )
    assert result["delivery"]["tagged"]["status"] == "skipped"
    assert result["delivery"]["tagged"]["error"] == "if: startsWith(git.tag, 'v') was false"
    assert result["delivery"]["always"]["status"] == "success"
    with sqlite3.connect(project / ".gryt" / "gryt.db") as db:
        row = db.execute(
            "SELECT status, output_json FROM step_runs WHERE runner_id = 'release' AND pipeline_id = ?",
            (result["run_id"],),
        ).fetchone()
    assert row[0] == "skipped"
    assert json.loads(row[1])["error"].startswith("if: git.tag =~ 'v*'")

    git(project, "tag", "v1.0.0")
    tagged = gryt("run", "rel", "--json", cwd=project)
    assert tagged.code == 0, tagged.stderr
    result = json.loads(tagged.stdout)
    assert result["runners"]["release"]["publish"]["status"] == "success"
    assert (project / "announced.marker").exists()
    assert result["delivery"]["tagged"]["status"] == "success"
    assert (project / "out-tagged" / "published").exists()


def test_plain_output_shows_the_reason(gryt, project: Path) -> None:
    pipeline(project, "rel.toml", RELEASE.split("[[destinations]]", maxsplit=1)[0])
    done = gryt("run", "rel", cwd=project, env={"GIT_CEILING_DIRECTORIES": str(project.parent)})
    assert done.code == 0, done.stderr
    assert "release/publish skipped - if: git.tag =~ 'v*' and git.branch != 'wip' was false" in done.stdout


@pytest.mark.parametrize(
    ("where", "condition", "message"),
    [
        ("runner", "git.tag == )", "runners[0].if: unexpected ')' at column 12 in \"git.tag == )\""),
        (
            "step",
            "succes()",
            'runners[0].steps[0].if: unknown function succes() (did you mean "success"?) at column 1',
        ),
        (
            "step",
            "gti.tag",
            'step r/a: if: unknown variable gti.tag (did you mean "git.tag"?) at column 1 in "gti.tag"',
        ),
        ("runner", "matrix.python == '3'", "runner r: if: unknown variable matrix.python; matrix keys: none"),
        ("step", "contains(git.tag)", "contains() takes 2 arguments, got 1 at column 1"),
    ],
)
def test_bad_conditions_fail_validate(gryt, project: Path, where: str, condition: str, message: str) -> None:
    runner_if = f"if = {json.dumps(condition)}\n" if where == "runner" else ""
    step_if = f", if = {json.dumps(condition)}" if where == "step" else ""
    pipeline(
        project,
        "ci.toml",
        f'[[runners]]\nid = "r"\n{runner_if}steps = [{{ id = "a", cmd = ["true"]{step_if} }}]\n',
    )
    done = gryt("validate", "ci", cwd=project)
    assert done.code == 2
    assert len(done.error_lines) == 1, done.stderr
    assert message in done.stderr


class _Login(Auth):
    name = "test-login"

    def authenticate(self) -> dict[str, Any]:
        self.config["calls"].append(self.id)
        return {"status": "success"}


def test_python_form(tmp_path: Path) -> None:
    calls: list[str] = []
    out = tmp_path / "out"
    (tmp_path / "a.txt").write_text("a")
    pipe = Pipeline(
        [
            Runner([CommandStep("fails", {"cmd": ["false"]}, allow_failure=True)], id="flaky"),
            Runner(
                [
                    CommandStep("skip", {"cmd": ["false"]}, if_="pipeline.name != 'py'"),
                    CommandStep("run", {"cmd": ["true"]}, if_="run.id != ''"),
                ],
                id="main",
                needs=["flaky"],
            ),
            Runner([CommandStep("never", {"cmd": ["false"]})], id="off", if_="false"),
        ],
        auth_steps=[_Login("yes", {"calls": calls}), _Login("no", {"calls": calls}, if_="1 > 2")],
        destinations=[DirectoryDestination("out", {"path": str(out)}, if_="success()")],
        artifacts=[str(tmp_path / "a.txt")],
        name="py",
        root=tmp_path,
    )
    result = pipe.execute()
    assert result["status"] == "success", result.get("error")
    assert calls == ["yes"]
    assert result["auth"]["no"] == {"status": "skipped", "error": "if: 1 > 2 was false", "duration": 0.0}
    assert result["runners"]["main"]["skip"]["error"] == "if: pipeline.name != 'py' was false"
    assert result["runners"]["main"]["run"]["status"] == "success"
    assert result["runners"]["off"]["never"]["error"] == "if: false was false"
    assert (out / "a.txt").exists()
