"""`gryt run` with a docker-registry auth step, end to end in a subprocess: later steps see the login, the
token's bytes appear nowhere (database, logs, stdout, --json), and nothing is left after the run."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _leaks import find_bytes

from .conftest import USERNAME, Registry, UserEnv

CHECK_CONFIG = (
    "import json, os, sys; "
    "auths = json.load(open(os.path.join(os.environ['DOCKER_CONFIG'], 'config.json')))['auths']; "
    "assert os.environ['REGISTRY_AUTH_FILE'].startswith(os.environ['DOCKER_CONFIG']); "
    "print('registry-present' if sys.argv[1] in auths else 'registry-missing')"
)


def write_project(root: Path, registry: str, method: str) -> None:
    pipelines = root / ".gryt" / "pipelines"
    pipelines.mkdir(parents=True)
    python = json.dumps(sys.executable)
    (pipelines / "release.toml").write_text(
        f"""
[pipeline]
name = "release"

[[auth]]
type = "docker-registry"
id = "reg"
registry = "{registry}"
method = "{method}"

[[runners]]
id = "push"
steps = [
  {{ id = "leak", cmd = ["sh", "-c", "echo token=$DOCKER_TOKEN; echo err=$DOCKER_TOKEN >&2; cat $DOCKER_CONFIG/config.json"] }},
  {{ id = "check", cmd = [{python}, "-c", {json.dumps(CHECK_CONFIG)}, "{registry}"] }},
]
"""
    )


METHODS = [
    "api",
    pytest.param(
        "docker-cli",
        marks=pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is not on PATH"),
    ),
]


@pytest.mark.parametrize("method", METHODS)
def test_run_exports_login_and_leaks_nothing(
    method: str, basic_registry: Registry, user_env: UserEnv, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    write_project(project, basic_registry.host, method)
    env = {
        **os.environ,
        "HOME": str(user_env.home),
        "TMPDIR": str(user_env.tmp),
        "DOCKER_USERNAME": USERNAME,
        "DOCKER_TOKEN": basic_registry.token,
        "DOCKER_HOST": f"unix://{user_env.tmp}/no-daemon.sock",
        "NO_COLOR": "1",
    }
    env.pop("DOCKER_CONFIG", None)
    gryt = [sys.executable, "-c", "from gryt.cli import main; main()"]
    proc = subprocess.run(
        [*gryt, "run", "release", "--json"],
        cwd=project,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    result = json.loads(proc.stdout)
    assert result["status"] == "success"
    auth = result["auth"]["reg"]
    assert {k: auth.get(k) for k in ("status", "registry", "username", "method")} == {
        "status": "success",
        "registry": basic_registry.host,
        "username": USERNAME,
        "method": method,
    }
    steps = result["runners"]["push"]
    assert "token=***" in steps["leak"]["stdout"]
    assert "err=***" in steps["leak"]["stderr"]
    assert steps["check"]["stdout"].strip() == "registry-present"

    shown = subprocess.run(
        [*gryt, "runs", "show", result["run_id"], "--json"],
        cwd=project,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr.decode(errors="replace")[-2000:]

    token = basic_registry.token.encode()
    auth_b64 = base64.b64encode(f"{USERNAME}:{basic_registry.token}".encode())
    for stream in (proc.stdout, proc.stderr, shown.stdout, shown.stderr):
        assert token not in stream
        assert auth_b64 not in stream
    assert find_bytes(project, [token, auth_b64]) == []
    assert list(project.rglob("*.db")), "the run was recorded in a database file"
    user_env.assert_no_credential(USERNAME, basic_registry.token)
    assert not list(user_env.tmp.glob("gryt-docker-*"))


def test_run_with_rejected_login_fails_before_runners(
    basic_registry: Registry, user_env: UserEnv, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    write_project(project, basic_registry.host, "api")
    env = {
        **os.environ,
        "HOME": str(user_env.home),
        "TMPDIR": str(user_env.tmp),
        "DOCKER_USERNAME": USERNAME,
        "DOCKER_TOKEN": "gryttok-wrong-" + "z" * 16,
    }
    env.pop("DOCKER_CONFIG", None)
    proc = subprocess.run(
        [sys.executable, "-c", "from gryt.cli import main; main()", "run", "release", "--json"],
        cwd=project,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["status"] == "auth_failed"
    assert "HTTP 401" in result["auth"]["reg"]["error"]
    assert b"gryttok-wrong" not in proc.stdout + proc.stderr
    assert find_bytes(project, [b"gryttok-wrong"]) == []
    assert user_env.files() == []
