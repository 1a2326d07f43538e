"""Token verification against the Fly GraphQL API (`POST {api_base}/graphql`), with urllib only."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

from gryt_auth_fly.errors import FlyAuthError
from gryt_auth_fly.tokens import authorization_header

DEFAULT_API_BASE = "https://api.fly.io"
"""The public Fly API base; `FLY_API_BASE_URL` (the variable flyctl reads) or `api_base` override it."""

API_BASE_ENV = "FLY_API_BASE_URL"

VIEWER_QUERY = "query { viewer { ... on User { id email } ... on Macaroon { email } } }"
"""Who the token belongs to: a user for personal tokens, a macaroon for deploy and org tokens."""

MAX_RESPONSE_BYTES = 1 << 20
_USER_AGENT = "gryt-auth-fly"
_REJECTED = (401, 403)


@dataclass(frozen=True)
class Identity:
    """Who a verified token belongs to; `email` is None for tokens without one (some org tokens)."""

    email: str | None
    user_id: str | None = None


def resolve_api_base(configured: str | None, env: Mapping[str, str]) -> str:
    """`configured`, else `FLY_API_BASE_URL` from `env`, else the public API; no trailing slash.

    Raises FlyAuthError for anything that is not an http(s) URL with a host.
    """
    source = "api_base" if configured else API_BASE_ENV
    base = (configured or env.get(API_BASE_ENV) or DEFAULT_API_BASE).strip()
    parts = urllib.parse.urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FlyAuthError(f'{source} must be an http(s) URL like "{DEFAULT_API_BASE}", got "{base}"')
    return base.rstrip("/")


def host_of(url: str) -> str:
    """`host[:port]` of `url`, without any user info, for error messages."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or url
    return f"{host}:{parts.port}" if parts.port else host


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would resend the Authorization header to the new host."""

    def redirect_request(  # noqa: PLR0917 - urllib's signature
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


def verify_token(token: str, api_base: str, timeout: float) -> Identity:
    """Ask the Fly GraphQL API who `token` belongs to; raise FlyAuthError with a one-line reason."""
    url = f"{api_base}/graphql"
    host = host_of(url)
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": VIEWER_QUERY}).encode(),
        method="POST",
        headers={
            "Authorization": authorization_header(token),
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
        },
    )
    opener = urllib.request.build_opener(_NoRedirect)
    deadline = time.monotonic() + timeout
    try:
        try:
            with opener.open(request, timeout=timeout) as response:
                status, content_type = response.status, response.headers.get("Content-Type", "")
                raw = _read(response, deadline)
        except urllib.error.HTTPError as exc:
            status, content_type = exc.code, exc.headers.get("Content-Type", "")
            if 300 <= status < 400:
                location = exc.headers.get("Location", "?")
                raise FlyAuthError(
                    f"Fly API at {host} redirected to {location}; set api_base to the final URL"
                ) from None
            raw = _read(exc, deadline)
    except TimeoutError:
        raise FlyAuthError(f"cannot reach the Fly API at {host}: no answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        raise FlyAuthError(f"cannot reach the Fly API at {host}: {_reason(exc.reason, timeout)}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise FlyAuthError(f"cannot reach the Fly API at {host}: {_reason(exc, timeout)}") from None
    return _identity(_decode(raw, status, content_type, host), status, host)


def _read(response: IO[bytes], deadline: float) -> bytes:
    """The body, read in chunks so a server that trickles bytes cannot outlast the timeout."""
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(65536):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise FlyAuthError(f"Fly API response is larger than {MAX_RESPONSE_BYTES} bytes")
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError
    return b"".join(chunks)


def _reason(reason: object, timeout: float) -> str:
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    text = str(reason).strip()
    return " ".join(text.split()) if text else type(reason).__name__


def _decode(raw: bytes, status: int, content_type: str, host: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        if status in _REJECTED:
            raise FlyAuthError(f"Fly API at {host} rejected the token (HTTP {status})") from None
        kind = content_type.split(";", maxsplit=1)[0].strip() or "no content type"
        raise FlyAuthError(
            f"Fly API at {host} returned a non-JSON response (HTTP {status}, {kind}); check api_base"
        ) from None


def _identity(payload: Any, status: int, host: str) -> Identity:
    if not isinstance(payload, dict):
        raise FlyAuthError(
            f"Fly API at {host} returned an unexpected response (HTTP {status}): not an object"
        )
    errors = payload.get("errors")
    if errors:
        raise FlyAuthError(f"Fly API at {host} rejected the token: {_messages(errors)}")
    if status in _REJECTED:
        raise FlyAuthError(f"Fly API at {host} rejected the token (HTTP {status})")
    if status >= 400:
        raise FlyAuthError(f"Fly API at {host} answered HTTP {status}")
    data = payload.get("data")
    viewer = data.get("viewer") if isinstance(data, dict) else None
    if not isinstance(viewer, dict):
        raise FlyAuthError(f"Fly API at {host} returned an unexpected response: no data.viewer")
    email, user_id = viewer.get("email"), viewer.get("id")
    return Identity(
        email=email if isinstance(email, str) and email else None,
        user_id=user_id if isinstance(user_id, str) and user_id else None,
    )


def _messages(errors: Any) -> str:
    """The GraphQL `errors` messages on one line."""
    items = errors if isinstance(errors, list) else [errors]
    texts = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in items]
    return "; ".join(" ".join(t.split()) for t in texts if t.strip()) or "no message"
