"""Fixtures for the gryt-gitlab tests: a project with a pipeline of four runners (a matrix, `needs`, an
artifact passed from one runner to another, a destination); `_gryt.run_gryt` runs the real `gryt`."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli.conftest import pipeline
from cli.test_fanout import PIPELINE


@pytest.fixture
def ci_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / ".gryt").mkdir(parents=True)
    (root / ".gryt" / "config.toml").write_text("", encoding="utf-8")
    pipeline(root, "ci.toml", PIPELINE)
    return root
