"""Fakes for the gryt-auth-fly tests: a loopback Fly GraphQL API and stub `fly` executables."""

from __future__ import annotations

import json
import os
import secrets
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

VIEWER_QUERY = "query { viewer { ... on User { id email } ... on Macaroon { email } } }"
UNAUTHENTICATED = "You must be authenticated to view this."
ORIGINAL_PATH = os.environ.get("PATH", os.defpath)
"""PATH before the autouse fixture empties it: pipeline tests need `sh` and friends."""


def personal_token() -> str:
    return "fo1_" + secrets.token_urlsafe(32)


def macaroon() -> str:
    return "fm2_" + secrets.token_urlsafe(48)


@dataclass
class FakeFlyApi:
    """A GraphQL server on 127.0.0.1 that knows which `Authorization` values belong to whom.

    Routes (prefix before `/graphql`): none = the real protocol; `/hang` never answers; `/html` answers
    an HTML page; `/unauthorized` HTTP 401 with GraphQL errors; `/empty` `{"data": {}}`; `/redirect`
    a 302 to the real endpoint.
    """

    base_url: str = ""
    viewers: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accept(self, authorization: str, viewer: dict[str, Any]) -> None:
        """Answer `data.viewer = viewer` to requests with exactly this Authorization header."""
        with self.lock:
            self.viewers[authorization] = viewer

    def requests_with(self, needle: str) -> list[dict[str, Any]]:
        """Recorded requests whose Authorization header contains `needle` (tests share the server)."""
        with self.lock:
            return [r for r in self.requests if needle in (r["headers"].get("Authorization") or "")]


def _handler(api: FakeFlyApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output clean."""

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, payload: Any) -> None:
            self._send(status, json.dumps(payload).encode())

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with api.lock:
                api.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            route, _, rest = self.path.rpartition("/graphql")
            if rest or route not in ("", "/hang", "/html", "/unauthorized", "/empty", "/redirect"):
                self._json(404, {"errors": [{"message": f"no route {self.path}"}]})
            elif route == "/hang":
                api.release.wait(30)
            elif route == "/html":
                self._send(200, b"<html><body>Fly maintenance</body></html>", "text/html; charset=utf-8")
            elif route == "/unauthorized":
                self._json(401, {"errors": [{"message": UNAUTHENTICATED}]})
            elif route == "/empty":
                self._json(200, {"data": {}})
            elif route == "/redirect":
                self.send_response(302)
                self.send_header("Location", f"{api.base_url}/graphql")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._graphql(body)

        def _graphql(self, body: bytes) -> None:
            if self.headers.get("Content-Type") != "application/json":
                self._json(415, {"errors": [{"message": "expected application/json"}]})
                return
            try:
                request = json.loads(body)
            except ValueError:
                self._json(400, {"errors": [{"message": "body is not JSON"}]})
                return
            if " ".join(str(request.get("query", "")).split()) != VIEWER_QUERY:
                self._json(400, {"errors": [{"message": f"unexpected query {request.get('query')!r}"}]})
                return
            with api.lock:
                viewer = api.viewers.get(self.headers.get("Authorization") or "")
            if viewer is None:
                self._json(
                    200,
                    {
                        "data": None,
                        "errors": [
                            {
                                "message": UNAUTHENTICATED,
                                "path": ["viewer"],
                                "extensions": {"code": "UNAUTHORIZED"},
                            }
                        ],
                    },
                )
            else:
                self._json(200, {"data": {"viewer": viewer}})

    return Handler


@pytest.fixture(scope="session")
def fly_api() -> Iterator[FakeFlyApi]:
    api = FakeFlyApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        api.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def clean_fly_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No Fly variables or proxies leak in; PATH is an empty folder (no flyctl). Returns that folder."""
    for name in ("FLY_API_TOKEN", "FLY_ACCESS_TOKEN", "FLY_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return empty


_STUB = '''#!{python}
"""Stub flyctl: `auth whoami --json` answers for one token taken from the environment only."""
import json, os, sys, time
TOKEN = {token!r}
EMAIL = {email!r}
MODE = {mode!r}
with open({record!r}, "a") as f:
    f.write(json.dumps({{"argv": sys.argv[1:], "base": os.environ.get("FLY_API_BASE_URL")}}) + "\\n")
if any(TOKEN in arg for arg in sys.argv):
    sys.exit("stub fly: the token is in argv")
if sys.argv[1:] != ["auth", "whoami", "--json"]:
    sys.exit("stub fly: unexpected arguments %r" % sys.argv[1:])
given = os.environ.get("FLY_API_TOKEN")
if not given or os.environ.get("FLY_ACCESS_TOKEN") != given:
    sys.exit("Error: No access token available. Please login with 'flyctl auth login'")
if given != TOKEN:
    sys.exit("Error: token %s is not authorized" % given)
if MODE == "hang":
    time.sleep(30)
elif MODE == "nonjson":
    print("You are logged in as " + EMAIL)
else:
    print(json.dumps({{"email": EMAIL}}, indent=2))
'''


@dataclass
class StubFly:
    path: Path
    record: Path

    def calls(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]


@pytest.fixture
def make_fly(tmp_path: Path) -> Callable[..., StubFly]:
    """Write a stub flyctl named `name` into its own folder; callers put that folder on PATH."""
    if os.name != "posix":
        pytest.skip("stub executables need a POSIX shebang")

    def make(token: str, email: str = "dev@example.com", mode: str = "ok", name: str = "fly") -> StubFly:
        folder = tmp_path / f"bin-{name}-{secrets.token_hex(4)}"
        folder.mkdir()
        record = folder / "calls.jsonl"
        path = folder / name
        path.write_text(
            _STUB.format(python=sys.executable, token=token, email=email, mode=mode, record=str(record))
        )
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        return StubFly(path=path, record=record)

    return make
