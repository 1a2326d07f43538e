"""Fixtures for the gryt-gitlab tests: a project with a pipeline of four runners (a matrix, `needs`, an
artifact passed from one runner to another, a destination) and the real `gryt` executable."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cli.conftest import GRYT, Done, base_env, pipeline
from cli.test_fanout import PIPELINE


def run_gryt(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Done:
    done = subprocess.run(
        [GRYT, *args],
        cwd=cwd,
        env={**base_env(cwd), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Done(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def ci_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / ".gryt").mkdir(parents=True)
    (root / ".gryt" / "config.toml").write_text("", encoding="utf-8")
    pipeline(root, "ci.toml", PIPELINE)
    return root
