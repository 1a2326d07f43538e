"""Tests of gryt-webhook against a real HTTP server on 127.0.0.1, using gryt's `gryt.testing` plugin."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gryt_webhook import plugin
from gryt_webhook.client import WebhookError, post_json
from gryt_webhook.settings import load_settings

from gryt.context import RunContext
from gryt.errors import ConfigError
from gryt.testing import GrytProject, assert_valid_plugin

pytest_plugins = ["gryt.testing"]

TOKEN = "whk-6f1c2d9e8a7b"


@dataclass
class Receiver:
    """A loopback HTTP server that records every request and answers with `status`."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 204
    location: str | None = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(state.status)
            if state.location:
                self.send_header("Location", state.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output clean."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/gryt")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def configured(gryt_project: GrytProject, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> GrytProject:
    """A project whose `.gryt/webhook.toml` points at the receiver, with the token in the environment."""
    (gryt_project.gryt_dir / "webhook.toml").write_text(
        f'url = "{receiver.url}"\ntoken_env_var = "HOOK_TOKEN"\n', encoding="utf-8"
    )
    monkeypatch.chdir(gryt_project.root)
    monkeypatch.delenv("GRYT_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("HOOK_TOKEN", TOKEN)
    return gryt_project


RESULT = {
    "status": "error",
    "run_id": "20260101T000000-abcdef12",
    "runners": {
        "test": {
            "unit": {"status": "success", "duration": 1.5, "stdout": "lots of output", "returncode": 0},
            "lint": {"status": "error", "duration": 0.25, "error": "exit code 1", "stderr": "E501"},
        },
        "deploy": {"ship": {"status": "skipped", "duration": 0.0}},
    },
    "auth": {"ghcr": {"status": "success"}},
    "issues": [],
    "destinations": {},
}


def test_plugin_is_valid() -> None:
    assert_valid_plugin(plugin)


def test_pipeline_start_declares_the_token_a_run_secret(configured: GrytProject) -> None:
    context = RunContext()
    plugin.gryt_pipeline_start(context=context)
    assert context.masker.mask(f"echo {TOKEN}") == "echo ***"
    assert context.masker.mask(f"Authorization: Bearer {TOKEN}") == "Authorization: ***"


def test_pipeline_end_posts_the_summary(configured: GrytProject, receiver: Receiver) -> None:
    context = RunContext(run_id=str(RESULT["run_id"]))
    plugin.gryt_pipeline_start(context=context)
    plugin.gryt_pipeline_end(pipeline=SimpleNamespace(name="ci"), result=RESULT, context=context)
    [request] = receiver.requests
    assert request["path"] == "/hooks/gryt"
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["Content-Type"] == "application/json"
    payload = json.loads(request["body"])
    assert payload["event"] == "pipeline_end"
    assert (payload["pipeline"], payload["status"], payload["run_id"]) == ("ci", "error", RESULT["run_id"])
    assert payload["runners"] == {
        "test": {
            "status": "error",
            "steps": {
                "unit": {"status": "success", "duration": 1.5},
                "lint": {"status": "error", "duration": 0.25, "error": "exit code 1"},
            },
        },
        "deploy": {"status": "skipped", "steps": {"ship": {"status": "skipped", "duration": 0.0}}},
    }
    assert payload["auth"] == {"ghcr": "success"}
    assert "lots of output" not in request["body"].decode()


def test_the_payload_is_masked_even_if_a_result_carried_the_secret(
    configured: GrytProject, receiver: Receiver
) -> None:
    context = RunContext()
    plugin.gryt_pipeline_start(context=context)
    leaky = {**RESULT, "runners": {"r": {"s": {"status": "error", "error": f"bad token {TOKEN}"}}}}
    plugin.gryt_pipeline_end(pipeline=SimpleNamespace(name="ci"), result=leaky, context=context)
    body = receiver.requests[0]["body"].decode()
    assert TOKEN not in body
    assert "bad token ***" in body


def test_environment_url_overrides_the_file(
    configured: GrytProject, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRYT_WEBHOOK_URL", receiver.url + "/override")
    plugin.gryt_pipeline_end(pipeline=None, result=RESULT, context=RunContext())
    assert receiver.requests[0]["path"] == "/hooks/gryt/override"


def test_without_a_url_nothing_is_sent(
    gryt_project: GrytProject, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(gryt_project.root)
    monkeypatch.delenv("GRYT_WEBHOOK_URL", raising=False)
    context = RunContext()
    plugin.gryt_pipeline_start(context=context)
    plugin.gryt_pipeline_end(pipeline=None, result=RESULT, context=context)
    assert receiver.requests == []
    assert not context.masker


def test_without_the_token_no_auth_header_is_sent(
    configured: GrytProject, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOK_TOKEN")
    plugin.gryt_pipeline_end(pipeline=None, result=RESULT, context=RunContext())
    assert "Authorization" not in receiver.requests[0]["headers"]


def test_a_misspelled_key_in_the_config_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / ".gryt").mkdir()
    (tmp_path / ".gryt" / "webhook.toml").write_text('urls = "http://127.0.0.1:9/"\n')
    with pytest.raises(ConfigError, match='urls: unknown key \\(did you mean "url"\\?\\)'):
        load_settings(tmp_path, environ={})


def test_only_http_urls_are_accepted(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must start with http:// or https://, got 'file'"):
        load_settings(tmp_path, environ={"GRYT_WEBHOOK_URL": "file:///etc/passwd"})


def test_an_error_answer_raises_a_one_line_error_without_credentials(receiver: Receiver) -> None:
    receiver.status = 500
    url = receiver.url + "?key=abc#frag"
    with pytest.raises(WebhookError) as info:
        post_json(url, {"a": 1}, headers={}, timeout=10)
    message = str(info.value)
    assert message == f"webhook {receiver.url} answered HTTP 500 Internal Server Error"
    assert "abc" not in message and "frag" not in message


def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.status = 302
    receiver.location = "http://127.0.0.1:9/elsewhere"
    with pytest.raises(WebhookError, match="answered HTTP 302"):
        post_json(receiver.url, {"a": 1}, headers={"Authorization": "Bearer x"}, timeout=10)
    assert len(receiver.requests) == 1


def test_an_unreachable_webhook_raises_a_clear_error(receiver: Receiver) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(WebhookError, match=f"cannot reach webhook http://127.0.0.1:{port}/x"):
        post_json(f"http://127.0.0.1:{port}/x", {}, headers={}, timeout=10)
