"""method = "api" against real registries on 127.0.0.1: Basic (htpasswd) and Bearer (token server)."""

from __future__ import annotations

import base64
import json
import socket
import stat
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gryt.context import RunContext
from gryt_auth_docker.auth import DockerRegistryAuth

from .conftest import USERNAME, Registry, UserEnv, free_port


def login(
    registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
    *,
    token: str | None = None,
    user: str = USERNAME,
    **config: Any,
) -> tuple[DockerRegistryAuth, RunContext, dict[str, Any]]:
    monkeypatch.setenv("DOCKER_USERNAME", user)
    monkeypatch.setenv("DOCKER_TOKEN", registry.token if token is None else token)
    auth = DockerRegistryAuth("reg", {"registry": registry.host, "method": "api", **config})
    context = RunContext()
    auth.context = context
    return auth, context, auth.authenticate()


def read_config(path: str | Path) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(Path(path).read_text())
    return config


def test_basic_login_writes_run_scoped_config_and_cleanup_removes_it(
    basic_registry: Registry, user_env: UserEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth, context, result = login(basic_registry, monkeypatch)

    assert result == {
        "status": "success",
        "registry": basic_registry.host,
        "username": USERNAME,
        "method": "api",
    }
    assert auth.is_authenticated()
    config_dir = Path(context.env["DOCKER_CONFIG"])
    assert context.env["REGISTRY_AUTH_FILE"] == str(config_dir / "config.json")
    assert config_dir.parent == user_env.tmp
    entry = read_config(config_dir / "config.json")["auths"][basic_registry.host]
    assert base64.b64decode(entry["auth"]).decode() == f"{USERNAME}:{basic_registry.token}"
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((config_dir / "config.json").stat().st_mode) == 0o600
    assert basic_registry.token in context.masker
    assert entry["auth"] in context.masker
    assert not user_env.docker_dir.exists()

    auth.cleanup()
    assert not config_dir.exists()
    assert not auth.is_authenticated()
    user_env.assert_no_credential(USERNAME, basic_registry.token)
    auth.cleanup()


@pytest.mark.parametrize(("user", "token"), [(USERNAME, "wrong-token"), ("mallory", None)])
def test_basic_login_rejected(
    basic_registry: Registry, user_env: UserEnv, monkeypatch: pytest.MonkeyPatch, user: str, token: str | None
) -> None:
    auth, context, result = login(basic_registry, monkeypatch, token=token, user=user)

    assert result["status"] == "error"
    assert result["username"] == user
    assert f"registry {basic_registry.host} rejected the credentials of user {user}" in result["error"]
    assert "HTTP 401 (authentication required)" in result["error"]
    assert "DOCKER_CONFIG" not in context.env
    assert not auth.is_authenticated()
    assert user_env.files() == []


@pytest.mark.parametrize(
    ("missing", "key"), [("DOCKER_USERNAME", "username_env_var"), ("DOCKER_TOKEN", "token_env_var")]
)
def test_missing_variable_is_named(
    basic_registry: Registry, user_env: UserEnv, monkeypatch: pytest.MonkeyPatch, missing: str, key: str
) -> None:
    monkeypatch.setenv("DOCKER_USERNAME", USERNAME)
    monkeypatch.setenv("DOCKER_TOKEN", basic_registry.token)
    monkeypatch.delenv(missing)
    result = DockerRegistryAuth("reg", {"registry": basic_registry.host, "method": "api"}).authenticate()
    assert result["status"] == "error"
    assert result["error"] == f"environment variable {missing} is not set ({key}); it must hold the " + (
        "user name" if key == "username_env_var" else "token"
    )


def test_custom_variable_names_and_exported_run_env(
    basic_registry: Registry, user_env: UserEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = DockerRegistryAuth(
        "reg",
        {
            "registry": basic_registry.host,
            "method": "api",
            "username_env_var": "REG_USER",
            "token_env_var": "REG_PASS",
        },
    )
    context = RunContext(env={"REG_USER": USERNAME, "REG_PASS": basic_registry.token})
    auth.context = context
    assert auth.authenticate()["status"] == "success"
    auth.cleanup()


def test_unreachable_port_names_host_and_reason(user_env: UserEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("DOCKER_USERNAME", USERNAME)
    monkeypatch.setenv("DOCKER_TOKEN", "some-token")
    result = DockerRegistryAuth("reg", {"registry": f"127.0.0.1:{port}", "method": "api"}).authenticate()
    assert result["status"] == "error"
    assert f"registry 127.0.0.1:{port} is unreachable" in result["error"]
    assert "connection refused" in result["error"]
    assert user_env.files() == []


def test_silent_registry_fails_within_timeout(user_env: UserEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_USERNAME", USERNAME)
    monkeypatch.setenv("DOCKER_TOKEN", "some-token")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        host = f"127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        result = DockerRegistryAuth("reg", {"registry": host, "method": "api", "timeout": 1}).authenticate()
        elapsed = time.monotonic() - started
    assert result["status"] == "error"
    assert f"registry {host} is unreachable" in result["error"]
    assert "no answer within 1 s" in result["error"]
    assert elapsed < 5


def test_token_command_output_is_the_secret(
    basic_registry: Registry, user_env: UserEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    token_file = tmp_path / "token.txt"
    token_file.write_text(basic_registry.token + "\n")
    monkeypatch.setenv("DOCKER_USERNAME", USERNAME)
    monkeypatch.delenv("DOCKER_TOKEN", raising=False)
    auth = DockerRegistryAuth(
        "reg", {"registry": basic_registry.host, "method": "api", "token_command": ["cat", str(token_file)]}
    )
    context = RunContext()
    auth.context = context
    result = auth.authenticate()
    assert result["status"] == "success", result
    assert basic_registry.token in context.masker
    assert basic_registry.token not in json.dumps(result)
    auth.cleanup()


def test_token_command_failure_is_reported(user_env: UserEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_USERNAME", USERNAME)
    failing = [sys.executable, "-c", "import sys; sys.exit('no credentials configured')"]
    result = DockerRegistryAuth(
        "reg", {"registry": "127.0.0.1:9", "method": "api", "token_command": failing}
    ).authenticate()
    assert result["status"] == "error"
    assert result["error"] == f"token_command {sys.executable} exited with 1: no credentials configured"
    missing = DockerRegistryAuth(
        "reg", {"registry": "127.0.0.1:9", "method": "api", "token_command": ["gryt-no-such-command"]}
    ).authenticate()
    assert missing["error"] == "token_command gryt-no-such-command: command not found"


def test_token_command_that_hangs_is_killed_with_its_children(
    user_env: UserEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_USERNAME", USERNAME)
    pidfile = tmp_path / "child"
    hanging = ["sh", "-c", f"sleep 60 & echo $! > {pidfile}; wait"]
    started = time.monotonic()
    result = DockerRegistryAuth(
        "reg", {"registry": "127.0.0.1:9", "method": "api", "token_command": hanging, "timeout": 1}
    ).authenticate()
    assert time.monotonic() - started < 10
    assert result["error"] == "token_command sh did not finish within 1 s"
    child = Path(f"/proc/{pidfile.read_text().strip()}/stat")
    deadline = time.monotonic() + 5
    while running(child):
        assert time.monotonic() < deadline, "the token command's background sleep must die with it"
        time.sleep(0.05)


def running(stat: Path) -> bool:
    """Whether the process of a `/proc/PID/stat` file exists and is not a zombie."""
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def test_bearer_login_fetches_token_with_basic_credentials(
    bearer_registry: Registry, user_env: UserEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = bearer_registry.token_server
    assert server is not None
    auth, context, result = login(bearer_registry, monkeypatch)

    assert result == {
        "status": "success",
        "registry": bearer_registry.host,
        "username": USERNAME,
        "method": "api",
    }
    with server.lock:
        request = server.requests[-1]
        issued = server.issued[-1]
    assert request["query"] == {"service": "gryt-test-registry", "account": USERNAME}
    assert bearer_registry.token not in request["path"]
    assert (
        request["authorization"]
        == "Basic " + base64.b64encode(f"{USERNAME}:{bearer_registry.token}".encode()).decode()
    )
    assert issued in context.masker
    assert bearer_registry.host in read_config(context.env["REGISTRY_AUTH_FILE"])["auths"]
    auth.cleanup()
    user_env.assert_no_credential(USERNAME, bearer_registry.token)


def test_bearer_login_rejected_reports_token_server_message(
    bearer_registry: Registry, user_env: UserEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    _auth, context, result = login(bearer_registry, monkeypatch, token="wrong-token")
    assert result["status"] == "error"
    assert result["error"] == (
        f"token server of registry {bearer_registry.host} rejected the credentials of user {USERNAME}: "
        "HTTP 401 (incorrect username or password)"
    )
    assert "DOCKER_CONFIG" not in context.env
    assert user_env.files() == []


def test_user_config_is_copied_without_credential_stores_and_left_untouched(
    basic_registry: Registry, user_env: UserEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_env.docker_dir.mkdir()
    plugins = user_env.docker_dir / "cli-plugins"
    plugins.mkdir()
    (plugins / "docker-buildx").write_text("#!/bin/sh\n")
    original = {
        "credsStore": "desktop",
        "credHelpers": {basic_registry.host: "desktop", "gcr.io": "gcloud"},
        "auths": {"other.example": {"auth": "b3RoZXI6b3RoZXI="}},
        "proxies": {"default": {"httpProxy": "http://proxy.internal:3128"}},
    }
    user_file = user_env.docker_dir / "config.json"
    user_file.write_text(json.dumps(original))
    before = user_file.read_bytes()

    auth, context, result = login(basic_registry, monkeypatch)
    assert result["status"] == "success"
    scoped_dir = Path(context.env["DOCKER_CONFIG"])
    scoped = read_config(scoped_dir / "config.json")
    assert "credsStore" not in scoped
    assert scoped["credHelpers"] == {"gcr.io": "gcloud"}
    assert scoped["proxies"] == original["proxies"]
    assert set(scoped["auths"]) == {"other.example", basic_registry.host}
    assert (scoped_dir / "cli-plugins" / "docker-buildx").read_text() == "#!/bin/sh\n"

    auth.cleanup()
    assert not scoped_dir.exists()
    assert user_file.read_bytes() == before
    assert (plugins / "docker-buildx").exists()
    user_env.assert_no_credential(USERNAME, basic_registry.token)


def test_second_login_keeps_the_first(
    basic_registry: Registry, bearer_registry: Registry, user_env: UserEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_USERNAME", USERNAME)
    context = RunContext(env={"T1": basic_registry.token, "T2": bearer_registry.token})
    steps = [
        DockerRegistryAuth("one", {"registry": basic_registry.host, "method": "api", "token_env_var": "T1"}),
        DockerRegistryAuth("two", {"registry": bearer_registry.host, "method": "api", "token_env_var": "T2"}),
    ]
    for step in steps:
        step.context = context
        assert step.authenticate()["status"] == "success"
    auths = read_config(context.env["REGISTRY_AUTH_FILE"])["auths"]
    assert {basic_registry.host, bearer_registry.host} <= set(auths)
    for step in steps:
        step.cleanup()
    assert user_env.files() == []


def test_keep_writes_the_users_own_config(
    basic_registry: Registry, user_env: UserEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth, context, result = login(basic_registry, monkeypatch, keep=True)
    assert result["status"] == "success"
    assert context.env["DOCKER_CONFIG"] == str(user_env.docker_dir)
    auth.cleanup()
    entry = read_config(user_env.docker_dir / "config.json")["auths"][basic_registry.host]
    assert base64.b64decode(entry["auth"]).decode() == f"{USERNAME}:{basic_registry.token}"
    assert stat.S_IMODE((user_env.docker_dir / "config.json").stat().st_mode) == 0o600


def test_keep_uses_the_users_credential_helper(
    basic_registry: Registry, user_env: UserEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stored = tmp_path / "helper-input.json"
    helper = bin_dir / "docker-credential-gryttest"
    helper.write_text(f'#!/bin/sh\n[ "$1" = store ] || exit 3\ncat > "{stored}"\n')
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    user_env.docker_dir.mkdir()
    (user_env.docker_dir / "config.json").write_text(json.dumps({"credsStore": "gryttest"}))

    auth, _context, result = login(basic_registry, monkeypatch, keep=True)
    assert result["status"] == "success", result
    assert json.loads(stored.read_text()) == {
        "ServerURL": basic_registry.host,
        "Username": USERNAME,
        "Secret": basic_registry.token,
    }
    config = read_config(user_env.docker_dir / "config.json")
    assert config == {"credsStore": "gryttest", "auths": {basic_registry.host: {}}}
    auth.cleanup()


def test_authenticating_again_is_skipped_until_cleanup(
    basic_registry: Registry, user_env: UserEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_env.docker_dir.mkdir()
    (user_env.docker_dir / "config.json").write_text(json.dumps({"detachKeys": "ctrl-x"}))
    auth, context, first = login(basic_registry, monkeypatch)
    first_dir = Path(context.env["DOCKER_CONFIG"])
    assert first["status"] == "success"
    assert auth.authenticate()["status"] == "skipped"
    assert Path(context.env["DOCKER_CONFIG"]) == first_dir and first_dir.exists()
    auth.cleanup()
    assert not first_dir.exists()
    assert auth.authenticate()["status"] == "success"
    second_dir = Path(context.env["DOCKER_CONFIG"])
    assert second_dir != first_dir
    assert read_config(second_dir / "config.json")["detachKeys"] == "ctrl-x"
    auth.cleanup()
    user_env.assert_no_credential(USERNAME, basic_registry.token)
