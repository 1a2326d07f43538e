"""End to end: a real wheel of a third-party plugin, installed with gryt-core into a fresh venv."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from _venv import SharedBuilds

FIXTURE = Path(__file__).parent / "fixtures" / "gryt-greet"

PIPELINE = """
[pipeline]
name = "greet"

[[runners]]
id = "main"
steps = [{ id = "hello", type = "greet", who = "e2e", out = "greeting.txt" }]

[[destinations]]
type = "manifest"
id = "manifest"
path = "manifest.txt"

[artifacts]
paths = ["dist/*.whl"]
"""


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False, **kwargs)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{cmd}: {proc.stdout}\n{proc.stderr}"
    return proc  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def greet_venv(shared_builds: SharedBuilds) -> Path:
    """A fresh venv holding gryt-core and the gryt-greet test plugin, and no other plugin."""
    return shared_builds.venv("greet", [FIXTURE])


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRYT_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(COLUMNS="200", **extra)
    return env


@pytest.mark.slow
def test_installed_plugin_is_listed_mounted_and_usable_in_a_pipeline(
    greet_venv: Path, tmp_path: Path
) -> None:
    gryt = str(greet_venv / "bin" / "gryt")

    listed = _run([gryt, "plugins", "list", "--json"], env=_env(), cwd=tmp_path)
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {"builtins", "greet"}
    greet = rows["greet"]
    assert (greet["distribution"], greet["version"], greet["status"], greet["error"]) == (
        "gryt-greet",
        "0.2.0",
        "ok",
        None,
    )
    assert greet["provides"]["steps"] == ["greet"]
    assert greet["provides"]["destinations"] == ["manifest"]
    assert greet["implements"] == ["gryt_pipeline_end", "gryt_register_destinations", "gryt_register_steps"]

    version = _run([gryt, "--version"], env=_env(), cwd=tmp_path)
    assert version.stdout.splitlines()[1] == "plugins: greet-0.2.0"

    # `gryt --help` lists the plugin command without importing the plugin (python -X importtime's list)
    python = str(greet_venv / "bin" / "python")
    code = "import sys; sys.argv = ['gryt', '--help']; from gryt.cli import main; main()"
    helped = subprocess.run(
        [python, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
        check=False,
    )
    assert helped.returncode == 0, helped.stderr
    assert "Plugin command from gryt-greet 0.2.0." in helped.stdout
    imported = {
        line.split("|")[-1].strip() for line in helped.stderr.splitlines() if line.startswith("import time:")
    }
    assert "gryt.cli" in imported
    assert not {m for m in imported if m.startswith("gryt_greet") or m in ("gryt.builtins", "sqlite3")}

    assert _run([gryt, "greet", "--name", "e2e"], env=_env(), cwd=tmp_path).stdout == "greetings, e2e\n"

    project = tmp_path / "project"
    (project / ".gryt" / "pipelines").mkdir(parents=True)
    (project / ".gryt" / "pipelines" / "greet.toml").write_text(PIPELINE)
    (project / "dist").mkdir()
    (project / "dist" / "app-1.0-py3-none-any.whl").write_text("wheel")
    events = tmp_path / "events.txt"
    ran = _run([gryt, "run", "greet", "--json"], env=_env(GRYT_GREET_EVENTS=str(events)), cwd=project)
    result = json.loads(ran.stdout)
    assert result["status"] == "success"
    assert result["runners"]["main"]["hello"]["status"] == "success"
    assert (project / "greeting.txt").read_text() == "hello e2e\n"
    assert (project / "manifest.txt").read_text() == "app-1.0-py3-none-any.whl\n"
    assert events.read_text() == f"{result['run_id']} success\n"

    # the same pipeline with the plugin disabled fails with exit 2 and names the distribution
    disabled = subprocess.run(
        [gryt, "run", "greet"],
        capture_output=True,
        text=True,
        env=_env(GRYT_DISABLE_PLUGINS="greet"),
        cwd=project,
        timeout=60,
        check=False,
    )
    assert disabled.returncode == 2
    assert "greet (gryt-greet, disabled)" in disabled.stderr
    assert len(disabled.stderr.strip().splitlines()) == 1
