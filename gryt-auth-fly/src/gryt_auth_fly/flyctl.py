"""Token verification with flyctl: `fly auth whoami --json`, the token in the child's environment only."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

from gryt.command import run_short_command
from gryt_auth_fly.api import API_BASE_ENV, Identity
from gryt_auth_fly.errors import FlyAuthError
from gryt_auth_fly.tokens import secret_forms

FLYCTL_NAMES = ("flyctl", "fly")
"""Looked up in this order: `flyctl` first, because other tools (Concourse) also install a `fly`."""

WHOAMI_ARGS = ("auth", "whoami", "--json")


def find_flyctl(path: str | None) -> str | None:
    """The full path of `flyctl` or `fly` on `path` (a PATH string; None means the process PATH)."""
    for name in FLYCTL_NAMES:
        found = shutil.which(name, path=path)
        if found:
            return found
    return None


def verify_flyctl(
    executable: str,
    token: str,
    env: Mapping[str, str],
    timeout: float,
    api_base: str | None = None,
) -> Identity:
    """Run `<executable> auth whoami --json` with `token` in FLY_API_TOKEN and FLY_ACCESS_TOKEN.

    `env` is the child's base environment; `api_base`, when given, is passed as FLY_API_BASE_URL.
    Raises FlyAuthError with a one-line reason that never contains the token.
    """
    extra = {"FLY_API_TOKEN": token, "FLY_ACCESS_TOKEN": token}
    if "FLY_NO_UPDATE_CHECK" not in env:
        extra["FLY_NO_UPDATE_CHECK"] = "1"
    if api_base:
        extra[API_BASE_ENV] = api_base
    shown = f"{Path(executable).name} {' '.join(WHOAMI_ARGS)}"
    result = run_short_command(
        [executable, *WHOAMI_ARGS],
        timeout=timeout,
        env=env,
        extra_env=extra,
        secrets=secret_forms(token),
        label=shown,
    )
    if result.timed_out:
        raise FlyAuthError(f"{shown} gave no answer within {timeout:g} s")
    if result.error is not None:
        raise FlyAuthError(result.error)
    out, err = result.stdout, result.stderr
    if result.returncode != 0:
        raise FlyAuthError(f"{shown} failed (exit {result.returncode}): {_last_line(err or out)}")
    try:
        payload = json.loads(out)
    except ValueError:
        raise FlyAuthError(f"{shown} printed non-JSON output: {_last_line(out)}") from None
    email = payload.get("email") if isinstance(payload, dict) else None
    if not isinstance(email, str) or not email:
        raise FlyAuthError(f"{shown} printed unexpected JSON without an email: {_last_line(out)}")
    return Identity(email=email)


def _last_line(text: str, limit: int = 200) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "no output"
    line = lines[-1]
    return line if len(line) <= limit else line[: limit - 3] + "..."
