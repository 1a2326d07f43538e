"""Registry names, WWW-Authenticate challenges, error bodies and config keys: pure functions, no I/O."""

from __future__ import annotations

import pytest
from _imports import loaded

from gryt.errors import ConfigError
from gryt_auth_docker.auth import DockerRegistryAuth
from gryt_auth_docker.registry import is_loopback_host, parse_registry
from gryt_auth_docker.registry_api import Challenge, error_message, parse_challenges


@pytest.mark.parametrize(
    "name", ["docker.io", "index.docker.io", "https://index.docker.io/v1/", "registry-1.docker.io"]
)
def test_docker_hub_aliases_map_to_api_host_and_index_key(name: str) -> None:
    address = parse_registry(name)
    assert address.name == "docker.io"
    assert address.base_urls(insecure=True) == ["https://registry-1.docker.io"]
    assert address.config_key == "https://index.docker.io/v1/"
    assert address.cli_name == "docker.io"


@pytest.mark.parametrize(
    ("value", "key", "urls"),
    [
        ("ghcr.io", "ghcr.io", ["https://ghcr.io"]),
        ("Registry.GitLab.com", "registry.gitlab.com", ["https://registry.gitlab.com"]),
        ("https://ghcr.io/", "ghcr.io", ["https://ghcr.io"]),
        ("localhost:5000", "localhost:5000", ["https://localhost:5000", "http://localhost:5000"]),
        ("127.0.0.1:5000", "127.0.0.1:5000", ["https://127.0.0.1:5000", "http://127.0.0.1:5000"]),
        ("[::1]:5000", "[::1]:5000", ["https://[::1]:5000", "http://[::1]:5000"]),
        ("http://127.0.0.1:5000", "127.0.0.1:5000", ["http://127.0.0.1:5000"]),
    ],
)
def test_registry_hosts_and_schemes(value: str, key: str, urls: list[str]) -> None:
    address = parse_registry(value)
    assert address.config_key == key
    assert address.base_urls(insecure=False) == urls


def test_plain_http_needs_loopback_or_insecure() -> None:
    with pytest.raises(ConfigError, match="insecure = true"):
        parse_registry("http://registry.internal:5000")
    assert parse_registry("http://registry.internal:5000", insecure=True).base_urls(True) == [
        "http://registry.internal:5000"
    ]
    assert parse_registry("registry.internal").base_urls(insecure=True)[-1] == "http://registry.internal"


@pytest.mark.parametrize("value", ["ghcr.io/owner/image", "ftp://host", "", "bad host", "host:port"])
def test_invalid_registry_values_are_config_errors(value: str) -> None:
    with pytest.raises(ConfigError, match="registry"):
        parse_registry(value)


def test_loopback_detection() -> None:
    assert is_loopback_host("127.0.0.2:80")
    assert is_loopback_host("[::1]:5000")
    assert is_loopback_host("localhost")
    assert not is_loopback_host("10.0.0.1:5000")
    assert not is_loopback_host("ghcr.io")


def test_parse_bearer_and_basic_challenges() -> None:
    header = (
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"'
    )
    assert parse_challenges([header]) == [
        Challenge(
            "bearer",
            {
                "realm": "https://auth.example/token",
                "service": "registry.example",
                "scope": "repository:a/b:pull",
            },
        )
    ]
    assert parse_challenges(['Basic realm="x, y"']) == [Challenge("basic", {"realm": "x, y"})]


def test_parse_several_challenges_token68_and_escapes() -> None:
    got = parse_challenges(['Negotiate abc+/==, Basic realm="a\\"b", Bearer realm=tok', "Digest nonce=1"])
    assert [c.scheme for c in got] == ["negotiate", "basic", "bearer", "digest"]
    assert got[1].params == {"realm": 'a"b'}
    assert got[2].params == {"realm": "tok"}


def test_error_message_from_registry_token_server_and_text() -> None:
    body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}'
    assert error_message(body) == "authentication required"
    assert error_message(b'{"details": "incorrect username or password"}') == "incorrect username or password"
    assert error_message(b"denied\nmore") == "denied"
    assert error_message(b"<html><body>proxy</body></html>") == ""
    assert len(error_message(b"denied " * 100)) <= 200
    # A token the registry echoes at the cut: none of it stays (the whole token is masked later).
    echoed = error_message(b"denied " * 27 + b"token ghp_" + b"k" * 40)
    assert echoed.endswith("token ...") and "ghp_" not in echoed


def test_config_keys_are_declared_and_checked() -> None:
    keys = {k.name for k in DockerRegistryAuth.config_keys or ()}
    assert {
        "registry",
        "username_env_var",
        "token_env_var",
        "timeout",
        "token_command",
        "method",
        "insecure",
        "keep",
    } <= keys
    auth = DockerRegistryAuth("hub")
    assert auth.config["registry"] == "docker.io"
    assert auth.config["username_env_var"] == "DOCKER_USERNAME"
    assert auth.config["token_env_var"] == "DOCKER_TOKEN"
    assert auth.config["timeout"] == 30
    assert auth.config["keep"] is False
    with pytest.raises(ConfigError, match='did you mean "registry"'):
        DockerRegistryAuth("ghcr", {"regsitry": "ghcr.io"})
    with pytest.raises(ConfigError, match='did you mean "docker-cli"'):
        DockerRegistryAuth("ghcr", {"method": "docker_cli"})
    with pytest.raises(ConfigError, match="timeout"):
        DockerRegistryAuth("ghcr", {"timeout": 0})
    with pytest.raises(ConfigError, match="token_command"):
        DockerRegistryAuth("ghcr", {"token_command": []})
    with pytest.raises(ConfigError, match="expected a boolean"):
        DockerRegistryAuth("ghcr", {"keep": "yes"})


def test_registered_through_the_plugin_manager() -> None:
    from gryt.plugins import get_manager

    manager = get_manager()
    assert manager.registry.get("auth", "docker-registry") is DockerRegistryAuth
    provider = manager.registry.provider("auth", "docker-registry")
    assert provider is not None and provider.distribution == "gryt-auth-docker"
    from gryt.auth import DockerRegistryAuth as Imported

    assert Imported is DockerRegistryAuth


def test_plugin_is_valid_and_registering_stays_cheap() -> None:
    from gryt.testing import assert_valid_plugin
    from gryt_auth_docker import plugin

    assert_valid_plugin(plugin)
    assert loaded("import gryt_auth_docker.auth", ["ssl", "urllib.request", "http.client"]) == []


def test_known_secrets_name_the_token_before_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token in `token_env_var` is masked from the start of a run; a token_command's is not known yet."""
    monkeypatch.setenv("MY_REGISTRY_TOKEN", " tok-before-the-run ")
    assert DockerRegistryAuth("reg", {"token_env_var": "MY_REGISTRY_TOKEN"}).known_secrets() == [
        "tok-before-the-run"
    ]
    assert DockerRegistryAuth("reg", {"token_command": ["cat", "token"]}).known_secrets() == []
    monkeypatch.delenv("MY_REGISTRY_TOKEN")
    assert DockerRegistryAuth("reg", {"token_env_var": "MY_REGISTRY_TOKEN"}).known_secrets() == []
