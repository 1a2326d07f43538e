"""Trusted publishing: trade the CI job's OIDC identity token for a short-lived upload token, the way the
index documents it: `GET /_/oidc/audience`, then `POST /_/oidc/mint-token` on the upload URL's host."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from gryt_pypi.index import IndexRequestError, is_loopback, request, without_credentials

REQUEST_URL_VAR = "ACTIONS_ID_TOKEN_REQUEST_URL"
REQUEST_TOKEN_VAR = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
"""Set by GitHub Actions in jobs with `permissions: id-token: write`."""


class TrustedPublishingError(Exception):
    """The exchange failed: one line saying where and why."""


def available(env: Mapping[str, str]) -> bool:
    """Whether the environment offers an OIDC identity token (GitHub Actions with `id-token: write`)."""
    return bool(env.get(REQUEST_URL_VAR, "").strip() and env.get(REQUEST_TOKEN_VAR, "").strip())


def mint_token(
    repository_url: str, env: Mapping[str, str], *, timeout: float, add_secret: Callable[[str], None]
) -> str:
    """A short-lived upload token (user `__token__`) for the index behind `repository_url`; every token
    met on the way is passed to `add_secret` before anything else happens with it."""
    if not available(env):
        raise TrustedPublishingError(
            f"trusted publishing needs {REQUEST_URL_VAR} and {REQUEST_TOKEN_VAR}"
            " (GitHub Actions with `permissions: id-token: write`)"
        )
    request_token = env[REQUEST_TOKEN_VAR].strip()
    add_secret(request_token)
    parts = urllib.parse.urlsplit(without_credentials(repository_url))
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(repository_url)):
        raise TrustedPublishingError(
            f"trusted publishing needs an https repository_url, got {parts.scheme}://{parts.netloc}"
        )
    origin = f"{parts.scheme}://{parts.netloc}"
    try:
        audience = _audience(origin, timeout)
        identity = _identity_token(env[REQUEST_URL_VAR].strip(), request_token, audience, timeout)
        add_secret(identity)
        token = _mint(origin, identity, timeout)
    except IndexRequestError as exc:
        raise TrustedPublishingError(f"trusted publishing: {exc}") from None
    add_secret(token)
    return token


def _audience(origin: str, timeout: float) -> str:
    answer = request(f"{origin}/_/oidc/audience", timeout=timeout, headers={"Accept": "application/json"})
    body = answer.json()
    audience = body.get("audience") if isinstance(body, dict) else None
    if answer.status != 200 or not isinstance(audience, str) or not audience:
        raise TrustedPublishingError(
            f"{origin} does not offer trusted publishing"
            f" (GET /_/oidc/audience answered HTTP {answer.status} {answer.reason})"
        )
    return audience


def _identity_token(url: str, request_token: str, audience: str, timeout: float) -> str:
    separator = "&" if "?" in url else "?"
    answer = request(
        f"{url}{separator}{urllib.parse.urlencode({'audience': audience})}",
        timeout=timeout,
        headers={"Authorization": f"bearer {request_token}", "Accept": "application/json"},
    )
    body = answer.json()
    value = body.get("value") if isinstance(body, dict) else None
    if answer.status != 200 or not isinstance(value, str) or not value:
        raise TrustedPublishingError(
            f"the CI's OIDC token endpoint answered HTTP {answer.status} {answer.reason}"
            " without a token; does the job have `permissions: id-token: write`?"
        )
    return value


def _mint(origin: str, identity: str, timeout: float) -> str:
    answer = request(
        f"{origin}/_/oidc/mint-token",
        timeout=timeout,
        method="POST",
        data=json.dumps({"token": identity}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    body = answer.json()
    token = body.get("token") if isinstance(body, dict) else None
    if answer.status == 200 and isinstance(token, str) and token:
        return token
    raise TrustedPublishingError(
        f"{origin} refused the OIDC token (HTTP {answer.status} {answer.reason}): {_reasons(body)}"
    )


def _reasons(body: Any) -> str:
    """The index's explanation of a refused exchange: its `errors[].description`, else `message`."""
    if not isinstance(body, dict):
        return "no explanation given"
    errors = body.get("errors")
    described = [
        str(e.get("description") or e.get("code"))
        for e in (errors if isinstance(errors, list) else [])
        if isinstance(e, dict) and (e.get("description") or e.get("code"))
    ]
    text = "; ".join(described) or str(body.get("message") or "no explanation given")
    return " ".join(text.split())
