"""Fixtures for the CLI tests: temp projects, the CLI in-process (CliRunner) and as a real subprocess."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _gryt import Done, run_gryt
from typer.testing import CliRunner

from gryt.cli import app


@pytest.fixture
def gryt(tmp_path: Path):
    """Run the real `gryt` executable: `gryt(*args, cwd=..., env=..., timeout=...)`."""

    def call(
        *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 60
    ) -> Done:
        return run_gryt(*args, cwd=cwd or tmp_path, env=env, home=tmp_path, timeout=timeout)

    return call


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch):
    """Run the CLI in-process through Typer's CliRunner, from a given folder."""

    runner = CliRunner()

    def call(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Done:
        monkeypatch.chdir(cwd)
        monkeypatch.setenv("NO_COLOR", "1")
        monkeypatch.setenv("COLUMNS", "160")
        result = runner.invoke(app, list(args), env=env, catch_exceptions=False)
        return Done(result.exit_code, result.stdout, result.stderr)

    return call


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """An empty project folder holding `.gryt/pipelines/`."""
    root = tmp_path / "proj"
    (root / ".gryt" / "pipelines").mkdir(parents=True)
    yield root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def pipeline(project: Path, name: str, text: str) -> Path:
    """Write `.gryt/pipelines/NAME` (with suffix) in `project`."""
    return write(project / ".gryt" / "pipelines" / name, text)
