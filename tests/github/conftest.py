"""Helpers for the gryt-github tests: a project whose pipeline fans out over three runners with needs, and
`gryt` as a subprocess (the same interpreter, so the editable installs are used)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GRYT = [sys.executable, "-c", "from gryt.cli import main; main()"]

PIPELINE = """
[pipeline]
name = "ship"
secrets = ["API_TOKEN"]

[[runners]]
id = "lint"
steps = [{{ id = "check", cmd = ["sh", "-c", "echo lint ok"] }}]

[[runners]]
id = "build"
steps = [{{ id = "wheel", cmd = ["sh", "-c", "mkdir -p dist && echo wheel-$GRYT_RUN_ID > dist/app-1.0.txt"] }}]

[[runners]]
id = "test"
needs = ["lint", "build"]
steps = [
  {{ id = "unit", cmd = ["sh", "-c", "echo unit ok with $API_TOKEN"] }},
  {{ id = "e2e", cmd = ["sh", "-c", "echo e2e ok"] }},
]

[artifacts]
paths = ["dist/*.txt"]

[[destinations]]
type = "directory"
id = "copy"
path = "published"

[[destinations]]
type = "github-release"
id = "release"
tag = "v1.0"
api_url = "{api_url}"
"""


def write_project(root: Path, api_url: str) -> Path:
    """A project (`.gryt/pipelines/ship.toml`) for the fan-out: lint and build, then test; two destinations."""
    pipelines = root / ".gryt" / "pipelines"
    pipelines.mkdir(parents=True)
    (pipelines / "ship.toml").write_text(PIPELINE.format(api_url=api_url))
    return root


def gryt_env(**extra: str) -> dict[str, str]:
    """The environment of a `gryt` subprocess: no Actions or gryt variables of the machine running the tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GRYT_", "RUNNER_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def gryt(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GRYT, *args],
        cwd=cwd,
        env=env or gryt_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
