"""FlyAuth (type `fly`): read the Fly API token, verify it like flyctl does, export it to later steps."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar

from gryt.auth import Auth
from gryt.config import MAX_SECONDS, ConfigKey
from gryt.errors import ConfigError
from gryt_auth_fly.errors import FlyAuthError
from gryt_auth_fly.tokens import secret_forms

if TYPE_CHECKING:
    from gryt.data import Data

DEFAULT_TOKEN_ENV_VAR = "FLY_API_TOKEN"
FALLBACK_TOKEN_ENV_VAR = "FLY_ACCESS_TOKEN"
"""flyctl reads this one when FLY_API_TOKEN is unset; only used with the default `token_env_var`."""

DEFAULT_TIMEOUT = 30
"""Seconds the verification may take; also used for an explicit `timeout = None` from Python."""

EXPORTED_VARS = ("FLY_API_TOKEN", "FLY_ACCESS_TOKEN")
METHODS = ("auto", "flyctl", "api")


class FlyAuth(Auth):
    """Verify a Fly.io API token before anything runs and hand it to every later step.

    With `flyctl`/`fly` on PATH (`method = "auto"` prefers it) the check is `fly auth whoami --json`
    with the token in the child's environment; otherwise the GraphQL API's `viewer` query. The token
    is a run secret: masked everywhere, never in argv or results.
    """

    name = "fly"
    summary = "Fly.io API token: verified with flyctl or the Fly GraphQL API, exported to later steps"
    config_keys: ClassVar[tuple[ConfigKey, ...] | None] = (
        ConfigKey(
            "token_env_var",
            str,
            DEFAULT_TOKEN_ENV_VAR,
            "Environment variable holding the token (FLY_ACCESS_TOKEN is tried when FLY_API_TOKEN is unset)",
            non_empty=True,
        ),
        ConfigKey(
            "timeout",
            (int, float),
            DEFAULT_TIMEOUT,
            "Seconds the verification may take",
            positive=True,
            maximum=MAX_SECONDS,
        ),
        ConfigKey(
            "api_base", str, None, "Fly API base URL (default: $FLY_API_BASE_URL, else the public Fly API)"
        ),
        ConfigKey(
            "method",
            str,
            "auto",
            'How to verify: "auto" (flyctl when on PATH), "flyctl" or "api"',
            choices=METHODS,
        ),
    )

    def __init__(self, id: str, config: dict[str, Any] | None = None, data: Data | None = None) -> None:
        super().__init__(id, config, data)
        method = self.config["method"] or "auto"
        if self.config["api_base"] is not None:
            from gryt_auth_fly.api import resolve_api_base

            try:
                resolve_api_base(self.config["api_base"], {})
            except FlyAuthError as exc:
                raise ConfigError(f"{id}.{exc}") from None
        self.method: str = method
        self.timeout: float = float(self.config["timeout"] or DEFAULT_TIMEOUT)
        self.token_env_var: str = (self.config["token_env_var"] or DEFAULT_TOKEN_ENV_VAR).strip()
        self.identity: str | None = None

    def authenticate(self) -> dict[str, Any]:
        """Verify the token; on success export FLY_API_TOKEN and FLY_ACCESS_TOKEN as secrets."""
        env = self._environment()
        variable, token = self._token(env)
        if token is None:
            return {"status": "error", "method": self.method, "error": self._missing_message()}
        for value in secret_forms(token):  # the token, its scheme-less form and each part
            self.add_secret(value)
        method = self.method
        try:
            method, executable = self._choose(env)
            identity = self._verify(method, executable, token, env)
        except FlyAuthError as exc:
            return {"status": "error", "method": method, "error": f"{exc} (token from {variable})"}
        for name in EXPORTED_VARS:
            self.export(name, token, secret=True)
        self.identity = identity
        return {"status": "success", "method": method, "email": identity, "token_env_var": variable}

    def known_secrets(self) -> list[str]:
        """The token (and its forms) in gryt's environment, masked from the start of the run."""
        _variable, token = self._token(dict(os.environ))
        return secret_forms(token) if token is not None else []

    def _environment(self) -> dict[str, str]:
        """The process environment with what earlier auth steps and the runtime exported on top."""
        env = dict(os.environ)
        if self.context is not None:
            env.update(self.context.env)
        return env

    def _candidates(self) -> tuple[str, ...]:
        if self.token_env_var == DEFAULT_TOKEN_ENV_VAR:
            return (DEFAULT_TOKEN_ENV_VAR, FALLBACK_TOKEN_ENV_VAR)
        return (self.token_env_var,)

    def _token(self, env: dict[str, str]) -> tuple[str, str | None]:
        for name in self._candidates():
            value = env.get(name, "").strip()
            if value:
                return name, value
        return self.token_env_var, None

    def _missing_message(self) -> str:
        names = self._candidates()
        if len(names) == 1:
            return f"no Fly API token: {names[0]} is not set (create one with `fly tokens create deploy`)"
        return (
            f"no Fly API token: neither {names[0]} nor {names[1]} is set "
            "(create one with `fly tokens create deploy`)"
        )

    def _choose(self, env: dict[str, str]) -> tuple[str, str | None]:
        """(method, flyctl path or None): `auto` takes flyctl when it is on PATH, else the API."""
        from gryt_auth_fly.flyctl import find_flyctl

        if self.method == "api":
            return "api", None
        executable = find_flyctl(env.get("PATH", os.defpath))
        if executable is not None:
            return "flyctl", executable
        if self.method == "flyctl":
            raise FlyAuthError(
                'method = "flyctl" but neither flyctl nor fly is on PATH; install flyctl or use method = "api"'
            )
        return "api", None

    def _verify(self, method: str, executable: str | None, token: str, env: dict[str, str]) -> str | None:
        """The email the token belongs to; raises FlyAuthError."""
        if method == "flyctl" and executable is not None:
            from gryt_auth_fly.flyctl import verify_flyctl

            return verify_flyctl(executable, token, env, self.timeout, self.config["api_base"]).email
        from gryt_auth_fly.api import resolve_api_base, verify_token

        return verify_token(token, resolve_api_base(self.config["api_base"], env), self.timeout).email
