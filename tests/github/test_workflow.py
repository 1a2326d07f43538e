"""`gryt ci github`: the workflow is valid for GitHub (check-jsonschema's vendored schema, offline), its job
graph is the plan's, it installs exactly the plan's distributions, passes secrets by name, asks for minimal
permissions, is the same bytes every time, and `--check` fails on an out-of-date file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from _servers.github import GithubServer

from gryt_github.workflow import job_ids, permissions

from .conftest import gryt, write_project

WORKFLOW = ".github/workflows/gryt.yml"


def load(path: Path) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text())
    return data


def check_jsonschema(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            WORKFLOW,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_generated_workflow_is_valid_and_mirrors_the_plan(github_server: GithubServer, tmp_path: Path):
    project = write_project(tmp_path / "project", github_server.api_url)

    first = gryt(project, "ci", "github")
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"wrote {WORKFLOW}\n"
    schema = check_jsonschema(project)
    assert schema.returncode == 0, schema.stdout + schema.stderr

    plan = json.loads(gryt(project, "plan", "ship", "--json").stdout)
    workflow = load(project / WORKFLOW)
    jobs = workflow["jobs"]
    runners = {r["id"]: r for r in plan["runners"]}
    assert set(jobs) == {*runners, "gryt-deliver"}
    for runner_id, runner in runners.items():
        assert sorted(jobs[runner_id].get("needs", [])) == sorted(runner["needs"])
        runs = [s["run"] for s in jobs[runner_id]["steps"] if "run" in s]
        assert f"gryt run ship --runner {runner_id} --no-deliver --show" in runs
    assert jobs["gryt-deliver"]["needs"] == list(runners)
    for job in jobs.values():
        install = next(s["run"] for s in job["steps"] if s.get("name") == "Install gryt")
        names = sorted(p.split("==")[0] for p in install.split()[4:])
        assert names == sorted({*plan["distributions"], "gryt-github"})
    assert plan["distributions"] == ["gryt-core", "gryt-github"]

    assert workflow["permissions"] == {"contents": "read"}
    assert jobs["gryt-deliver"]["permissions"] == {"contents": "write"}
    assert all("permissions" not in jobs[r] for r in runners)
    assert jobs["gryt-deliver"]["env"] == {
        "API_TOKEN": "${{ secrets.API_TOKEN }}",
        "GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}",
    }
    assert jobs["test"]["env"] == {"API_TOKEN": "${{ secrets.API_TOKEN }}"}
    assert workflow["env"] == {"GRYT_RUN_ID": "${{ github.run_id }}-${{ github.run_attempt }}"}
    assert "${{" not in "".join(s.get("run", "") for j in jobs.values() for s in j["steps"])

    again = gryt(project, "ci", "github")
    text = (project / WORKFLOW).read_bytes()
    assert (again.returncode, again.stdout) == (0, f"{WORKFLOW} is up to date\n")
    copy = tmp_path / "copy"
    shutil.copytree(project, copy)
    (copy / WORKFLOW).unlink()
    assert gryt(copy, "ci", "github", "ship").returncode == 0
    assert (copy / WORKFLOW).read_bytes() == text

    assert gryt(project, "ci", "github", "--check").returncode == 0
    pipeline = project / ".gryt/pipelines/ship.toml"
    pipeline.write_text(pipeline.read_text().replace('needs = ["lint", "build"]', 'needs = ["build"]'))
    stale = gryt(project, "ci", "github", "--check")
    assert stale.returncode == 1
    assert stale.stderr == f"gryt: {WORKFLOW} is out of date: run `gryt ci github` and commit it\n"
    assert (project / WORKFLOW).read_bytes() == text


def test_from_gryt_init_to_a_workflow_in_one_command(tmp_path: Path):
    project = tmp_path / "fresh"
    project.mkdir()
    assert gryt(project, "init").returncode == 0

    proc = gryt(project, "ci", "github")

    assert proc.returncode == 0, proc.stderr
    schema = check_jsonschema(project)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    jobs = load(project / WORKFLOW)["jobs"]
    assert {name: job.get("needs", []) for name, job in jobs.items()} == {
        "hello": [],
        "build": ["hello"],
        "gryt-deliver": ["hello", "build"],
    }
    assert "Deliver" not in [s.get("name") for s in jobs["gryt-deliver"]["steps"]]

    broken = (project / WORKFLOW).read_text().replace("runs-on:", "runs_on:")
    (project / WORKFLOW).write_text(broken)
    assert check_jsonschema(project).returncode == 1  # the schema does check what it is given


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path):
    project = tmp_path / "project"
    (project / ".gryt/pipelines").mkdir(parents=True)
    (project / ".gryt/pipelines/a.toml").write_text(
        "[pipeline]\nname = 'a'\n[[runners]]\nid = 'x'\nsteps = [{id = 's', cmd = ['true']}]\n"
    )
    (project / ".gryt/pipelines/b.toml").write_text("[pipeline\n")
    ambiguous = gryt(project, "ci", "github")
    assert (ambiguous.returncode, ambiguous.stderr) == (
        2,
        "gryt: error: PIPELINE: give the pipeline; available: a.toml, b.toml\n",
    )
    broken = gryt(project, "ci", "github", "b")
    assert (
        broken.returncode == 2
        and broken.stderr.startswith("gryt: error: ")
        and len(broken.stderr.splitlines()) == 1
    )
    missing = gryt(project, "ci", "github", "a", "--check")
    assert missing.returncode == 1 and "is missing" in missing.stderr


def test_job_ids_are_valid_and_unique():
    ids, final = job_ids(["build", "Build", "test[py=3.12]", "9lives", "gryt-deliver"])
    assert ids == {
        "build": "build",
        "Build": "Build-2",
        "test[py=3.12]": "test-py-3-12",
        "9lives": "_9lives",
        "gryt-deliver": "gryt-deliver",
    }
    assert final == "gryt-deliver-2"


@pytest.mark.parametrize(
    ("destinations", "expected"),
    [
        ([{"type": "directory", "config": {}}], {"contents": "read"}),
        ([{"type": "github-release", "config": {}}], {"contents": "write"}),
        (
            [{"type": "pypi", "config": {"trusted_publishing": "auto"}}],
            {"contents": "read", "id-token": "write"},
        ),
        ([{"type": "pypi", "config": {"trusted_publishing": False}}], {"contents": "read"}),
    ],
)
def test_final_job_permissions(destinations, expected):
    assert permissions({"destinations": destinations}) == expected
