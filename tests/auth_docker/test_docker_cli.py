"""method = "docker-cli": a stub docker proves the token travels on stdin only; the real docker CLI logs in
client-side (no daemon) to the Basic and Bearer registries."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest

from gryt.context import RunContext
from gryt_auth_docker.auth import DockerRegistryAuth

from .conftest import USERNAME, Registry, UserEnv

DOCKER = shutil.which("docker")
needs_docker = pytest.mark.skipif(
    DOCKER is None, reason="the docker CLI is not on PATH (client only is enough)"
)


def stub_docker(bin_dir: Path, record: Path, exit_code: int = 0) -> None:
    bin_dir.mkdir(exist_ok=True)
    stub = bin_dir / "docker"
    stub.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{record}.argv"\n'
        f'wc -c | tr -d " " > "{record}.stdin"\n'
        f'[ {exit_code} -eq 0 ] || echo "Error response from daemon: denied" >&2\n'
        f"exit {exit_code}\n"
    )
    stub.chmod(0o755)


def test_stub_docker_gets_the_token_on_stdin_never_in_argv(
    user_env: UserEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    record = tmp_path / "record"
    stub_docker(tmp_path / "bin", record)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    token = "gryttok-stub-" + "x" * 20
    context = RunContext(env={"DOCKER_USERNAME": USERNAME, "DOCKER_TOKEN": token})
    auth = DockerRegistryAuth("ghcr", {"registry": "ghcr.io"})
    auth.context = context

    result = auth.authenticate()

    assert result == {
        "status": "success",
        "registry": "ghcr.io",
        "username": USERNAME,
        "method": "docker-cli",
    }
    argv = record.with_suffix(".argv").read_text().splitlines()
    config_dir = context.env["DOCKER_CONFIG"]
    assert argv == ["--config", config_dir, "login", "ghcr.io", "--username", USERNAME, "--password-stdin"]
    assert token not in "\n".join(argv)
    assert int(record.with_suffix(".stdin").read_text()) == len(token)
    seeded = json.loads((Path(config_dir) / "config.json").read_text())
    assert seeded == {"auths": {"ghcr.io": {}}}
    auth.cleanup()
    assert user_env.files() == []


def test_stub_docker_failure_reports_its_message_and_removes_the_config(
    user_env: UserEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stub_docker(tmp_path / "bin", tmp_path / "record", exit_code=1)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    context = RunContext(env={"DOCKER_USERNAME": USERNAME, "DOCKER_TOKEN": "gryttok-denied"})
    auth = DockerRegistryAuth("hub", {"method": "docker-cli"})
    auth.context = context
    result = auth.authenticate()
    assert result["status"] == "error"
    assert result["error"] == "docker login to docker.io failed (exit 1): Error response from daemon: denied"
    assert "DOCKER_CONFIG" not in context.env
    assert user_env.files() == []


def test_docker_cli_method_without_docker_says_so(
    user_env: UserEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("DOCKER_USERNAME", USERNAME)
    monkeypatch.setenv("DOCKER_TOKEN", "gryttok-unused")
    result = DockerRegistryAuth("hub", {"method": "docker-cli"}).authenticate()
    assert result["status"] == "error"
    assert result["method"] == "docker-cli"
    assert (
        result["error"]
        == 'docker CLI not found on PATH (method = "docker-cli"); install it or use method = "api"'
    )
    auto = DockerRegistryAuth("hub", {"registry": "127.0.0.1:9"})
    assert auto._method(dict(os.environ)) == "api"


@needs_docker
@pytest.mark.parametrize("registry_fixture", ["basic_registry", "bearer_registry"])
def test_real_docker_cli_logs_in(
    registry_fixture: str, request: pytest.FixtureRequest, user_env: UserEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry: Registry = request.getfixturevalue(registry_fixture)
    monkeypatch.setenv("DOCKER_USERNAME", USERNAME)
    monkeypatch.setenv("DOCKER_TOKEN", registry.token)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{user_env.tmp}/no-daemon.sock")
    auth = DockerRegistryAuth("reg", {"registry": registry.host, "method": "docker-cli"})
    context = RunContext()
    auth.context = context

    result = auth.authenticate()

    assert result == {
        "status": "success",
        "registry": registry.host,
        "username": USERNAME,
        "method": "docker-cli",
    }
    config = json.loads(Path(context.env["REGISTRY_AUTH_FILE"]).read_text())
    assert base64.b64decode(config["auths"][registry.host]["auth"]).decode() == f"{USERNAME}:{registry.token}"
    auth.cleanup()
    user_env.assert_no_credential(USERNAME, registry.token)


@needs_docker
def test_real_docker_cli_rejected(
    basic_registry: Registry, user_env: UserEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_USERNAME", USERNAME)
    monkeypatch.setenv("DOCKER_TOKEN", "gryttok-wrong")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{user_env.tmp}/no-daemon.sock")
    result = DockerRegistryAuth(
        "reg", {"registry": basic_registry.host, "method": "docker-cli"}
    ).authenticate()
    assert result["status"] == "error"
    assert result["error"].startswith(f"docker login to {basic_registry.host} failed (exit 1): ")
    assert "401 Unauthorized" in result["error"]
    assert [p for p in user_env.files() if p.name == "config.json"] == []
