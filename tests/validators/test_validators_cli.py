"""The validators through the real `gryt` executable: `env-validate` reports every issue, `validate`
catches key typos."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="stub tools are POSIX shell scripts")

GRYT = str(Path(sys.executable).parent / "gryt")
SECRET = "s3cr3t-e2e-value"

PIPELINE = """
[[validators]]
type = "env-vars"
required = ["GRYT_E2E_SET", "GRYT_E2E_MISSING"]

[[validators]]
type = "tools"
tools = [{ name = "node", min_version = "22" }, "gryt-no-such-tool"]

[[validators]]
type = "files"
paths = ["pyproject.toml", "missing.txt"]
kind = "file"

[[validators]]
type = "python"
version = ">=3.10"
modules = ["json", "gryt_no_such_module"]

[[validators]]
type = "git"
clean = true

[[runners]]
id = "never"
steps = [{ id = "touch", cmd = ["touch", "ran.txt"] }]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project (not a git repository) with a pipeline using every validator type and a stub `node`."""
    root = tmp_path / "proj"
    (root / ".gryt" / "pipelines").mkdir(parents=True)
    (root / "sub").mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (root / ".gryt" / "pipelines" / "env.toml").write_text(PIPELINE)
    stubs = tmp_path / "bin"
    stubs.mkdir()
    node = stubs / "node"
    node.write_text("#!/bin/sh\necho v20.20.2\n")
    node.chmod(0o755)
    return root


def gryt(project: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    stubs = project.parent / "bin"
    env = {
        "PATH": os.pathsep.join(
            [str(stubs), str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
        "HOME": str(project.parent),
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CEILING_DIRECTORIES": str(project.parent),
        "GRYT_E2E_SET": SECRET,
    }
    return subprocess.run(
        [GRYT, *args], cwd=cwd or project, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_env_validate_json_lists_every_issue(project: Path) -> None:
    done = gryt(project, "env-validate", "env", "--json", cwd=project / "sub")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "invalid_env"
    found = [(issue["kind"], issue["name"]) for issue in report["issues"]]
    assert found == [
        ("env_var_missing", "GRYT_E2E_MISSING"),
        ("tool_version", "node"),
        ("tool_missing", "gryt-no-such-tool"),
        ("file_missing", "missing.txt"),
        ("python_module", "gryt_no_such_module"),
        ("git_missing", "."),
    ]
    assert report["issues"][1]["details"] == {"found": "20.20.2", "required": "22"}
    assert report["issues"][-1]["message"] == "the project directory is not a git repository"
    assert SECRET not in done.stdout + done.stderr
    assert not (project / "ran.txt").exists()


def test_env_validate_text_groups_by_validator(project: Path) -> None:
    done = gryt(project, "env-validate", "env")
    assert done.returncode == 1, done.stderr
    for label in ("env-vars", "tools", "files", "python", "git"):
        assert label in done.stdout
    assert "node 20.20.2 is older than required 22" in done.stdout
    assert SECRET not in done.stdout


def test_validate_rejects_a_mistyped_key(project: Path) -> None:
    pipeline = project / ".gryt" / "pipelines" / "typo.toml"
    pipeline.write_text('[[validators]]\ntype = "env-vars"\nrequried = ["X"]\n')
    done = gryt(project, "validate", "typo")
    assert done.returncode == 2
    assert 'did you mean "required"' in done.stderr
    assert len([line for line in done.stderr.splitlines() if line.strip()]) == 1


def test_validate_rejects_a_bad_tool_entry(project: Path) -> None:
    pipeline = project / ".gryt" / "pipelines" / "badtool.toml"
    pipeline.write_text('[[validators]]\ntype = "tools"\ntools = [{ name = "git", min_verison = "2" }]\n')
    done = gryt(project, "validate", "badtool")
    assert done.returncode == 2
    assert 'did you mean "min_version"' in done.stderr


def test_run_stops_before_any_step(project: Path) -> None:
    done = gryt(project, "run", "env", "--json")
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "invalid_env"
    assert len(result["issues"]) == 6
    assert not any(result["runners"].values())
    assert not (project / "ran.txt").exists()
    assert SECRET not in done.stdout + done.stderr
