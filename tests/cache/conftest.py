"""Helpers for the step cache tests: a project folder and pipelines run in-process with its cache."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gryt import CommandStep, Pipeline, Runner
from gryt.cache.engine import CacheMode, StepCache
from gryt.cache.local import LocalCache
from gryt.testing import run_pipeline

Run = Callable[..., dict[str, Any]]


def old(path: Path) -> None:
    """Date a file back (past the hash index's racy window) so that its digest is kept."""
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / ".gryt").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def run(project: Path) -> Run:
    """`run(steps, mode=..., needs=...)`: one run of runner `r` (steps: CommandStep kwargs), its step results.

    `runners` instead of `steps` gives several runners: `{id: (steps, needs)}`.
    """

    def call(
        steps: list[dict[str, Any]] | None = None,
        *,
        runners: dict[str, tuple[list[dict[str, Any]], list[str]]] | None = None,
        mode: CacheMode = "read-write",
        parallel: bool = False,
    ) -> dict[str, Any]:
        specs = runners if runners is not None else {"r": (steps or [], [])}
        built = [
            Runner([CommandStep(**kwargs) for kwargs in step_list], id=rid, needs=needs)
            for rid, (step_list, needs) in specs.items()
        ]
        pipeline = Pipeline(built)
        pipeline.cache = StepCache(LocalCache(project), project, mode)
        return run_pipeline(pipeline, parallel=parallel, db=project / ".gryt" / "gryt.db")

    return call


def statuses(result: dict[str, Any], runner: str = "r") -> dict[str, str]:
    return {sid: step["status"] for sid, step in result["runners"][runner].items()}
