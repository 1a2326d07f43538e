"""examples/pipelines/release.toml runs as documented, in a fresh git repository holding a small package,
against a local upload index (an HTTP server accepting twine's uploads with the right password): on a
version tag it tests on the python matrix, lets its flaky lint fail, builds the tag's version and
uploads it; without a tag it builds and delivers nothing. `gryt plan --json` is the same for the TOML
and the Python (examples/release.py) forms."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .conftest import write

REPO = Path(__file__).resolve().parents[2]
TOKEN = "pypi-AgEIcHlwaS5vcmcCJGE-release-token"
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


@dataclass
class UploadIndex:
    """Uploads received: (file name, bytes), and the requests refused for a wrong password."""

    url: str
    files: dict[str, bytes] = field(default_factory=dict)
    refused: int = 0


@pytest.fixture
def index() -> Iterator[UploadIndex]:
    """A local index: POSTs with `__token__:TOKEN` store the multipart `content` file; others get 403."""
    expected = "Basic " + base64.b64encode(f"__token__:{TOKEN}".encode()).decode()
    state = UploadIndex("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Authorization") != expected:
                state.refused += 1
                self.send_response(403)
                self.end_headers()
                return
            head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
            for part in message.iter_parts():
                if part.get_param("name", header="content-disposition") == "content":
                    payload = part.get_payload(decode=True)
                    state.files[str(part.get_filename())] = payload if isinstance(payload, bytes) else b""
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/legacy/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    thread.join()
    server.server_close()


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
def release_project(project: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
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
        "PYPI_TOKEN": TOKEN,
    }
    return project, env


@pytest.mark.slow
def test_release_on_a_tag_uploads_the_tagged_version(gryt, release_project, index: UploadIndex) -> None:
    project, env = release_project
    env = {**env, "PYPI_UPLOAD_URL": index.url}

    untagged = gryt("run", "release", "--json", cwd=project, env=env)
    assert untagged.code == 0, untagged.stderr
    result = json.loads(untagged.stdout)
    assert result["delivery"]["pypi"] == {
        **result["delivery"]["pypi"],
        "status": "skipped",
        "error": "if: git.tag =~ 'v*' was false",
    }
    assert index.files == {}

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
    assert sorted(index.files) == ["hello_gryt-1.2.3-py3-none-any.whl", "hello_gryt-1.2.3.tar.gz"]
    assert index.refused == 0
    # the token reached twine through TWINE_PASSWORD only, and is masked in every sink
    sinks = [tagged.stdout, tagged.stderr, (project / "junit.xml").read_text()]
    sinks += [
        p.read_bytes().decode("utf-8", "replace") for p in (project / ".gryt").rglob("*") if p.is_file()
    ]
    assert not any(TOKEN in text for text in sinks)


@pytest.mark.slow
def test_a_wrong_token_fails_the_delivery(gryt, release_project, index: UploadIndex) -> None:
    project, env = release_project
    git(project, "tag", "v0.1.0")
    done = gryt(
        "run",
        "release",
        "--json",
        cwd=project,
        env={**env, "PYPI_UPLOAD_URL": index.url, "PYPI_TOKEN": "wrong-token-x"},
    )
    assert done.code == 1
    assert json.loads(done.stdout)["delivery"]["pypi"]["status"] == "error"
    assert index.refused >= 1 and index.files == {}


def test_plan_is_the_same_for_toml_and_python(gryt, release_project) -> None:
    project, env = release_project
    shutil.copy(REPO / "examples" / "release.py", project / "release.py")
    git(project, "tag", "v2.0.0")
    from_toml = gryt("plan", "release", "--json", cwd=project, env=env)
    from_python = gryt("plan", "release.py", "--json", cwd=project, env=env)
    assert from_toml.code == 0 and from_python.code == 0, from_toml.stderr + from_python.stderr
    plan = json.loads(from_toml.stdout)
    assert plan == json.loads(from_python.stdout)
    assert [r["id"] for r in plan["runners"]] == [*(f"test (python={v})" for v in PYTHONS), "lint", "build"]
    assert plan["runners"][-1]["steps"][1]["config"]["env"] == {"RELEASE_VERSION": "2.0.0"}
    assert plan["destinations"][0]["config"]["env"]["TWINE_PASSWORD"] == "***"
    assert plan["destinations"][0]["if"] == "git.tag =~ 'v*'"
    assert TOKEN not in from_toml.stdout + from_python.stdout
    text = gryt("plan", "release", cwd=project, env=env)
    assert text.code == 0
    assert "destination pypi (command)  [if: git.tag =~ 'v*']" in text.stdout
    assert '"TWINE_PASSWORD": "***"' in text.stdout and TOKEN not in text.stdout


def test_validate_wants_the_token(gryt, release_project) -> None:
    project, env = release_project
    env.pop("PYPI_TOKEN")
    done = gryt("validate", "release", cwd=project, env=env)
    assert done.code == 2
    assert "destination pypi.env.TWINE_PASSWORD: environment variable PYPI_TOKEN is not set" in done.stderr
