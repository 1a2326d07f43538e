"""Fixtures for the gryt-postgres tests: a database of each test's own on the session's server, and
projects that record into it through `gryt` subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _servers.postgres import PostgresServer

GRYT = str(Path(sys.executable).parent / "gryt")

PIPELINE = """
[pipeline]
secrets = ["DEPLOY_TOKEN"]

[[runners]]
id = "build"
steps = [
  { id = "compile", cmd = ["sh", "-c", "echo compiling with $DEPLOY_TOKEN"] },
  { id = "test", cmd = ["sh", "-c", "echo tested with $PGPASSWORD"] },
]

[[runners]]
id = "package"
needs = ["build"]
steps = [{ id = "zip", cmd = ["sh", "-c", "echo zipped"] }]
"""


@dataclass
class Done:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class Machine:
    """A project folder standing for one CI machine, recording into `url` (or its SQLite db when None)."""

    root: Path
    url: str | None
    env: dict[str, str]

    def gryt(self, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Done:
        full = {**self.env, **(env or {})}
        if self.url is not None:
            full["GRYT_HISTORY_URL"] = self.url
        done = subprocess.run(
            [GRYT, *args],
            cwd=self.root,
            env=full,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Done(done.returncode, done.stdout, done.stderr)

    def start(self, *args: str) -> subprocess.Popen[str]:
        full = dict(self.env)
        if self.url is not None:
            full["GRYT_HISTORY_URL"] = self.url
        return subprocess.Popen(
            [GRYT, *args], cwd=self.root, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )


@pytest.fixture
def database(postgres_server: PostgresServer) -> str:
    """The URL (no password) of a new database of this test's own."""
    return postgres_server.url(postgres_server.create_database())


@pytest.fixture
def machine(tmp_path: Path, postgres_server: PostgresServer, database: str) -> Callable[..., Machine]:
    """`machine(name, pipeline=PIPELINE, url=database)`: a project folder with `ci.toml`."""

    def make(name: str, pipeline: str = PIPELINE, url: str | None = database) -> Machine:
        root = tmp_path / name
        (root / ".gryt" / "pipelines").mkdir(parents=True)
        (root / ".gryt" / "pipelines" / "ci.toml").write_text(pipeline)
        env = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            "HOME": str(root),
            "NO_COLOR": "1",
            "LANG": "C.UTF-8",
            "COLUMNS": "160",
            "PGPASSWORD": postgres_server.password,
            "DEPLOY_TOKEN": "deploytok-7f3a9c1e5b",
        }
        return Machine(root, url, env)

    return make


def dump(server: PostgresServer, url: str) -> str:
    """Every row of every table of the database at `url`, as text (for secret searches)."""
    name = url.rsplit("/", 1)[1]
    tables = server.psql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", name
    ).split()
    return "\n".join(server.psql(f"SELECT * FROM {table}", name) for table in tables)
