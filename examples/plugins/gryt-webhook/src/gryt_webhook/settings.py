"""Where the webhook goes: `.gryt/webhook.toml` in the project, overridden by environment variables."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gryt.config import ConfigKey, resolve_config
from gryt.errors import ConfigError

CONFIG_FILE = Path(".gryt") / "webhook.toml"
URL_ENV_VAR = "GRYT_WEBHOOK_URL"
DEFAULT_TOKEN_ENV_VAR = "GRYT_WEBHOOK_TOKEN"

CONFIG_KEYS = (
    ConfigKey("url", str, None, "Where the summary is posted (http or https)"),
    ConfigKey("token_env_var", str, DEFAULT_TOKEN_ENV_VAR, "Environment variable holding the auth token"),
    ConfigKey("header", str, "Authorization", "Header that carries the token"),
    ConfigKey("scheme", str, "Bearer", 'Prefix of the header value ("" sends the bare token)'),
    ConfigKey("timeout", float, 10.0, "Seconds to wait for the webhook to answer", positive=True),
)


@dataclass(frozen=True)
class Settings:
    """Resolved webhook settings; the token itself is read from the environment when needed."""

    url: str
    token_env_var: str = DEFAULT_TOKEN_ENV_VAR
    header: str = "Authorization"
    scheme: str = "Bearer"
    timeout: float = 10.0
    environ: Mapping[str, str] | None = None

    def token(self) -> str | None:
        environ = self.environ if self.environ is not None else os.environ
        return environ.get(self.token_env_var) or None

    def header_value(self, token: str) -> str:
        return f"{self.scheme} {token}" if self.scheme else token

    def headers(self) -> dict[str, str]:
        """The auth header when the token variable is set, else none."""
        token = self.token()
        return {self.header: self.header_value(token)} if token else {}


def find_config(start: Path | None = None) -> Path | None:
    """`.gryt/webhook.toml` in the nearest folder at or above `start` (default: cwd) that has one."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load_settings(start: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings | None:
    """The settings, or None when no URL is configured (the plugin then does nothing).

    `GRYT_WEBHOOK_URL` overrides the file's `url`; other keys come from the file or their defaults.
    """
    env = environ if environ is not None else os.environ
    path = find_config(start)
    values = _read_toml(path) if path is not None else {}
    resolved = resolve_config(CONFIG_KEYS, values, where=str(path or CONFIG_FILE))
    url = env.get(URL_ENV_VAR) or resolved["url"]
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"webhook url must start with http:// or https://, got {url.split(':', 1)[0]!r}")
    return Settings(
        url=url,
        token_env_var=resolved["token_env_var"],
        header=resolved["header"],
        scheme=resolved["scheme"],
        timeout=float(resolved["timeout"]),
        environ=environ,
    )
