"""A newcomer's path through the real `gryt` executable: init -> run the example -> new -> run ->
a failing step -> env-validate -> runs list/show -> db -> version bump on a git repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .conftest import pipeline

GIT_ENV = {
    "GIT_AUTHOR_NAME": "gryt tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "gryt tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}

FAILING = """\
[pipeline]
name = "broken"

[[runners]]
id = "main"
steps = [
  { id = "fails", cmd = ["sh", "-c", "echo progress; echo 'it went wrong' >&2; exit 3"] },
  { id = "after", cmd = ["touch", "after.ran"] },
]
"""

CHECKED = """\
[[validators]]
type = "env-vars"
required = ["GRYT_NEWCOMER_TOKEN", "GRYT_NEWCOMER_USER"]

[[runners]]
steps = [{ id = "hello", cmd = ["echo", "checked"] }]
"""


def test_newcomer_path(gryt, tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)

    done = gryt("init", cwd=root)
    assert done.code == 0, done.stderr
    assert "gryt run example" in done.stdout

    # The example runs green right away; off a terminal the output is plain lines, no control codes.
    example = gryt("run", "example", cwd=root)
    assert example.code == 0, example.stdout + example.stderr
    assert "hello/greet success" in example.stdout and "build/build success" in example.stdout
    assert "\x1b" not in example.stdout + example.stderr

    created = gryt("new", "ci", cwd=root)
    assert created.code == 0, created.stderr
    checked = gryt("validate", "ci", cwd=root)
    assert checked.code == 0, checked.stderr
    assert checked.stdout.startswith("ok: .gryt/pipelines/ci.toml: pipeline 'ci', 1 runner, 1 step")
    ci = gryt("run", "ci", "--json", cwd=root)
    assert ci.code == 0, ci.stderr
    assert json.loads(ci.stdout)["runners"]["main"]["hello"]["stdout"] == "Hello from ci\n"

    # A failing step: exit 1, the rest skipped, the tail of its output shown.
    pipeline(root, "broken.toml", FAILING)
    broken = gryt("run", "broken", cwd=root)
    assert broken.code == 1, broken.stdout + broken.stderr
    assert "main/fails error exit 3" in broken.stdout
    assert "main/after skipped" in broken.stdout
    assert "--- main/fails stderr (last 20 lines) ---\nit went wrong\n" in broken.stdout
    assert not (root / "after.ran").exists()
    assert "Traceback" not in broken.stdout + broken.stderr

    # env-validate: every issue reported, exit 1; clean once the variables exist.
    pipeline(root, "checked.toml", CHECKED)
    invalid = gryt("env-validate", "checked", "--json", cwd=root)
    assert invalid.code == 1, invalid.stderr
    report = json.loads(invalid.stdout)
    assert report["status"] == "invalid_env"
    assert sorted(i["name"] for i in report["issues"]) == ["GRYT_NEWCOMER_TOKEN", "GRYT_NEWCOMER_USER"]
    human = gryt("env-validate", "checked", cwd=root)
    assert human.code == 1
    assert "env_var_missing" in human.stdout and "GRYT_NEWCOMER_USER" in human.stdout
    env = {"GRYT_NEWCOMER_TOKEN": "t0ken-value", "GRYT_NEWCOMER_USER": "me"}
    ok = gryt("env-validate", "checked", "--json", cwd=root, env=env)
    assert ok.code == 0, ok.stderr
    assert json.loads(ok.stdout) == {"status": "ok", "issues": []}
    refused = gryt("run", "checked", "--json", cwd=root)
    assert refused.code == 1
    assert json.loads(refused.stdout)["status"] == "invalid_env"

    # The history: every run listed, one shown in full, the database as JSON.
    listed = gryt("runs", "list", "--json", "--limit", "0", cwd=root)
    assert listed.code == 0, listed.stderr
    runs = json.loads(listed.stdout)
    assert [r["name"] for r in runs] == ["checked", "broken", "ci", "example"]
    assert [r["status"] for r in runs] == ["invalid_env", "error", "success", "success"]
    table = gryt("runs", "list", cwd=root)
    assert table.code == 0 and "broken" in table.stdout and "invalid_env" in table.stdout

    broken_id = runs[1]["run_id"]
    shown = gryt("runs", "show", broken_id[:-2], "--json", cwd=root)
    assert shown.code == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert record["run_id"] == broken_id and record["status"] == "error"
    assert {s["step_id"]: s["status"] for s in record["steps"]} == {"fails": "error", "after": "skipped"}
    human_show = gryt("runs", "show", broken_id, cwd=root)
    assert human_show.code == 0
    assert "fails" in human_show.stdout and "after" in human_show.stdout and "skipped" in human_show.stdout

    dump = gryt("db", "--table", "pipelines", "--table", "steps_output", cwd=root)
    assert dump.code == 0, dump.stderr
    tables = json.loads(dump.stdout)
    assert sorted(tables) == ["pipelines", "steps_output"]
    assert len(tables["pipelines"]) == 4
    assert {row["step_id"] for row in tables["steps_output"]} >= {"greet", "fails", "after", "hello"}

    # Versioning on the project's git repository.
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env={**GIT_ENV, "PATH": "/usr/bin:/bin"})
    subprocess.run(
        ["git", "commit", "-q", "-m", "init"], cwd=root, check=True, env={**GIT_ENV, "PATH": "/usr/bin:/bin"}
    )
    assert gryt("version", "current", cwd=root).stdout.strip() == "0.0.0"
    bumped = gryt("version", "bump", "minor", "--tag", cwd=root, env=GIT_ENV)
    assert bumped.code == 0, bumped.stderr
    assert bumped.stdout.strip() == "0.1.0"
    assert gryt("version", "current", cwd=root).stdout.strip() == "0.1.0"
