"""Real container registries for the tests, started once per test session (per xdist worker).

`basic_registry`: Debian's `docker-registry` with htpasswd (Basic) auth. `bearer_registry`: the same
registry with `auth.token` and a small ES256 JWT token server written here, which grants a known user the
scope it asks for (`repository:<path>:pull,push`), except for repositories in `token_server.denied`. Both
listen on free ports of 127.0.0.1, over plain http, and store blobs under a temp folder.

Each fixture yields a `Registry`: `host` (`127.0.0.1:PORT`, the registry part of a reference such as
`127.0.0.1:PORT/team/app:1.0`), `username` and `token` (accepted credentials: put them in
`DOCKER_USERNAME`/`DOCKER_TOKEN` for a `[[auth]] type = "docker-registry"` step with
`registry = registry.host`), `tags(path)` (the repository's tags through the tags/list API, [] when it does
not exist) and `token_server` (bearer only). The registries need `docker-registry` and `htpasswd`
(`.ci/install-docker-registry.sh`); the bearer one also the `cryptography` package.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from _servers.loopback import serving

USERNAME = "alice"
SERVICE = "gryt-test-registry"
ISSUER = "gryt-test-issuer"


def make_token() -> str:
    """A token with distinctive bytes, so a leak is unambiguous when files are searched for it."""
    return "gryttok-" + secrets.token_urlsafe(24)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require(binary: str, package: str) -> str:
    path = shutil.which(binary)
    if path is None:
        pytest.skip(
            f"{binary} is not installed (apt-get install {package}; .ci/install-docker-registry.sh does it)"
        )
    return path


@dataclass
class Registry:
    """A running registry: `host` is `127.0.0.1:PORT`; `username`/`token` are accepted credentials."""

    host: str
    username: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path
    token_server: TokenServer | None = None

    def authorization(self, path: str) -> str:
        """An Authorization header value that may pull `path`: Basic, or a Bearer token for it."""
        basic = "Basic " + base64.b64encode(f"{self.username}:{self.token}".encode()).decode("ascii")
        if self.token_server is None:
            return basic
        query = urllib.parse.urlencode({"service": SERVICE, "scope": f"repository:{path}:pull"})
        request = urllib.request.Request(f"{self.token_server.url}?{query}", headers={"Authorization": basic})
        with urllib.request.urlopen(request, timeout=10) as resp:
            return "Bearer " + str(json.load(resp)["token"])

    def tags(self, path: str) -> list[str]:
        """The tags of repository `path` (tags/list API); [] when the registry does not know it."""
        request = urllib.request.Request(
            f"http://{self.host}/v2/{path}/tags/list", headers={"Authorization": self.authorization(path)}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return list(json.load(resp).get("tags") or [])
        except urllib.error.HTTPError as err:
            with err:
                if err.code == 404:
                    return []
                raise


@dataclass
class TokenServer:
    """An ES256 JWT token server for the registry's `auth.token` config; records every request."""

    key: Any
    kid: str
    credentials: dict[str, str]
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    """Identity (OAuth2 refresh) tokens and their users, for the `grant_type=refresh_token` POST."""
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    denied: set[str] = field(default_factory=set)
    """Repository paths no user gets any access to (the registry then answers 401 insufficient_scope)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def jwt(self, subject: str, access: list[dict[str, Any]] | None = None) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "kid": self.kid}
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + 600,
            "nbf": now - 60,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access or [],
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        der = self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def libtrust_key_id(public_key: Any) -> str:
    """The key id docker's libtrust derives from a public key: base32 of the first 30 bytes of the
    SHA-256 of its DER SubjectPublicKeyInfo, in colon-separated groups of four."""
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode("ascii").rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def query_scopes(query: str) -> list[str]:
    """Every `scope` of a token request (the parameter may repeat and hold several, space-separated)."""
    values = [v for k, v in urllib.parse.parse_qsl(query) if k == "scope"]
    return [scope for value in values for scope in value.split()]


def _granted(scopes: list[str], denied: set[str]) -> list[dict[str, Any]]:
    """The JWT `access` claim: what each `repository:<path>:<actions>` scope asks, unless `path` is denied."""
    access = []
    for scope in scopes:
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        if kind == "repository" and name and name not in denied:
            access.append({"type": "repository", "name": name, "actions": actions.split(",")})
    return access


def _token_handler(server_state: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output clean."""

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            authorization = self.headers.get("Authorization") or ""
            with server_state.lock:
                server_state.requests.append(
                    {"path": self.path, "query": query, "authorization": authorization}
                )
            user = password = None
            if authorization.startswith("Basic "):
                user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
            if url.path != "/token" or query.get("service") != SERVICE:
                self._send(400, {"details": "unknown service"})
            elif user is None or server_state.credentials.get(user) != password:
                self._send(401, {"details": "incorrect username or password"})
            else:
                token = server_state.jwt(user, _granted(query_scopes(url.query), server_state.denied))
                with server_state.lock:
                    server_state.issued.append(token)
                self._send(200, {"token": token, "access_token": token, "expires_in": 600})

        def do_POST(self) -> None:
            """The OAuth2 refresh-token grant, as clients holding an `identitytoken` use it."""
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            form = dict(urllib.parse.parse_qsl(body))
            user = server_state.refresh_tokens.get(form.get("refresh_token", ""))
            if urllib.parse.urlsplit(self.path).path != "/token" or form.get("service") != SERVICE:
                self._send(400, {"error": "invalid_request", "error_description": "unknown service"})
            elif form.get("grant_type") != "refresh_token" or user is None:
                self._send(401, {"error": "invalid_grant", "error_description": "unknown refresh token"})
            else:
                token = server_state.jwt(user, _granted(query_scopes(body), server_state.denied))
                with server_state.lock:
                    server_state.issued.append(token)
                self._send(200, {"access_token": token, "expires_in": 600})

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _registry_config(root: Path, port: int, auth: dict[str, Any]) -> Path:
    """A registry config.yml; JSON is valid YAML, so no YAML library is needed."""
    config = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(root / "data")}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)},
        "auth": auth,
    }
    path = root / "config.yml"
    path.write_text(json.dumps(config))
    return path


def _start_registry(root: Path, auth: dict[str, Any], username: str, token: str) -> Registry:
    binary = require("docker-registry", "docker-registry")
    for _attempt in range(3):
        port = free_port()
        config = _registry_config(root, port, auth)
        log = root / "registry.log"
        with log.open("wb") as out:
            process = subprocess.Popen([binary, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT)
        registry = Registry(f"127.0.0.1:{port}", username, token, process, log)
        if _wait_ready(registry):
            return registry
        process.kill()
        process.wait()
    raise RuntimeError(f"docker-registry did not start: {log.read_text(errors='replace')[-500:]}")


def _wait_ready(registry: Registry) -> bool:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if registry.process.poll() is not None:
            return False
        try:
            urllib.request.urlopen(f"http://{registry.host}/v2/", timeout=1).close()
            return True
        except urllib.error.HTTPError as err:
            err.close()
            return err.code == 401
        except OSError:
            time.sleep(0.02)
    return False


def _stop(registry: Registry) -> None:
    registry.process.terminate()
    try:
        registry.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        registry.process.kill()
        registry.process.wait()


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry with htpasswd (Basic) auth that accepts USERNAME and a fresh token."""
    htpasswd = require("htpasswd", "apache2-utils")
    root = tmp_path_factory.mktemp("basic-registry")
    token = make_token()
    proc = subprocess.run(
        [htpasswd, "-iBn", USERNAME], input=token, capture_output=True, text=True, check=True, timeout=30
    )
    (root / "htpasswd").write_text(proc.stdout)
    registry = _start_registry(
        root, {"htpasswd": {"realm": "gryt-test", "path": str(root / "htpasswd")}}, USERNAME, token
    )
    yield registry
    _stop(registry)


@pytest.fixture(scope="session")
def bearer_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry with `auth.token` backed by a loopback ES256 token server that accepts USERNAME."""
    require("docker-registry", "docker-registry")
    pytest.importorskip("cryptography", reason="cryptography is needed to sign the test token server's JWTs")
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    root = tmp_path_factory.mktemp("bearer-registry")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    bundle = root / "issuer.pem"
    bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    token = make_token()
    state = TokenServer(key=key, kid=libtrust_key_id(key.public_key()), credentials={USERNAME: token})
    with serving(_token_handler(state)) as server:
        state.url = f"http://127.0.0.1:{server.server_address[1]}/token"
        auth = {
            "token": {"realm": state.url, "service": SERVICE, "issuer": ISSUER, "rootcertbundle": str(bundle)}
        }
        registry = _start_registry(root, auth, USERNAME, token)
        registry.token_server = state
        yield registry
        _stop(registry)
