"""Fixtures for the gryt-postgres tests: a database of each test's own on the session's server, and
projects that record into it through `gryt` subprocesses."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from _gryt import GRYT, Done, base_env, run_gryt
from _servers.postgres import PostgresServer

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
class Machine:
    """A project folder standing for one CI machine, recording into `url` (or its SQLite db when None);
    `env` is added to `_gryt.base_env`."""

    root: Path
    url: str | None
    env: dict[str, str]

    def _env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        full = {**self.env, **(extra or {})}
        if self.url is not None:
            full["GRYT_HISTORY_URL"] = self.url
        return full

    def gryt(self, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Done:
        return run_gryt(*args, cwd=self.root, env=self._env(env), timeout=timeout)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [GRYT, *args],
            cwd=self.root,
            env={**base_env(self.root), **self._env()},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
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
        env = {"PGPASSWORD": postgres_server.password, "DEPLOY_TOKEN": "deploytok-7f3a9c1e5b"}
        return Machine(root, url, env)

    return make


def dump(server: PostgresServer, url: str) -> str:
    """Every row of every table of the database at `url`, as text (for secret searches)."""
    name = url.rsplit("/", 1)[1]
    tables = server.psql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", name
    ).split()
    return "\n".join(server.psql(f"SELECT * FROM {table}", name) for table in tables)
