"""FlyAuth through a stub flyctl on PATH: token only in the child's environment, never in argv."""

from __future__ import annotations

import json
import os
import time

from gryt_auth_fly.auth import FlyAuth

from .conftest import macaroon, personal_token


def on_path(monkeypatch, *stubs) -> None:
    monkeypatch.setenv("PATH", os.pathsep.join([*(str(s.path.parent) for s in stubs), os.environ["PATH"]]))


def test_auto_prefers_flyctl_and_passes_the_token_by_environment(fly_api, make_fly, monkeypatch):
    token = personal_token()
    fly_api.accept(f"Bearer {token}", {"id": "u1", "email": "api@example.com"})
    stub = make_fly(token, email="cli@example.com")
    on_path(monkeypatch, stub)
    monkeypatch.setenv("FLY_API_TOKEN", token)
    monkeypatch.setenv("FLY_API_BASE_URL", fly_api.base_url)
    auth = FlyAuth("fly", {"timeout": 10})

    result = auth.authenticate()

    assert result == {
        "status": "success",
        "method": "flyctl",
        "email": "cli@example.com",
        "token_env_var": "FLY_API_TOKEN",
    }
    assert stub.calls() == [{"argv": ["auth", "whoami", "--json"], "base": fly_api.base_url}]
    assert fly_api.requests_with(token) == []
    assert auth.exported_env == {"FLY_API_TOKEN": token, "FLY_ACCESS_TOKEN": token}


def test_flyctl_gets_the_access_token_fallback_in_both_variables(make_fly, monkeypatch):
    token = macaroon()
    stub = make_fly(token, email="deploy@example.com")
    on_path(monkeypatch, stub)
    monkeypatch.setenv("FLY_ACCESS_TOKEN", token)

    result = FlyAuth("fly", {"method": "flyctl", "timeout": 10}).authenticate()

    assert result["status"] == "success", result
    assert result["token_env_var"] == "FLY_ACCESS_TOKEN"


def test_flyctl_is_preferred_over_fly(make_fly, monkeypatch):
    token = personal_token()
    good = make_fly(token, email="flyctl@example.com", name="flyctl")
    other = make_fly("not-the-token", name="fly")
    on_path(monkeypatch, other, good)
    monkeypatch.setenv("FLY_API_TOKEN", token)

    result = FlyAuth("fly", {"timeout": 10}).authenticate()

    assert result["email"] == "flyctl@example.com", result
    assert other.calls() == []


def test_api_base_key_reaches_flyctl(make_fly, monkeypatch):
    token = personal_token()
    stub = make_fly(token)
    on_path(monkeypatch, stub)
    monkeypatch.setenv("FLY_API_TOKEN", token)

    FlyAuth("fly", {"method": "flyctl", "api_base": "http://127.0.0.1:9"}).authenticate()

    assert stub.calls()[0]["base"] == "http://127.0.0.1:9"


def test_method_flyctl_without_flyctl_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("FLY_API_TOKEN", personal_token())

    result = FlyAuth("fly", {"method": "flyctl"}).authenticate()

    assert result["status"] == "error"
    assert result["method"] == "flyctl"
    assert "neither flyctl nor fly is on PATH" in result["error"]


def test_method_api_ignores_flyctl(fly_api, make_fly, monkeypatch):
    token = personal_token()
    fly_api.accept(f"Bearer {token}", {"id": "u1", "email": "api@example.com"})
    stub = make_fly(token)
    on_path(monkeypatch, stub)
    monkeypatch.setenv("FLY_API_TOKEN", token)
    monkeypatch.setenv("FLY_API_BASE_URL", fly_api.base_url)

    result = FlyAuth("fly", {"method": "api", "timeout": 5}).authenticate()

    assert result["method"] == "api"
    assert result["email"] == "api@example.com"
    assert stub.calls() == []


def test_rejection_by_flyctl_is_reported_with_the_token_masked(make_fly, monkeypatch):
    token = personal_token()
    stub = make_fly(personal_token())
    on_path(monkeypatch, stub)
    monkeypatch.setenv("FLY_API_TOKEN", token)
    auth = FlyAuth("fly", {"timeout": 10})

    result = auth.authenticate()

    assert result["status"] == "error"
    assert result["method"] == "flyctl"
    assert "fly auth whoami --json failed (exit 1): Error: token *** is not authorized" in result["error"]
    assert token not in json.dumps(result)
    assert auth.exported_env == {}


def test_non_json_flyctl_output_is_reported(make_fly, monkeypatch):
    token = personal_token()
    on_path(monkeypatch, make_fly(token, mode="nonjson"))
    monkeypatch.setenv("FLY_API_TOKEN", token)

    result = FlyAuth("fly", {"timeout": 10}).authenticate()

    assert result["status"] == "error"
    assert "printed non-JSON output: You are logged in as dev@example.com" in result["error"]


def test_flyctl_that_hangs_is_killed_after_the_timeout(make_fly, monkeypatch):
    token = personal_token()
    on_path(monkeypatch, make_fly(token, mode="hang"))
    monkeypatch.setenv("FLY_API_TOKEN", token)

    started = time.monotonic()
    result = FlyAuth("fly", {"timeout": 1}).authenticate()

    assert time.monotonic() - started < 10
    assert result["status"] == "error"
    assert "fly auth whoami --json gave no answer within 1 s" in result["error"]
