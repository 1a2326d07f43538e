"""The `http` hook against real loopback servers: one that answers, one that accepts and never answers."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gryt.data import SqliteData
from gryt.errors import ConfigError
from gryt.history import get_run
from gryt.http_hook import HttpHook, encode_event
from gryt.loader import load_toml
from gryt.pipeline import Pipeline
from gryt.runner import Runner
from gryt.step import CommandStep

TOKEN = "Bearer hook-s3cret-token"


class Received:
    """What the good server got: (path, headers, JSON body) per request, in arrival order."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], dict[str, Any], int]] = []
        self.lock = threading.Lock()

    def events(self) -> list[str]:
        with self.lock:
            return [body["event"] for _, _, body, _ in self.requests]


@pytest.fixture
def good_server() -> Iterator[tuple[str, Received]]:
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            with received.lock:
                received.requests.append((self.path, dict(self.headers), json.loads(raw), len(raw)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def dead_server() -> Iterator[str]:
    """Accepts connections and reads nothing, answers nothing: every request waits for its timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/events/"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_toml_hook_posts_every_event_in_order_with_secrets_masked(
    good_server: tuple[str, Received], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = good_server
    monkeypatch.setenv("HOOK_TOKEN", TOKEN)
    (tmp_path / "ci.toml").write_text(
        f"""
[[hooks]]
type = "http"
base_url = "{url}/base"
headers = {{ X-Team = "infra" }}
headers_env = {{ Authorization = "HOOK_TOKEN" }}
paths = {{ pipeline_end = "/done" }}

[[runners]]
id = "build"
steps = [
  {{ id = "leak", cmd = ["sh", "-c", "echo token=$HOOK_TOKEN"] }},
  {{ id = "fine", cmd = ["true"] }},
]
"""
    )
    with SqliteData(tmp_path / "gryt.db") as data:
        loaded = load_toml(tmp_path / "ci.toml", data=data)
        result = loaded.pipeline.execute()
    assert result["status"] == "success", result
    assert result["warnings"] == []
    assert received.events() == [
        "pipeline_start",
        "step_start",
        "step_end",
        "step_start",
        "step_end",
        "pipeline_end",
    ]
    paths = [path for path, _, _, _ in received.requests]
    assert paths == [
        "/base/pipeline_start",
        "/base/step_start",
        "/base/step_end",
        "/base/step_start",
        "/base/step_end",
        "/base/done",
    ]
    for _, headers, body, _ in received.requests:
        assert headers["Authorization"] == TOKEN and headers["X-Team"] == "infra"
        assert "hook-s3cret-token" not in json.dumps(body)
        assert body["payload"]["run_id"] == result["run_id"]
    step_end = received.requests[2][2]["payload"]
    assert step_end["id"] == "leak" and step_end["runner_id"] == "build"
    assert step_end["result"]["stdout"].strip() == "token=***"
    assert received.requests[0][2]["payload"]["runners"] == 1
    assert received.requests[-1][2]["payload"]["results"]["status"] == "success"


def test_a_server_that_never_answers_does_not_slow_the_run(dead_server: str, tmp_path: Path) -> None:
    def pipeline(hooks: list[HttpHook]) -> Pipeline:
        steps = [CommandStep(f"s{i}", {"cmd": [sys.executable, "-c", "pass"]}) for i in range(4)]
        return Pipeline([Runner(steps, id="r")], data=data, hook=hooks)

    with SqliteData(tmp_path / "gryt.db") as data:
        baseline = pipeline([]).execute()
        hook = HttpHook(dead_server, None, 5, None, flush_timeout=0.5)
        slowed = pipeline([hook]).execute()
        runs = {run_id: get_run(data, run_id) for run_id in (baseline["run_id"], slowed["run_id"])}
    assert slowed["status"] == "success"
    base_run, hook_run = runs[baseline["run_id"]], runs[slowed["run_id"]]
    assert base_run is not None and hook_run is not None
    # A blocking hook would spend the 5 s request timeout on each of the 10 events.
    assert hook_run["duration"] < base_run["duration"] + 0.5 + 2.0
    for step in hook_run["steps"]:
        assert step["duration"] < 2.0
    [warning] = slowed["warnings"]
    assert "still unsent after 0.5 s" in warning and "/events" in warning


def test_a_full_queue_drops_the_oldest_with_one_warning(dead_server: str) -> None:
    hook = HttpHook(base_url=dead_server, timeout=5, max_queue=2, flush_timeout=0)
    steps = [CommandStep(f"s{i}", {"cmd": ["true"]}) for i in range(6)]
    result = Pipeline([Runner(steps)], hook=hook).execute()
    assert result["status"] == "success"
    dropping = [w for w in result["warnings"] if "dropping the oldest events" in w]
    assert len(dropping) == 1
    summary = [w for w in result["warnings"] if "event(s) dropped (queue full)" in w]
    assert len(summary) == 1


def test_payloads_are_bounded(good_server: tuple[str, Received]) -> None:
    url, received = good_server
    big = CommandStep("big", {"cmd": [sys.executable, "-c", "print('x' * 200000)"]})
    hook = HttpHook(url, max_payload=2048)
    result = Pipeline([Runner([big])], hook=hook).execute()
    assert result["status"] == "success" and result["warnings"] == []
    wait_for(lambda: len(received.requests) == 4)
    assert all(size <= 2048 for _, _, _, size in received.requests)
    step_end = received.requests[2][2]
    assert step_end["event"] == "step_end" and step_end["payload"]["truncated"] is True
    assert "characters cut" in step_end["payload"]["result"]["stdout"]


def test_encode_event_replaces_what_cannot_be_cut() -> None:
    many = {f"k{i}": i for i in range(2000)}
    body = encode_event("step_end", many, 1024)
    assert len(body) <= 1024
    assert json.loads(body)["payload"]["truncated"] is True


def test_header_secrets_are_masked_in_failures(
    good_server: tuple[str, Received], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = good_server
    monkeypatch.setenv("HOOK_TOKEN", "line-one-secret\nline-two")  # http.client refuses it, quoting it
    hook = HttpHook(url, headers_env={"Authorization": "HOOK_TOKEN"})
    result = Pipeline([Runner([CommandStep("ok", {"cmd": ["true"]})])], hook=hook).execute()
    assert result["status"] == "success"
    [warning] = result["warnings"]
    assert "not delivered" in warning and "line-one-secret" not in warning
    assert received.requests == []


def test_missing_header_variable_warns_and_still_posts(
    good_server: tuple[str, Received], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = good_server
    monkeypatch.delenv("HOOK_TOKEN", raising=False)
    hook = HttpHook(url, headers_env={"Authorization": "HOOK_TOKEN"})
    result = Pipeline([Runner([CommandStep("ok", {"cmd": ["true"]})])], hook=hook).execute()
    assert any("HOOK_TOKEN not set" in w for w in result["warnings"])
    wait_for(lambda: "pipeline_end" in received.events())
    assert all("Authorization" not in headers for _, headers, _, _ in received.requests)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"base_url": "ftp://example.invalid"}, "expected an http:// or https:// URL"),
        ({"base_url": "http://127.0.0.1", "paths": {"step_ends": "/x"}}, 'did you mean "step_end"'),
        ({"base_url": "http://127.0.0.1", "timeout": 0}, "timeout: must be a positive"),
        ({"base_url": "http://127.0.0.1", "max_payload": 10}, "max_payload: must be at least 1024"),
        (
            {"base_url": "http://127.0.0.1", "headers_env": {"Authorization": ""}},
            "expected a non-empty string",
        ),
        ({"base_url": "http://127.0.0.1", "header": {}}, 'did you mean "headers"'),
        ({}, "base_url: required"),
    ],
)
def test_bad_config(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        HttpHook(**kwargs)
