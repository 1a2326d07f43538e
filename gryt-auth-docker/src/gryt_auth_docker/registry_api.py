"""Registry HTTP API v2 login with the standard library only: challenge parsing, Basic and Bearer flows.

The token travels only in an `Authorization` header (never in a URL) and is never copied to another host
on redirect. Plain http is used only for loopback registries or when the caller allows it (`insecure`).
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.client import HTTPMessage
from typing import Any

from gryt.masking import shorten
from gryt_auth_docker.registry import RegistryAddress, is_loopback_host

_MAX_BODY = 1 << 20


@dataclass(frozen=True)
class Challenge:
    """One `WWW-Authenticate` challenge: lower-case scheme and its parameters (lower-case names)."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)


_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM_RE = re.compile(rf'({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))')
_SCHEME_RE = re.compile(rf"({_TOKEN})(?=\s|,|$)")
_TOKEN68_RE = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def parse_challenges(headers: list[str]) -> list[Challenge]:
    """Parse `WWW-Authenticate` header values (RFC 7235), several challenges per value allowed."""
    challenges: list[Challenge] = []
    for header in headers:
        pos = 0
        current: Challenge | None = None
        while pos < len(header):
            if header[pos] in " \t,":
                pos += 1
                continue
            param = _PARAM_RE.match(header, pos)
            if param and current is not None:
                raw = param.group(2)
                val = re.sub(r"\\(.)", r"\1", raw) if raw is not None else param.group(3)
                current.params[param.group(1).lower()] = val
                pos = param.end()
                continue
            scheme = _SCHEME_RE.match(header, pos)
            if scheme:
                current = Challenge(scheme.group(1).lower())
                challenges.append(current)
                pos = scheme.end()
                continue
            skip = _TOKEN68_RE.match(header, pos)
            pos = skip.end() if skip and skip.end() > pos else pos + 1
    return challenges


class LoginError(Exception):
    """A login that did not succeed. `kind` is `rejected`, `unreachable` or `protocol`; the message is
    one line that names the registry and, for `rejected`, the status code and the registry's message."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Response:
    status: int
    headers: Message
    body: bytes


class _TransportError(Exception):
    def __init__(self, reason: str, timed_out: bool) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


class _SafeRedirect(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but never from https to plain http (Authorization is never forwarded:
    it is added as an unredirected header)."""

    def redirect_request(  # noqa: PLR0917 - signature fixed by HTTPRedirectHandler
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: HTTPMessage, newurl: str
    ) -> urllib.request.Request | None:
        old = urllib.parse.urlsplit(req.full_url).scheme
        new = urllib.parse.urlsplit(newurl).scheme
        if old == "https" and new != "https":
            raise urllib.error.HTTPError(newurl, code, f"refused redirect from https to {new}", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _describe_reason(reason: object, timeout: float) -> tuple[str, bool]:
    """A short human reason for a transport failure, and whether it was a timeout."""
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"no answer within {timeout:g} s", True
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused", False
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve host name ({reason.strerror})", False
    if isinstance(reason, ssl.SSLError):
        return f"TLS error ({reason.reason or reason})", False
    if isinstance(reason, http.client.HTTPException) and not isinstance(reason, OSError):
        return f"not an HTTP answer ({type(reason).__name__})", False
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower(), False
    return str(reason) or type(reason).__name__, False


class _Client:
    """One login attempt's HTTP client: an overall deadline and no proxy for loopback hosts."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout

    def get(self, url: str, authorization: str | None = None) -> Response:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise _TransportError(f"no answer within {self.timeout:g} s", True)
        host = urllib.parse.urlsplit(url).netloc
        handlers: list[urllib.request.BaseHandler] = [_SafeRedirect()]
        if is_loopback_host(host):
            handlers.append(urllib.request.ProxyHandler({}))
        opener = urllib.request.build_opener(*handlers)
        request = urllib.request.Request(url, headers={"User-Agent": "gryt-auth-docker"})
        if authorization is not None:
            request.add_unredirected_header("Authorization", authorization)
        try:
            with opener.open(request, timeout=remaining) as resp:
                return Response(resp.status, resp.headers, resp.read(_MAX_BODY))
        except urllib.error.HTTPError as err:
            with err:
                body = err.read(_MAX_BODY) if err.fp is not None else b""
            return Response(err.code, err.headers, body)
        except urllib.error.URLError as err:
            reason, timed_out = _describe_reason(err.reason, self.timeout)
            raise _TransportError(reason, timed_out) from None
        except (OSError, ValueError, http.client.HTTPException) as err:
            reason, timed_out = _describe_reason(err, self.timeout)
            raise _TransportError(reason, timed_out) from None


def error_message(body: bytes) -> str:
    """The registry's own error text from a response body (Registry v2 `errors`, token server `details`,
    OAuth `error_description`), reduced to one line; '' when there is none."""
    text = body.decode("utf-8", "replace").strip()
    message = ""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list):
            parts = [str(e.get("message") or e.get("code") or "") for e in errors if isinstance(e, dict)]
            message = "; ".join(p for p in parts if p)
        for key in ("details", "detail", "error_description", "message", "error"):
            if not message and isinstance(data.get(key), str):
                message = data[key]
    elif text and not text.startswith("<"):
        message = text.splitlines()[0]
    message = " ".join(message.split())
    return shorten(message, 200)  # cut before the token is masked: no partial token may stay behind


def basic_authorization(username: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{token}".encode()).decode("ascii")


def _rejected(what: str, response: Response) -> LoginError:
    detail = error_message(response.body)
    return LoginError("rejected", f"{what}: HTTP {response.status}" + (f" ({detail})" if detail else ""))


def _unexpected(what: str, response: Response) -> LoginError:
    detail = error_message(response.body)
    return LoginError(
        "protocol", f"{what}: unexpected HTTP {response.status}" + (f" ({detail})" if detail else "")
    )


def login(
    address: RegistryAddress,
    username: str,
    token: str,
    *,
    timeout: float = 30.0,
    insecure: bool = False,
    add_secret: Callable[[str], None] | None = None,
) -> str:
    """Log in to `address` with the Registry v2 challenge flow; return the auth scheme used
    (`basic`, `bearer` or `none`). Raises LoginError; `add_secret` receives any bearer token."""
    client = _Client(timeout)
    base, response = _probe(client, address, insecure)
    if response.status == 200:
        return "none"
    if response.status != 401:
        raise _unexpected(f"GET {base}/v2/ is not a registry API", response)
    challenges = parse_challenges(response.headers.get_all("WWW-Authenticate") or [])
    by_scheme = {c.scheme: c for c in challenges}
    who = f"registry {address.name} rejected the credentials of user {username}"
    if "bearer" in by_scheme:
        bearer = _fetch_bearer(client, address, by_scheme["bearer"], username, token, insecure=insecure)
        if add_secret is not None:
            add_secret(bearer)
        scheme, authorization = "bearer", f"Bearer {bearer}"
    elif "basic" in by_scheme:
        scheme, authorization = "basic", basic_authorization(username, token)
    else:
        offered = ", ".join(c.scheme for c in challenges) or "none"
        raise LoginError(
            "protocol", f"registry {address.name} asks for an unsupported authentication ({offered})"
        )
    try:
        final = client.get(f"{base}/v2/", authorization)
    except _TransportError as err:
        raise LoginError("unreachable", f"registry {address.name} is unreachable at {base}: {err}") from None
    if final.status == 200:
        return scheme
    if final.status in (401, 403):
        raise _rejected(who, final)
    raise _unexpected(f"registry {address.name}", final)


def _probe(client: _Client, address: RegistryAddress, insecure: bool) -> tuple[str, Response]:
    """GET /v2/ without credentials over the first base URL that answers."""
    reasons: list[str] = []
    for base in address.base_urls(insecure):
        try:
            return base, client.get(f"{base}/v2/")
        except _TransportError as err:
            reasons.append(f"{base}: {err}")
            if err.timed_out:
                break
    raise LoginError("unreachable", f"registry {address.name} is unreachable ({'; '.join(reasons)})")


def _fetch_bearer(
    client: _Client,
    address: RegistryAddress,
    challenge: Challenge,
    username: str,
    token: str,
    *,
    insecure: bool,
) -> str:
    """Exchange Basic credentials for a bearer token at the challenge's realm."""
    realm = challenge.params.get("realm", "")
    parts = urllib.parse.urlsplit(realm)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LoginError(
            "protocol", f"registry {address.name} sent a Bearer challenge without a usable realm"
        )
    if parts.scheme == "http" and not (insecure or is_loopback_host(parts.netloc)):
        raise LoginError(
            "protocol",
            f"token server {parts.netloc} of registry {address.name} uses plain http; set insecure = true to allow it",
        )
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    for key in ("service", "scope"):
        if challenge.params.get(key):
            query.append((key, challenge.params[key]))
    query.append(("account", username))
    url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    try:
        response = client.get(url, basic_authorization(username, token))
    except _TransportError as err:
        raise LoginError(
            "unreachable", f"token server {parts.netloc} of registry {address.name} is unreachable: {err}"
        ) from None
    if response.status in (401, 403):
        raise _rejected(
            f"token server of registry {address.name} rejected the credentials of user {username}", response
        )
    if response.status != 200:
        raise _unexpected(f"token server of registry {address.name}", response)
    try:
        data = json.loads(response.body)
    except ValueError:
        data = None
    bearer = data.get("token") or data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(bearer, str) or not bearer:
        raise LoginError("protocol", f"token server of registry {address.name} answered without a token")
    return bearer
