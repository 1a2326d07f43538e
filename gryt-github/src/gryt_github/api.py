"""A small client of the GitHub REST API on urllib: JSON requests, uploads, errors as one line, and the
rate limit honoured (wait for the reset when it is near enough, else fail saying when to retry)."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import urllib.request

API_VERSION = "2022-11-28"
"""The REST API version every request asks for (`X-GitHub-Api-Version`)."""
DEFAULT_API_URL = "https://api.github.com"
MAX_ATTEMPTS = 3
"""Requests sent at most for one call when the rate limit answers with a wait short enough."""


class GithubError(Exception):
    """A request failed: `status` is the HTTP status (None when the server could not be reached) and
    `codes` the `errors[].code` values of GitHub's error body (e.g. `already_exists`)."""

    def __init__(self, message: str, status: int | None = None, codes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.codes = codes


@dataclass(frozen=True)
class Response:
    """An answer: status, headers (lower-case names) and the decoded JSON body (None when empty)."""

    status: int
    headers: Mapping[str, str]
    body: Any


def parse_api_url(value: str, where: str) -> str:
    """`value` without a trailing slash; ConfigError unless it is a plain http(s) URL."""
    from gryt.errors import ConfigError

    parts = urllib.parse.urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{where}: expected an http(s) URL such as https://github.example.com/api/v3, got {value!r}"
        )
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise ConfigError(f"{where}: the URL must have no credentials, query or fragment, got {value!r}")
    return value.strip().rstrip("/")


class GithubApi:
    """Requests to one GitHub API root (`api_url`) with a token.

    `rate_limit_wait` is the longest a call waits for the rate limit (`Retry-After`, or
    `X-RateLimit-Reset` when `X-RateLimit-Remaining` is 0) before trying again; a longer wait fails.
    """

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        timeout: float,
        rate_limit_wait: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.rate_limit_wait = rate_limit_wait
        self.sleep = sleep
        self.clock = clock

    def url(self, path: str) -> str:
        """The absolute URL of an API path (`/repos/...`); absolute URLs are returned as they are."""
        return path if "://" in path else self.api_url + path

    def call(
        self,
        method: str,
        path: str,
        *,
        payload: Any = None,
        data: bytes | None = None,
        content_type: str | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> Response:
        """Send one request (a JSON `payload`, or raw `data` of `content_type`) and return the answer when
        its status is in `ok`; raise GithubError otherwise."""
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "gryt-github",
        }
        if payload is not None:
            data = json.dumps(payload, sort_keys=True).encode("utf-8")
            content_type = "application/json"
        if content_type is not None:
            headers["Content-Type"] = content_type
        import urllib.request  # http.client, email, ssl: ~15 ms that every `gryt` command would pay

        url = self.url(path)
        label = f"{method} {urllib.parse.urlsplit(url).path}"
        attempt = 1
        while True:
            response = self._send(
                urllib.request.Request(url, data=data, method=method, headers=headers), label
            )
            if response.status in ok:
                return response
            wait = self._rate_limit_wait(response)
            if wait is None:
                raise _failure(label, response)
            limited = f"{label}: rate limited by the GitHub API (HTTP {response.status})"
            if wait > self.rate_limit_wait:
                raise GithubError(
                    f"{limited}; it resets in {wait:.0f} s, more than rate_limit_wait ="
                    f" {self.rate_limit_wait:g} s allows: retry later",
                    response.status,
                )
            if attempt == MAX_ATTEMPTS:
                raise GithubError(f"{limited} {attempt} times in a row: retry later", response.status)
            self.sleep(wait)
            attempt += 1

    def _send(self, request: urllib.request.Request, label: str) -> Response:
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                return Response(resp.status, _headers(resp.headers), _decode(resp.read()))
        except urllib.error.HTTPError as err:
            with err:
                return Response(err.code, _headers(err.headers), _decode(err.read()))
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            host = urllib.parse.urlsplit(request.full_url).netloc
            raise GithubError(f"{label}: cannot reach {host}: {reason}") from None

    def _rate_limit_wait(self, response: Response) -> float | None:
        """Seconds to wait before retrying a rate-limited answer (403 or 429); None if it is not one."""
        if response.status not in (403, 429):
            return None
        retry_after = response.headers.get("retry-after", "").strip()
        if retry_after.isdigit():
            return float(retry_after)
        if response.headers.get("x-ratelimit-remaining", "").strip() == "0":
            reset = response.headers.get("x-ratelimit-reset", "").strip()
            if reset.isdigit():
                return max(0.0, float(reset) - self.clock())
            return 60.0
        return None


def _headers(message: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (message.items() if message is not None else [])}


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _failure(label: str, response: Response) -> GithubError:
    """One line for a failed answer: status, GitHub's `message` and the codes of its `errors`."""
    body = response.body
    message = ""
    codes: tuple[str, ...] = ()
    if isinstance(body, dict):
        message = str(body.get("message") or "")
        errors = body.get("errors")
        if isinstance(errors, list):
            codes = tuple(str(e.get("code")) for e in errors if isinstance(e, dict) and e.get("code"))
    elif isinstance(body, str):
        message = body.strip().splitlines()[0][:200] if body.strip() else ""
    detail = f": {message}" if message else ""
    if codes:
        detail += f" ({', '.join(codes)})"
    return GithubError(f"{label}: HTTP {response.status}{detail}", response.status, codes)
