"""Temporary gryt projects whose pipelines are written from strings or dicts and run in-process (`gryt_project`).

PYTEST_DONT_REWRITE: test modules import `gryt.testing` before pytest registers it; its checks raise
AssertionError with their own messages and need no assertion rewriting.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gryt.project import in_folder
from gryt.testing.toml import dump_toml


@dataclass
class GrytProject:
    """A temporary gryt project: `root` holds `.gryt/pipelines/` and, after a run, `.gryt/gryt.db`."""

    root: Path

    def __post_init__(self) -> None:
        self.pipelines_dir.mkdir(parents=True, exist_ok=True)

    @property
    def gryt_dir(self) -> Path:
        return self.root / ".gryt"

    @property
    def pipelines_dir(self) -> Path:
        return self.gryt_dir / "pipelines"

    @property
    def db_path(self) -> Path:
        return self.gryt_dir / "gryt.db"

    def write_pipeline(self, name: str, content: str | Mapping[str, Any]) -> Path:
        """Write `.gryt/pipelines/NAME.toml` from TOML text or a dict; returns its path."""
        return self._write(self.pipelines_dir / f"{name}.toml", content)

    def write_config(self, content: str | Mapping[str, Any]) -> Path:
        """Write the project config `.gryt/config.toml` from TOML text or a dict."""
        return self._write(self.gryt_dir / "config.toml", content)

    def write_file(self, relative: str | Path, text: str = "") -> Path:
        """Write a file under the project root (parents created), e.g. an artifact to publish."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def run(
        self,
        pipeline: str,
        *,
        parallel: bool | None = None,
        max_parallel: int | None = None,
        artifacts: Sequence[str | Path] | None = None,
    ) -> dict[str, Any]:
        """Run a pipeline (bare name or path) in-process like `gryt run`, recording into `db_path`.

        Uses the current plugin manager (the `gryt_plugins` sandbox when active), runs in the project
        root (where the pipeline's `[artifacts]` globs resolve once its runners succeeded; `artifacts`
        given here replace them) and returns the pipeline result dict.
        """
        from gryt.data import SqliteData
        from gryt.loader import load_pipeline, resolve_pipeline_path
        from gryt.project import load_project

        project = load_project(self.root)
        with in_folder(project.root):
            path = resolve_pipeline_path(pipeline, project)
            project.db.parent.mkdir(parents=True, exist_ok=True)
            data = SqliteData(project.db)
            try:
                loaded = load_pipeline(path, data=data)
                pipe = loaded.pipeline
                if getattr(pipe, "data", None) is None:
                    pipe.data = data
                limit = max_parallel or loaded.max_parallel or project.max_parallel
                if limit is not None:
                    pipe.max_parallel = limit
                if parallel is None:
                    parallel = loaded.parallel if loaded.parallel is not None else bool(project.parallel)
                if pipe.root is None:
                    pipe.root = project.root
                result: dict[str, Any] = pipe.execute(
                    parallel=parallel, artifacts=None if artifacts is None else list(artifacts)
                )
                return result
            finally:
                data.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read-only query against the project database."""
        if not self.db_path.exists():
            raise FileNotFoundError(f"{self.db_path} does not exist yet: run a pipeline first")
        connection = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute(sql, tuple(params))]
        finally:
            connection.close()

    def database_text(self) -> str:
        """Every value of every table in the project database as one string, to assert a secret is absent."""
        tables = self.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        parts: list[str] = []
        for table in tables:
            quoted = '"' + str(table["name"]).replace('"', '""') + '"'
            parts.extend(json.dumps(row, default=str) for row in self.query(f"SELECT * FROM {quoted}"))
        return "\n".join(parts)

    def _write(self, path: Path, content: str | Mapping[str, Any]) -> Path:
        text = content if isinstance(content, str) else dump_toml(content)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


def run_pipeline(
    pipeline: Any,
    *,
    parallel: bool = False,
    artifacts: Sequence[str | Path] | None = None,
    db: str | Path = ":memory:",
) -> dict[str, Any]:
    """Execute a `gryt.Pipeline` built in Python and return its result dict.

    A pipeline without a database records into `db` (default: an in-memory SQLite store, closed after).
    """
    from gryt.data import SqliteData

    data = None
    if getattr(pipeline, "data", None) is None:
        data = SqliteData(db)
        pipeline.data = data
    try:
        result: dict[str, Any] = pipeline.execute(
            parallel=parallel, artifacts=None if artifacts is None else list(artifacts)
        )
        return result
    finally:
        if data is not None:
            data.close()
            pipeline.data = None


@pytest.fixture
def gryt_project(tmp_path: Path) -> GrytProject:
    """A fresh temporary project (`.gryt/pipelines/` created) under the test's tmp_path."""
    return GrytProject(tmp_path / "project")
