"""Helpers for the gryt-python tests: the real interpreters of this machine, a wheelhouse made once per
test session (pytest and ruff wheels, so no install needs the network), and small projects to test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _gryt import GRYT
from _venv import SharedBuilds

from gryt.errors import ConfigError
from gryt_python.backends import find_uv
from gryt_python.interpreters import Interpreter, find_interpreter

VERSIONS = ("3.10", "3.11", "3.12", "3.13")
WHEELS = ("pytest", "exceptiongroup", "tomli", "ruff", "iniconfig")
"""Downloaded once per session (exceptiongroup and tomli: pytest's dependencies on 3.10)."""


def interpreter(version: str) -> Interpreter:
    """The machine's Python `version`, or the test is skipped saying it is missing."""
    try:
        return find_interpreter(version, "test")
    except ConfigError as exc:
        pytest.skip(f"Python {version} is not installed here: {exc}")


def available_versions() -> list[str]:
    found = []
    for version in VERSIONS:
        try:
            find_interpreter(version, "test")
        except ConfigError:
            continue
        found.append(version)
    return found


@pytest.fixture(scope="session")
def wheelhouse(shared_builds: SharedBuilds) -> Path:
    """Wheels of pytest (with its dependencies for every Python) and ruff, for `--no-index` installs."""

    def build(folder: Path) -> None:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--only-binary=:all:",
                "-d",
                str(folder),
                *WHEELS,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    return shared_builds.once("python-wheelhouse", build)


@pytest.fixture(scope="session")
def uv_available() -> None:
    if find_uv() is None:
        pytest.skip("uv is not installed (requirements-dev.txt installs it)")


def offline_env(wheelhouse: Path, **extra: str) -> dict[str, str]:
    """The environment for a run whose installs come from `wheelhouse` only, for pip and uv alike."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "GRYT_"))}
    env.update(
        NO_COLOR="1",
        COLUMNS="200",
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheelhouse),
        UV_NO_INDEX="1",
        UV_FIND_LINKS=str(wheelhouse),
        UV_NO_CONFIG="1",
        **extra,
    )
    return env


def write_project(root: Path, *, failing: bool = False) -> Path:
    """A small package in `src/` with tests (one failing and one erroring when `failing`)."""
    (root / "src" / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / ".gryt" / "pipelines").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "calc"\nversion = "0.1"\n\n[tool.pytest.ini_options]\npythonpath = ["src"]\n\n'
        '[tool.ruff.lint]\nselect = ["E", "F", "I"]\n'
    )
    (root / "src" / "calc" / "__init__.py").write_text("def add(a, b):\n    return a + b\n")
    tests = [
        "import sys\n\nimport pytest\n\nfrom calc import add\n\n\n",
        "def test_add():\n    assert add(1, 2) == 3\n\n\n",
        "class TestMore:\n    def test_zero(self):\n        assert add(0, 0) == 0\n\n\n",
        "@pytest.mark.skip(reason='later')\ndef test_later():\n    pass\n\n\n",
        "def test_version():\n    print(sys.version)\n",
    ]
    if failing:
        tests += [
            "\n\ndef test_wrong():\n    assert add(2, 2) == 5\n\n\n",
            "@pytest.fixture\ndef broken():\n    raise RuntimeError('fixture broke')\n\n\n",
            "def test_broken(broken):\n    pass\n",
        ]
    (root / "tests" / "test_calc.py").write_text("".join(tests))
    return root


def gryt(
    root: Path, *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """The real `gryt` executable in `root`."""
    return subprocess.run(
        [GRYT, *args], cwd=root, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
