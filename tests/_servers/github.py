"""A GitHub REST API stand-in for the `github-release` tests, started once per test session (per xdist worker).

No GitHub server can run here, so this one speaks the documented protocol of the releases endpoints, on
two ports of 127.0.0.1 as GitHub uses two hosts: the API (`GET .../releases/tags/{tag}`, which hides
drafts, `GET/POST .../releases`, `PATCH .../releases/{id}`, `GET .../releases/{id}/assets`,
`DELETE .../releases/assets/{id}`, and browser downloads) and the uploads host (`POST
.../releases/{id}/assets?name=&label=` with the file as the body, `Content-Type` required, 422
`already_exists` for a name the release has). Every answer carries the `X-RateLimit-*` headers; a request
without `Authorization: Bearer <token>` gets 401. `rate_limited` queues answers (status and headers) sent
instead of the next ones, to test rate limiting. Every request is recorded in `requests` (method, path,
query, headers, body) so tests assert on exactly what was sent. Repositories are created on first use:
tests use unique `OWNER/NAME`s and share one server.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from _servers.loopback import serving


@dataclass
class Recorded:
    """One request as the server received it."""

    host: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class GithubServer:
    """The running fake: `api_url` and `uploads_url` roots, the accepted `token`, state and records."""

    token: str
    api_url: str = ""
    uploads_url: str = ""
    releases: dict[int, dict[str, Any]] = field(default_factory=dict)
    assets: dict[int, dict[str, Any]] = field(default_factory=dict)
    blobs: dict[int, bytes] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    rate_limited: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    next_id: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)

    def for_repo(self, repository: str) -> list[Recorded]:
        """The requests about one repository, in order."""
        return [r for r in self.requests if r.path.startswith(f"/repos/{repository}/")]

    def release(self, repository: str, tag: str) -> dict[str, Any] | None:
        with self.lock:
            found = [r for r in self.releases.values() if r["_repo"] == repository and r["tag_name"] == tag]
        return found[0] if found else None

    def asset_bytes(self, repository: str, tag: str) -> dict[str, bytes]:
        """The assets of the release of `tag`, by name, as uploaded."""
        release = self.release(repository, tag)
        assert release is not None
        with self.lock:
            return {
                a["name"]: self.blobs[a["id"]] for a in self.assets.values() if a["_release"] == release["id"]
            }

    def add_release(self, repository: str, tag: str, *, draft: bool = False) -> dict[str, Any]:
        """A release created outside the tests' destination (as if made earlier in the web UI)."""
        with self.lock:
            return self._create(repository, {"tag_name": tag, "name": tag, "draft": draft})

    def add_asset(self, repository: str, tag: str, name: str, data: bytes) -> dict[str, Any]:
        release = self.release(repository, tag)
        assert release is not None
        with self.lock:
            return self._store_asset(release, name, "", "application/octet-stream", data)

    def _new_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

    def _create(self, repository: str, fields: dict[str, Any]) -> dict[str, Any]:
        release_id = self._new_id()
        tag = str(fields["tag_name"])
        release = {
            "_repo": repository,
            "id": release_id,
            "tag_name": tag,
            "name": fields.get("name") or tag,
            "body": fields.get("body") or ("Generated notes" if fields.get("generate_release_notes") else ""),
            "draft": bool(fields.get("draft", False)),
            "prerelease": bool(fields.get("prerelease", False)),
            "target_commitish": fields.get("target_commitish") or "main",
            "html_url": f"{self.api_url}/{repository}/releases/tag/{tag}",
            "upload_url": f"{self.uploads_url}/repos/{repository}/releases/{release_id}/assets{{?name,label}}",
        }
        self.releases[release_id] = release
        return release

    def _store_asset(
        self, release: dict[str, Any], name: str, label: str, content_type: str, data: bytes
    ) -> dict[str, Any]:
        asset_id = self._new_id()
        asset = {
            "_release": release["id"],
            "id": asset_id,
            "name": name,
            "label": label,
            "content_type": content_type,
            "size": len(data),
            "state": "uploaded",
            "browser_download_url": f"{self.api_url}/{release['_repo']}/releases/download/{release['tag_name']}/{name}",
        }
        self.assets[asset_id] = asset
        self.blobs[asset_id] = data
        return asset

    def view(self, release: dict[str, Any]) -> dict[str, Any]:
        """A release as the API shows it, with its assets."""
        shown = {k: v for k, v in release.items() if not k.startswith("_")}
        shown["assets"] = [
            {k: v for k, v in a.items() if not k.startswith("_")}
            for a in self.assets.values()
            if a["_release"] == release["id"]
        ]
        return shown


_REPO = r"/repos/(?P<repo>[^/]+/[^/]+)"
_ROUTES: list[tuple[str, str, re.Pattern[str]]] = [
    ("api", "GET", re.compile(_REPO + r"/releases/tags/(?P<tag>[^/]+)$")),
    ("api", "GET", re.compile(_REPO + r"/releases$")),
    ("api", "POST", re.compile(_REPO + r"/releases$")),
    ("api", "PATCH", re.compile(_REPO + r"/releases/(?P<id>\d+)$")),
    ("api", "GET", re.compile(_REPO + r"/releases/(?P<id>\d+)/assets$")),
    ("api", "DELETE", re.compile(_REPO + r"/releases/assets/(?P<id>\d+)$")),
    ("api", "GET", re.compile(r"/(?P<repo>[^/]+/[^/]+)/releases/download/(?P<tag>[^/]+)/(?P<name>[^/]+)$")),
    ("uploads", "POST", re.compile(_REPO + r"/releases/(?P<id>\d+)/assets$")),
]


def _handler(server: GithubServer, host: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read `server.requests`."""

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

        def _handle(self, method: str) -> None:
            parts = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            record = Recorded(
                host,
                method,
                parts.path,
                dict(urllib.parse.parse_qsl(parts.query)),
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            with server.lock:
                server.requests.append(record)
                limited = server.rate_limited.pop(0) if server.rate_limited else None
            if limited is not None:
                status, headers = limited
                self._reply(status, {"message": "API rate limit exceeded"}, headers)
                return
            download = parts.path.count("/releases/download/") == 1
            if not download and record.headers.get("authorization") != f"Bearer {server.token}":
                self._reply(401, {"message": "Bad credentials"})
                return
            for where, verb, pattern in _ROUTES:
                match = pattern.match(parts.path)
                if where == host and verb == method and match:
                    with server.lock:
                        status, payload = self._route(match.groupdict(), record)
                    if isinstance(payload, bytes):
                        self._reply_bytes(status, payload)
                    else:
                        self._reply(status, payload)
                    return
            self._reply(404, {"message": "Not Found"})

        def _route(self, args: dict[str, str], rec: Recorded) -> tuple[int, Any]:
            repo = args.get("repo", "")
            ours = [r for r in server.releases.values() if r["_repo"] == repo]
            if rec.method == "GET" and "name" in args:
                return self._download(ours, args)
            if rec.method == "GET" and "tag" in args:
                tag = urllib.parse.unquote(args["tag"])
                found = [r for r in ours if r["tag_name"] == tag and not r["draft"]]
                return (200, server.view(found[0])) if found else (404, {"message": "Not Found"})
            if rec.method == "GET" and "id" in args:
                release = server.releases.get(int(args["id"]))
                return (200, server.view(release)["assets"]) if release else (404, {"message": "Not Found"})
            if rec.method == "GET":
                return 200, [server.view(r) for r in sorted(ours, key=lambda r: -int(r["id"]))]
            if rec.method == "POST" and rec.host == "api":
                fields = rec.json()
                if any(r["tag_name"] == fields.get("tag_name") for r in ours):
                    return 422, _validation("Release", "already_exists", "tag_name")
                return 201, server.view(server._create(repo, fields))
            if rec.method == "PATCH":
                release = server.releases.get(int(args["id"]))
                if release is None or release["_repo"] != repo:
                    return 404, {"message": "Not Found"}
                allowed = ("tag_name", "name", "body", "draft", "prerelease", "target_commitish")
                release.update({k: v for k, v in rec.json().items() if k in allowed})
                return 200, server.view(release)
            if rec.method == "DELETE":
                asset = server.assets.pop(int(args["id"]), None)
                server.blobs.pop(int(args["id"]), None)
                return (204, b"") if asset else (404, {"message": "Not Found"})
            return self._upload(args, rec)

        def _download(self, ours: list[dict[str, Any]], args: dict[str, str]) -> tuple[int, Any]:
            for release in ours:
                for asset in server.assets.values():
                    if (
                        asset["_release"] == release["id"]
                        and release["tag_name"] == urllib.parse.unquote(args["tag"])
                        and asset["name"] == urllib.parse.unquote(args["name"])
                    ):
                        return 200, server.blobs[asset["id"]]
            return 404, {"message": "Not Found"}

        def _upload(self, args: dict[str, str], rec: Recorded) -> tuple[int, Any]:
            release = server.releases.get(int(args["id"]))
            if release is None:
                return 404, {"message": "Not Found"}
            name = rec.query.get("name", "")
            content_type = rec.headers.get("content-type", "")
            if not name or not content_type:
                return 422, _validation(
                    "ReleaseAsset", "missing_field", "name" if not name else "content_type"
                )
            if any(a["_release"] == release["id"] and a["name"] == name for a in server.assets.values()):
                return 422, _validation("ReleaseAsset", "already_exists", "name")
            asset = server._store_asset(release, name, rec.query.get("label", ""), content_type, rec.body)
            return 201, {k: v for k, v in asset.items() if not k.startswith("_")}

        def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            self._reply_bytes(
                status, json.dumps(payload).encode(), headers, "application/json; charset=utf-8"
            )

        def _reply_bytes(
            self,
            status: int,
            data: bytes,
            headers: dict[str, str] | None = None,
            content_type: str = "application/octet-stream",
        ) -> None:
            self.send_response(status)
            rate = {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "4999",
                "X-RateLimit-Used": "1",
                "X-RateLimit-Reset": str(int(time.time()) + 3600),
                "X-RateLimit-Resource": "core",
            }
            for key, value in {**rate, **(headers or {})}.items():
                self.send_header(key, value)
            if status != 204:
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if status != 204:
                self.wfile.write(data)

    return Handler


def _validation(resource: str, code: str, field_name: str) -> dict[str, Any]:
    return {
        "message": "Validation Failed",
        "errors": [{"resource": resource, "code": code, "field": field_name}],
        "documentation_url": "https://docs.github.com/rest",
    }


@pytest.fixture(scope="session")
def github_server() -> Iterator[GithubServer]:
    """The fake GitHub API and uploads hosts on 127.0.0.1, for the whole session."""
    server = GithubServer(token="ghs_gryttok" + secrets.token_hex(16))
    with serving(_handler(server, "api")) as api, serving(_handler(server, "uploads")) as uploads:
        server.api_url = f"http://127.0.0.1:{api.server_address[1]}"
        server.uploads_url = f"http://127.0.0.1:{uploads.server_address[1]}"
        yield server
