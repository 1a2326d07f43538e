"""Token verification with flyctl: `fly auth whoami --json`, the token in the child's environment only."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

from gryt.masking import Masker
from gryt_auth_fly.api import API_BASE_ENV, Identity
from gryt_auth_fly.errors import FlyAuthError
from gryt_auth_fly.tokens import strip_scheme, token_parts

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
    child_env = dict(env)
    child_env["FLY_API_TOKEN"] = token
    child_env["FLY_ACCESS_TOKEN"] = token
    child_env.setdefault("FLY_NO_UPDATE_CHECK", "1")
    if api_base:
        child_env[API_BASE_ENV] = api_base
    masker = Masker([token, strip_scheme(token), *token_parts(token)])
    command = [executable, *WHOAMI_ARGS]
    shown = f"{Path(executable).name} {' '.join(WHOAMI_ARGS)}"
    try:
        process = subprocess.Popen(
            command,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=os.name == "posix",
        )
    except OSError as exc:
        raise FlyAuthError(f"cannot run {executable}: {exc.strerror or exc}") from None
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        process.communicate()
        raise FlyAuthError(f"{shown} gave no answer within {timeout:g} s") from None
    out = masker.mask(stdout.decode("utf-8", "replace"))
    err = masker.mask(stderr.decode("utf-8", "replace"))
    if process.returncode != 0:
        raise FlyAuthError(f"{shown} failed (exit {process.returncode}): {_last_line(err or out)}")
    try:
        payload = json.loads(out)
    except ValueError:
        raise FlyAuthError(f"{shown} printed non-JSON output: {_last_line(out)}") from None
    email = payload.get("email") if isinstance(payload, dict) else None
    if not isinstance(email, str) or not email:
        raise FlyAuthError(f"{shown} printed unexpected JSON without an email: {_last_line(out)}")
    return Identity(email=email)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill the child and everything it started (its own session on POSIX)."""
    if os.name == "posix":
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
    else:
        process.kill()


def _last_line(text: str, limit: int = 200) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "no output"
    line = lines[-1]
    return line if len(line) <= limit else line[: limit - 3] + "..."
