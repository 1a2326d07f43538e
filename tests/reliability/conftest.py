"""Fixtures of the reliability tests (the harness itself lives in harness.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import HELPER, Project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    """An empty project with `.gryt/pipelines/` and the helper script; leftover helpers are killed after."""
    root = tmp_path / "proj"
    (root / ".gryt" / "pipelines").mkdir(parents=True)
    (root / "helper.py").write_text(HELPER)
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(root),
        "NO_COLOR": "1",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    proj = Project(root=root, env=env)
    try:
        yield proj
    finally:
        proj.cleanup()
