"""A package index on 127.0.0.1 that answers only with a password, started once per test session (per xdist
worker): the simple API (PEP 503 HTML) over the wheels of a folder the test chooses, for the gryt-python tests
of credentials in `install` URLs. pip and uv send the URL's `user:password` as HTTP Basic auth.

Session fixture `private_index` returns a `PrivateIndex`: `url_with(password)` gives the index URL with
credentials, `serve(folder)` chooses the wheels, `authorized` counts the requests that carried the password.
"""

from __future__ import annotations

import base64
import html
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from _servers.loopback import serving

USER = "ci"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class PrivateIndex:
    port: int
    password: str = field(default_factory=lambda: "idx-grytsecret-" + secrets.token_urlsafe(18))
    folder: Path | None = None
    authorized: int = 0

    def url_with(self, password: str | None = None) -> str:
        return f"http://{USER}:{password or self.password}@127.0.0.1:{self.port}/simple/"

    def serve(self, folder: Path) -> None:
        self.folder = folder


def _handler(index: PrivateIndex) -> type[BaseHTTPRequestHandler]:
    expected = "Basic " + base64.b64encode(f"{USER}:{index.password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        head = False

        def do_HEAD(self) -> None:  # uv asks before downloading a wheel
            self.head = True
            self.do_GET()

        def _send(self, status: int, body: bytes, kind: str = "text/html") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="index"')
            self.end_headers()
            if not self.head:
                self.wfile.write(body)

        def do_GET(self) -> None:
            if self.headers.get("Authorization") != expected:
                self._send(401, b"password needed")
                return
            index.authorized += 1
            folder = index.folder
            parts = [p for p in self.path.split("?")[0].split("/") if p]
            if folder is None or len(parts) not in (2, 3) or parts[0] != "simple":
                self._send(404, b"not found")
                return
            if len(parts) == 3:  # /simple/PROJECT/WHEEL: below the index URL, where clients send credentials
                wheel = folder / parts[2]
                if wheel.is_file() and wheel.name.endswith(".whl"):
                    self._send(200, wheel.read_bytes(), "application/octet-stream")
                else:
                    self._send(404, b"not found")
                return
            wanted = _normalize(parts[1])
            links = [
                f'<a href="{html.escape(w.name)}">{html.escape(w.name)}</a>'
                for w in sorted(folder.glob("*.whl"))
                if _normalize(w.name.split("-")[0]) == wanted
            ]
            if not links:
                self._send(404, b"not found")
                return
            self._send(200, ("<!DOCTYPE html><html><body>" + "<br>".join(links) + "</body></html>").encode())

    return Handler


@pytest.fixture(scope="session")
def private_index() -> Iterator[PrivateIndex]:
    with serving(BaseHTTPRequestHandler) as server:
        index = PrivateIndex(port=server.server_address[1])
        server.RequestHandlerClass = _handler(index)
        yield index
