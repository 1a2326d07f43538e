"""Support for the gryt-pypi tests: projects run with `gryt run` in a subprocess, and a loopback server
speaking trusted publishing (the CI's OIDC token endpoint and the index's `/_/oidc/...` endpoints) in
front of pypiserver, to which it forwards everything else."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from _leaks import find_bytes
from _servers.pypi import PackageIndex, offline_pip_env

AUDIENCE = "gryt-test-index"
REFUSED = "valid token, but no corresponding publisher (gryt test: refused on purpose)"


@dataclass
class Run:
    """One `gryt run --json --junit` of a project: the process, its JSON result and every sink."""

    project: Path
    proc: subprocess.CompletedProcess[bytes]
    result: dict[str, Any]
    junit: Path

    @property
    def items(self) -> list[dict[str, Any]]:
        """The result items of destination `index`."""
        items: list[dict[str, Any]] = self.result["destinations"]["index"]
        return items

    def leaks(self, secrets: list[str]) -> list[str]:
        """Where any of `secrets` shows: stdout, stderr, files of the project (database, logs, JUnit)."""
        needles = [s.encode() for s in secrets]
        hits = [
            f"{name}: {n[:12]!r}"
            for name in ("stdout", "stderr")
            for n in needles
            if n in getattr(self.proc, name)
        ]
        return hits + find_bytes(self.project, needles)


def write_project(project: Path, destination: dict[str, Any], *, build: list[str] | None = None) -> None:
    """A project whose pipeline `release` runs `build` (or nothing) and publishes `dist/*` to `destination`."""
    pipelines = project / ".gryt" / "pipelines"
    pipelines.mkdir(parents=True)
    step = build or [sys.executable, "-c", "pass"]
    pipeline = {
        "pipeline": {"name": "release"},
        "runners": [{"id": "build", "steps": [{"id": "dist", "cmd": step}]}],
        "destinations": [{"type": "pypi", "id": "index", **destination}],
        "artifacts": {"paths": ["dist/*.whl", "dist/*.tar.gz"]},
    }
    from gryt.testing import dump_toml

    (pipelines / "release.toml").write_text(dump_toml(pipeline))


def gryt_run(project: Path, env: dict[str, str]) -> Run:
    """`gryt run release --json --junit` in `project` with exactly `env` (plus a private HOME)."""
    junit = project / "junit.xml"
    home = project.parent / "home"
    home.mkdir(exist_ok=True)
    full = {**offline_pip_env(home), "NO_COLOR": "1", **env}
    for name in ("PYPI_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        if name not in env:
            full.pop(name, None)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from gryt.cli import main; main()",
            "run",
            "release",
            "--json",
            "--junit",
            str(junit),
        ],
        cwd=project,
        env=full,
        capture_output=True,
        timeout=300,
        check=False,
    )
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(
            f"gryt run printed no JSON (exit {proc.returncode}): {proc.stderr.decode(errors='replace')[-2000:]}"
        )
    return Run(project, proc, result, junit)


@dataclass
class TrustedIndex:
    """The loopback server: `upload_url` is the index (its `/_/oidc/...` endpoints, the rest forwarded to
    pypiserver); `token_url` the CI's token endpoint, answering `request_token` with `identity`; the
    mint endpoint trades `identity` for pypiserver's token. `requests` records what each endpoint saw."""

    upload_url: str
    token_url: str
    request_token: str
    identity: str
    upstream: PackageIndex
    refuse: bool = False
    requests: list[dict[str, str]] = field(default_factory=list)


def _handler(state: TrustedIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output clean."""

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/github-token":
                query = dict(urllib.parse.parse_qsl(url.query))
                state.requests.append(
                    {
                        "endpoint": "token",
                        "audience": query.get("audience", ""),
                        "api-version": query.get("api-version", ""),
                        "authorization": self.headers.get("Authorization", ""),
                    }
                )
                if self.headers.get("Authorization") != f"bearer {state.request_token}":
                    self._json(401, {"message": "bad request token"})
                elif query.get("audience") != AUDIENCE:
                    self._json(400, {"message": "unexpected audience"})
                else:
                    self._json(200, {"count": 1, "value": state.identity})
            elif url.path == "/_/oidc/audience":
                state.requests.append({"endpoint": "audience"})
                self._json(200, {"audience": AUDIENCE})
            else:
                self._forward()

        def do_POST(self) -> None:
            if self.path != "/_/oidc/mint-token":
                self._forward()
                return
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            state.requests.append({"endpoint": "mint", "token": str(body.get("token"))})
            if state.refuse or body.get("token") != state.identity:
                errors = [{"code": "invalid-publisher", "description": REFUSED}]
                self._json(422, {"message": "Token request failed", "errors": errors})
            else:
                self._json(200, {"success": True, "token": state.upstream.token, "expires": 2000000000})

        def _forward(self) -> None:
            """Pass the request on to pypiserver and its answer back."""
            length = int(self.headers.get("Content-Length", "0"))
            data = self.rfile.read(length) if length else None
            target = state.upstream.upload_url.rstrip("/") + self.path
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            request = urllib.request.Request(target, data=data, method=self.command, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=60) as answer:
                    status, reason, body = answer.status, answer.reason, answer.read()
                    kind = answer.headers.get("Content-Type", "text/plain")
            except urllib.error.HTTPError as err:
                with err:
                    status, reason, body = err.code, str(err.reason), err.read()
                    kind = err.headers.get("Content-Type", "text/plain")
            self.send_response(status, reason)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture(scope="session")
def trusted_index(pypi_server: PackageIndex) -> Iterator[TrustedIndex]:
    """The trusted-publishing loopback server in front of `pypi_server`."""
    state = TrustedIndex(
        "",
        "",
        "ghreq-grytsecret-" + secrets.token_urlsafe(16),
        "eyJoidc.grytsecret-" + secrets.token_urlsafe(24),
        pypi_server,
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    state.upload_url = f"{base}/"
    state.token_url = f"{base}/github-token?api-version=2.0"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No token, no OIDC variables and a private HOME (no ~/.pypirc) for in-process publishing."""
    for name in ("PYPI_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def unique_name() -> str:
    """A project name no other test uses, so tests sharing a server never collide."""
    return f"grytdemo_{secrets.token_hex(4)}"
