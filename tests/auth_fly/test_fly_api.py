"""FlyAuth against a loopback Fly GraphQL API: headers, identity, exports and every failure mode."""

from __future__ import annotations

import json
import socket
import time

import pytest

from gryt.errors import ConfigError
from gryt_auth_fly.auth import FlyAuth
from gryt_auth_fly.tokens import authorization_header

from .conftest import UNAUTHENTICATED, VIEWER_QUERY, FakeFlyApi, macaroon, personal_token


def api_auth(fly_api: FakeFlyApi, monkeypatch: pytest.MonkeyPatch, token: str, **config: object) -> FlyAuth:
    monkeypatch.setenv("FLY_API_TOKEN", token)
    monkeypatch.setenv("FLY_API_BASE_URL", fly_api.base_url)
    return FlyAuth("fly", {"method": "api", "timeout": 5, **config})


def assert_no_token(result: dict[str, object], token: str) -> None:
    text = json.dumps(result)
    for part in [token, *token.replace("FlyV1 ", "").split(",")]:
        assert part not in text


def test_personal_token_is_sent_as_bearer_and_exported(fly_api, monkeypatch):
    token = personal_token()
    fly_api.accept(f"Bearer {token}", {"id": "u1", "email": "dev@example.com"})
    auth = api_auth(fly_api, monkeypatch, token)

    result = auth.authenticate()

    assert result == {
        "status": "success",
        "method": "api",
        "email": "dev@example.com",
        "token_env_var": "FLY_API_TOKEN",
    }
    assert auth.is_authenticated()
    assert auth.exported_env == {"FLY_API_TOKEN": token, "FLY_ACCESS_TOKEN": token}
    assert auth.secrets[0] == token
    [request] = fly_api.requests_with(token)
    assert request["path"] == "/graphql"
    assert request["headers"]["Authorization"] == f"Bearer {token}"
    assert " ".join(json.loads(request["body"])["query"].split()) == VIEWER_QUERY


def test_deploy_macaroons_are_sent_as_flyv1(fly_api, monkeypatch):
    first, second = macaroon(), macaroon()
    fly_api.accept(f"FlyV1 {first},{second}", {"email": "deploy@example.com"})
    auth = api_auth(fly_api, monkeypatch, f"{first},{second}")

    result = auth.authenticate()

    assert result["status"] == "success", result
    assert result["email"] == "deploy@example.com"
    [request] = fly_api.requests_with(first)
    assert request["headers"]["Authorization"] == f"FlyV1 {first},{second}"
    assert {first, second} <= set(auth.secrets)


def test_input_already_prefixed_with_flyv1_is_not_prefixed_twice(fly_api, monkeypatch):
    first, second = macaroon(), macaroon()
    token = f"FlyV1 {first},{second}"
    fly_api.accept(f"FlyV1 {first},{second}", {"email": "org@example.com"})
    auth = api_auth(fly_api, monkeypatch, token)

    result = auth.authenticate()

    assert result["status"] == "success", result
    [request] = fly_api.requests_with(first)
    assert request["headers"]["Authorization"] == f"FlyV1 {first},{second}"
    assert auth.exported_env["FLY_API_TOKEN"] == token


@pytest.mark.parametrize(
    ("token", "header"),
    [
        ("abc123", "Bearer abc123"),
        ("  Bearer fo1_x \n", "Bearer fo1_x"),
        ("fm1r_a", "FlyV1 fm1r_a"),
        ("fm1a_a, fm1r_b", "FlyV1 fm1a_a,fm1r_b"),
        ("flyv1 fm2_a,fm2_b", "FlyV1 fm2_a,fm2_b"),
        ("FlyV1 FlyV1 fm2_a", "FlyV1 fm2_a"),
        ("fo1_user,fm2_a", "FlyV1 fm2_a"),
    ],
)
def test_authorization_header_follows_flyctl(token, header):
    assert authorization_header(token) == header


def test_rejected_token_reports_the_api_message_and_exports_nothing(fly_api, monkeypatch):
    token = personal_token()
    auth = api_auth(fly_api, monkeypatch, token)

    result = auth.authenticate()

    assert result["status"] == "error"
    assert UNAUTHENTICATED in result["error"]
    assert "rejected" in result["error"]
    assert "FLY_API_TOKEN" in result["error"]
    assert "\n" not in result["error"]
    assert auth.exported_env == {}
    assert not auth.is_authenticated()
    assert_no_token(result, token)


def test_http_401_is_a_rejection(fly_api, monkeypatch):
    token = personal_token()
    auth = api_auth(fly_api, monkeypatch, token, api_base=f"{fly_api.base_url}/unauthorized")

    result = auth.authenticate()

    assert result["status"] == "error"
    assert f"rejected the token: {UNAUTHENTICATED}" in result["error"]


def test_server_that_never_answers_times_out(fly_api, monkeypatch):
    token = personal_token()
    auth = api_auth(fly_api, monkeypatch, token, api_base=f"{fly_api.base_url}/hang", timeout=1)

    started = time.monotonic()
    result = auth.authenticate()

    assert time.monotonic() - started < 10
    assert result["status"] == "error"
    host = fly_api.base_url.removeprefix("http://")
    assert f"cannot reach the Fly API at {host}: no answer within 1 s" in result["error"]
    assert fly_api.requests_with(token), "the request never reached the server"


def test_non_json_answer_is_reported(fly_api, monkeypatch):
    auth = api_auth(fly_api, monkeypatch, personal_token(), api_base=f"{fly_api.base_url}/html")

    result = auth.authenticate()

    assert result["status"] == "error"
    assert "non-JSON response (HTTP 200, text/html)" in result["error"]


def test_answer_without_viewer_is_unexpected(fly_api, monkeypatch):
    auth = api_auth(fly_api, monkeypatch, personal_token(), api_base=f"{fly_api.base_url}/empty")

    result = auth.authenticate()

    assert result["status"] == "error"
    assert "unexpected response: no data.viewer" in result["error"]


def test_redirects_are_refused_so_the_token_goes_nowhere_else(fly_api, monkeypatch):
    token = personal_token()
    fly_api.accept(f"Bearer {token}", {"id": "u1", "email": "dev@example.com"})
    auth = api_auth(fly_api, monkeypatch, token, api_base=f"{fly_api.base_url}/redirect")

    result = auth.authenticate()

    assert result["status"] == "error"
    assert "redirected to" in result["error"]
    assert [r["path"] for r in fly_api.requests_with(token)] == ["/redirect/graphql"]


def test_unreachable_host_names_host_and_reason(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("FLY_API_TOKEN", personal_token())
    auth = FlyAuth("fly", {"method": "api", "timeout": 2, "api_base": f"http://127.0.0.1:{port}"})

    result = auth.authenticate()

    assert result["status"] == "error"
    assert f"cannot reach the Fly API at 127.0.0.1:{port}: Connection refused" in result["error"]


def test_api_base_key_overrides_the_environment_and_trailing_slash(fly_api, monkeypatch):
    token = personal_token()
    fly_api.accept(f"Bearer {token}", {"id": "u1", "email": "dev@example.com"})
    monkeypatch.setenv("FLY_API_TOKEN", token)
    monkeypatch.setenv("FLY_API_BASE_URL", "http://127.0.0.1:9/unused")
    auth = FlyAuth("fly", {"method": "api", "timeout": 5, "api_base": fly_api.base_url + "/"})

    assert auth.authenticate()["status"] == "success"
    assert [r["path"] for r in fly_api.requests_with(token)] == ["/graphql"]


def test_auto_without_flyctl_uses_the_api(fly_api, monkeypatch):
    token = personal_token()
    fly_api.accept(f"Bearer {token}", {"id": "u1", "email": "dev@example.com"})
    monkeypatch.setenv("FLY_API_TOKEN", token)
    monkeypatch.setenv("FLY_API_BASE_URL", fly_api.base_url)

    result = FlyAuth("fly", {"timeout": 5}).authenticate()

    assert result["method"] == "api"
    assert result["status"] == "success"


def test_fly_access_token_is_the_fallback(fly_api, monkeypatch):
    token = personal_token()
    fly_api.accept(f"Bearer {token}", {"id": "u1", "email": "dev@example.com"})
    monkeypatch.setenv("FLY_ACCESS_TOKEN", token)
    monkeypatch.setenv("FLY_API_BASE_URL", fly_api.base_url)
    auth = FlyAuth("fly", {"method": "api", "timeout": 5})

    result = auth.authenticate()

    assert result["status"] == "success"
    assert result["token_env_var"] == "FLY_ACCESS_TOKEN"
    assert auth.exported_env == {"FLY_API_TOKEN": token, "FLY_ACCESS_TOKEN": token}


def test_missing_token_names_both_variables(fly_api, monkeypatch):
    monkeypatch.setenv("FLY_API_BASE_URL", fly_api.base_url)
    monkeypatch.setenv("FLY_API_TOKEN", "  ")

    result = FlyAuth("fly", {"method": "api"}).authenticate()

    assert result["status"] == "error"
    assert "neither FLY_API_TOKEN nor FLY_ACCESS_TOKEN is set" in result["error"]


def test_custom_token_variable_is_used_alone(fly_api, monkeypatch):
    token = personal_token()
    fly_api.accept(f"Bearer {token}", {"id": "u1", "email": "ci@example.com"})
    monkeypatch.setenv("FLY_API_BASE_URL", fly_api.base_url)
    monkeypatch.setenv("FLY_ACCESS_TOKEN", personal_token())

    missing = FlyAuth("fly", {"method": "api", "token_env_var": "PROD_FLY_TOKEN"}).authenticate()
    monkeypatch.setenv("PROD_FLY_TOKEN", token)
    found = FlyAuth("fly", {"method": "api", "token_env_var": "PROD_FLY_TOKEN"}).authenticate()

    assert missing["status"] == "error"
    assert "PROD_FLY_TOKEN is not set" in missing["error"]
    assert found["status"] == "success", found
    assert found["token_env_var"] == "PROD_FLY_TOKEN"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"method": "flyctll"},
            'fly.method: expected one of "auto", "flyctl", "api", got "flyctll" (did you mean "flyctl"?)',
        ),
        ({"token_env_var": " "}, 'fly.token_env_var: expected a non-empty string, got " "'),
        ({"timeout": 0}, "fly.timeout: expected a positive number <= 31536000, got 0"),
        ({"timeout": "30"}, "fly.timeout: expected a number"),
        ({"api_base": "api.fly.example"}, "fly.api_base must be an http(s) URL"),
        ({"token_env": "X"}, 'fly.token_env: unknown key (did you mean "token_env_var"?)'),
    ],
)
def test_bad_config_is_rejected_at_construction(config, message):
    with pytest.raises(ConfigError) as excinfo:
        FlyAuth("fly", config)
    assert message in str(excinfo.value)


def test_known_secrets_name_the_token_and_its_forms_before_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token in the environment (FLY_API_TOKEN, else FLY_ACCESS_TOKEN) is masked from the start of a
    run, with its scheme-less form; without a token there is nothing to name."""
    token = personal_token()
    monkeypatch.delenv("FLY_API_TOKEN", raising=False)
    monkeypatch.delenv("FLY_ACCESS_TOKEN", raising=False)
    assert FlyAuth("fly", {"method": "api"}).known_secrets() == []
    monkeypatch.setenv("FLY_ACCESS_TOKEN", "FlyV1 " + token)
    assert set(FlyAuth("fly", {"method": "api"}).known_secrets()) >= {"FlyV1 " + token, token}
