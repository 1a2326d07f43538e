"""examples/pipelines/release.toml runs as documented, in a fresh git repository holding a small package,
against a real package index on 127.0.0.1 (pypiserver, uploads only with its token): on a
version tag it tests on the python matrix, lets its flaky lint fail, builds the tag's version and
uploads it; without a tag it builds and delivers nothing. `gryt plan --json` is the same for the TOML
and the Python (examples/release.py) forms."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from _servers.pypi import PackageIndex, pip_install

from .conftest import write

REPO = Path(__file__).resolve().parents[2]
PYTHONS = ("3.10", "3.11", "3.12", "3.13")

HELLO_TEST = """\
import unittest

import hello_gryt


class HelloTest(unittest.TestCase):
    def test_greeting(self):
        self.assertEqual(hello_gryt.GREETING, "hello")
"""

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "hello-gryt"
dynamic = ["version"]
requires-python = ">=3.10"

[tool.hatch.version]
source = "env"
variable = "RELEASE_VERSION"

[tool.hatch.build.targets.wheel]
packages = ["hello_gryt"]
"""


def listed(index: PackageIndex, project: str) -> list[str]:
    """The file names the index lists for `project` (none when it does not know it)."""
    try:
        with urllib.request.urlopen(f"{index.simple_url}{project}/", timeout=30) as answer:
            page = answer.read().decode()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return []
        raise
    return sorted(re.findall(r">([^<]+\.(?:whl|tar\.gz))</a>", page))


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


@pytest.fixture
def release_project(project: Path, tmp_path: Path, pypi_server: PackageIndex) -> tuple[Path, dict[str, str]]:
    """A package with tests and a lint error, the example pipeline, and `python3.X` for the matrix (each
    this interpreter: the matrix is about the pipeline, not about having four Pythons installed)."""
    shutil.copy(
        REPO / "examples" / "pipelines" / "release.toml", project / ".gryt" / "pipelines" / "release.toml"
    )
    write(project / "pyproject.toml", PYPROJECT)
    write(
        project / "hello_gryt" / "__init__.py",
        "import os  # unused: the flaky lint fails\n\nGREETING = 'hello'\n",
    )
    write(project / "tests" / "test_hello.py", HELLO_TEST)
    write(project / "tests" / "__init__.py", "")
    write(project / ".gitignore", ".gryt/gryt.db\n.gryt/logs/\ndist/\n")
    pythons = tmp_path / "pythons"
    pythons.mkdir()
    for version in PYTHONS:
        stub = pythons / f"python{version}"
        stub.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        stub.chmod(0o755)
    git(project, "init", "-q", "-b", "main")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "hello")
    env = {
        "PATH": f"{pythons}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin",
        "PYPI_TOKEN": pypi_server.token,
    }
    return project, env


@pytest.mark.slow
def test_release_on_a_tag_uploads_the_tagged_version(
    gryt, release_project, pypi_server: PackageIndex
) -> None:
    project, env = release_project
    env = {**env, "PYPI_UPLOAD_URL": pypi_server.upload_url}
    name = f"hello-gryt-{secrets.token_hex(4)}"
    write(project / "pyproject.toml", PYPROJECT.replace('"hello-gryt"', f'"{name}"'))
    git(project, "commit", "-q", "-am", "a name of its own on the shared index")

    untagged = gryt("run", "release", "--json", cwd=project, env=env)
    assert untagged.code == 0, untagged.stderr
    result = json.loads(untagged.stdout)
    assert result["delivery"]["pypi"] == {
        **result["delivery"]["pypi"],
        "status": "skipped",
        "error": "if: git.tag =~ 'v*' was false",
    }
    assert listed(pypi_server, name) == []

    git(project, "tag", "v1.2.3")
    tagged = gryt("run", "release", "--json", "--junit", "junit.xml", cwd=project, env=env)
    assert tagged.code == 0, tagged.stderr
    result = json.loads(tagged.stdout)
    assert {f"test (python={v})" for v in PYTHONS} <= set(result["runners"])
    for version in PYTHONS:
        unit = result["runners"][f"test (python={version})"]["unit"]
        assert unit["status"] == "success"
        assert "Ran 1 test" in unit["stderr"]
    style = result["runners"]["lint"]["style"]
    assert (style["status"], style["allowed"]) == ("error", True)
    assert result["warnings"] == ["allowed failure: step lint/style failed: exit code 1"]
    assert result["delivery"]["pypi"]["status"] == "success"
    stem = name.replace("-", "_")
    assert listed(pypi_server, name) == [f"{stem}-1.2.3-py3-none-any.whl", f"{stem}-1.2.3.tar.gz"]
    installed = pip_install(pypi_server, f"{name}==1.2.3", project.parent / "venv")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    # the token reached twine through TWINE_PASSWORD only, and is masked in every sink
    sinks = [tagged.stdout, tagged.stderr, (project / "junit.xml").read_text()]
    sinks += [
        p.read_bytes().decode("utf-8", "replace") for p in (project / ".gryt").rglob("*") if p.is_file()
    ]
    assert not any(pypi_server.token in text for text in sinks)


@pytest.mark.slow
def test_a_wrong_token_fails_the_delivery(gryt, release_project, pypi_server: PackageIndex) -> None:
    project, env = release_project
    name = f"hello-gryt-{secrets.token_hex(4)}"
    write(project / "pyproject.toml", PYPROJECT.replace('"hello-gryt"', f'"{name}"'))
    git(project, "commit", "-q", "-am", "a name of its own on the shared index")
    git(project, "tag", "v0.1.0")
    done = gryt(
        "run",
        "release",
        "--json",
        cwd=project,
        env={**env, "PYPI_UPLOAD_URL": pypi_server.upload_url, "PYPI_TOKEN": "wrong-token-x"},
    )
    assert done.code == 1
    delivery = json.loads(done.stdout)["delivery"]["pypi"]
    assert delivery["status"] == "error" and "403" in json.dumps(json.loads(done.stdout)["destinations"])
    assert listed(pypi_server, name) == []


def test_plan_is_the_same_for_toml_and_python(gryt, release_project) -> None:
    project, env = release_project
    shutil.copy(REPO / "examples" / "release.py", project / "release.py")
    git(project, "tag", "v2.0.0")
    from_toml = gryt("plan", "release", "--json", cwd=project, env=env)
    from_python = gryt("plan", "release.py", "--json", cwd=project, env=env)
    assert from_toml.code == 0 and from_python.code == 0, from_toml.stderr + from_python.stderr
    plan = json.loads(from_toml.stdout)
    other = json.loads(from_python.stdout)
    assert (plan.pop("file"), other.pop("file")) == (".gryt/pipelines/release.toml", "release.py")
    assert plan == other
    assert [r["id"] for r in plan["runners"]] == [*(f"test (python={v})" for v in PYTHONS), "lint", "build"]
    assert plan["runners"][-1]["steps"][1]["config"]["env"] == {"RELEASE_VERSION": "2.0.0"}
    assert plan["destinations"][0]["config"]["env"]["TWINE_PASSWORD"] == "***"
    assert plan["destinations"][0]["if"] == "git.tag =~ 'v*'"
    assert env["PYPI_TOKEN"] not in from_toml.stdout + from_python.stdout
    text = gryt("plan", "release", cwd=project, env=env)
    assert text.code == 0
    assert "destination pypi (command)  [if: git.tag =~ 'v*']" in text.stdout
    assert '"TWINE_PASSWORD": "***"' in text.stdout and env["PYPI_TOKEN"] not in text.stdout


def test_validate_wants_the_token(gryt, release_project) -> None:
    project, env = release_project
    env.pop("PYPI_TOKEN")
    done = gryt("validate", "release", cwd=project, env=env)
    assert done.code == 2
    assert "destinations[0].env.TWINE_PASSWORD: environment variable PYPI_TOKEN is not set" in done.stderr
