"""HTTP with a registry: one request at a time (`send`, credentials never followed to another host or
from https to http), the errors a push reports, and reading `WWW-Authenticate` challenges and error bodies."""

from __future__ import annotations

import base64
import http.client
import json
import re
import shutil
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from http.client import HTTPMessage
from typing import IO, Any

from gryt.masking import shorten
from gryt_oci import __version__
from gryt_oci.reference import is_loopback_host

USER_AGENT = f"gryt-oci/{__version__}"
_MAX_BODY = 1 << 20


class RegistryError(Exception):
    """A push that failed; the message is one line naming the registry and, for an HTTP answer, its
    status and the registry's own message."""


class Interrupted(RegistryError):
    """The run was interrupted (its cancel event set) before the manifest was pushed."""


@dataclass(frozen=True)
class Challenge:
    """One `WWW-Authenticate` challenge: lower-case scheme and its parameters (lower-case names)."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)


_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM_RE = re.compile(rf'({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))')
_SCHEME_RE = re.compile(rf"({_TOKEN})(?=\s|,|$)")
_TOKEN68_RE = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def parsechallenges(headers: list[str]) -> list[Challenge]:
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
                current.params[param.group(1).lower()] = (
                    re.sub(r"\\(.)", r"\1", raw) if raw is not None else param.group(3)
                )
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


def error_message(body: bytes) -> str:
    """The registry's own error text (Registry v2 `errors` as `CODE: message`, a token server's `details`,
    OAuth `error_description`), one line, cut to 200 characters; '' when there is none."""
    text = body.decode("utf-8", "replace").strip()
    message = ""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list):
            parts = []
            for err in errors:
                if isinstance(err, dict):
                    code, text_ = str(err.get("code") or ""), str(err.get("message") or "")
                    parts.append(f"{code}: {text_}" if code and text_ else code or text_)
            message = "; ".join(p for p in parts if p)
        for key in ("details", "detail", "error_description", "message", "error"):
            if not message and isinstance(data.get(key), str):
                message = data[key]
    elif text and not text.startswith("<"):
        message = text.splitlines()[0]
    return shorten(" ".join(message.split()), 200)


def basic_authorization(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def short_digest(digest: str) -> str:
    """`sha256:0123456789ab` - enough to tell blobs apart in a message."""
    return digest[:19]


@dataclass(frozen=True)
class Response:
    status: int
    headers: Message
    body: bytes


class TransportError(Exception):
    def __init__(self, reason: str, timed_out: bool) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


class _SafeRedirect(urllib.request.HTTPRedirectHandler):
    """Follow redirects (GET/HEAD only, as urllib does), never from https to plain http; the
    `Authorization` header is unredirected, so it is never forwarded."""

    def redirect_request(  # noqa: PLR0917 - signature fixed by HTTPRedirectHandler
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: HTTPMessage, newurl: str
    ) -> urllib.request.Request | None:
        old = urllib.parse.urlsplit(req.full_url).scheme
        new = urllib.parse.urlsplit(newurl).scheme
        if old == "https" and new != "https":
            raise urllib.error.HTTPError(newurl, code, f"refused redirect from https to {new}", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _describe(reason: object, timeout: float) -> tuple[str, bool]:
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


def send(
    method: str,
    url: str,
    *,
    timeout: float,
    body: bytes | None,
    headers: dict[str, str],
    authorization: str | None,
    sink: IO[bytes] | None = None,
) -> Response:
    """One HTTP exchange; any status is a Response, a transport failure a TransportError.

    With `sink`, the body of a 200 answer is copied into it in blocks instead of being kept (a blob of
    any size); the Response's body is then empty."""
    handlers: list[urllib.request.BaseHandler] = [_SafeRedirect()]
    if is_loopback_host(urllib.parse.urlsplit(url).netloc):
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(
        url, data=body, method=method, headers={"User-Agent": USER_AGENT, **headers}
    )
    if authorization is not None:
        request.add_unredirected_header("Authorization", authorization)
    try:
        with opener.open(request, timeout=timeout) as resp:
            if sink is not None and resp.status == 200:
                shutil.copyfileobj(resp, sink, 1 << 20)
                return Response(resp.status, resp.headers, b"")
            return Response(resp.status, resp.headers, resp.read(_MAX_BODY))
    except urllib.error.HTTPError as err:
        with err:
            data = err.read(_MAX_BODY) if err.fp is not None and method != "HEAD" else b""
        return Response(err.code, err.headers, data)
    except urllib.error.URLError as err:
        raise TransportError(*_describe(err.reason, timeout)) from None
    except (OSError, ValueError, http.client.HTTPException) as err:
        raise TransportError(*_describe(err, timeout)) from None


def challenges_of(response: Response) -> list[Challenge]:
    return parsechallenges(response.headers.get_all("WWW-Authenticate") or [])


def detail_of(response: Response) -> str:
    message = error_message(response.body)
    return f" ({message})" if message else ""


def with_query(url: str, params: dict[str, str]) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
