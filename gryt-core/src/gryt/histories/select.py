"""Which history backend a command uses: the URL in `GRYT_HISTORY_URL` or the project's `history`, its
scheme naming a registered `histories` type; without one (or with `--db`), the SQLite database `db`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from gryt.errors import ConfigError
from gryt.histories import History, Unreachable
from gryt.histories.spool import SPOOL_DIR

if TYPE_CHECKING:
    from gryt.project import Project

HISTORY_URL_ENV = "GRYT_HISTORY_URL"
"""The environment variable that overrides the project's `history` URL (a CI job sets it)."""
LOCAL = "local"
"""The `history_fallback` value: an unreachable history server means recording into `db`, with a warning."""


def history_url(project: Project) -> str | None:
    """The configured history URL (`GRYT_HISTORY_URL` first), or None for the SQLite database `db`."""
    return os.environ.get(HISTORY_URL_ENV) or project.history


def without_password(url: str) -> tuple[str, bool]:
    """`url` with any password left out (`postgresql://me:***@host/db` -> `postgresql://me@host/db`), and
    whether it had one."""
    parts = urlsplit(url)
    if not parts.password:
        return url, False
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc)), True


def backend(url: str) -> type[History]:
    """The registered `histories` type the scheme of `url` names; PluginError (did-you-mean, install
    hint) when none is, ConfigError when `url` is not a URL."""
    scheme, colon, _rest = url.partition(":")
    if not colon or not scheme:
        raise ConfigError(f"history: {url!r} is not a URL; expected e.g. postgresql://user@host/db")
    from gryt.plugins.manager import get_manager

    cls: type[History] = get_manager().registry.get("histories", scheme.lower())
    return cls


def open_remote(
    project: Project,
    *,
    read_only: bool,
    warn: Callable[[str], None],
    local: Path | None = None,
    fallback: bool = True,
) -> History | None:
    """The history a configured URL names, connected; None when no URL is configured, or when the
    server is unreachable and `history_fallback = "local"` (after a warning; unless not `fallback`): then
    `db` keeps the history.

    A password written in the URL is left out (with a warning): it belongs in PGPASSWORD, a .pgpass file
    or the variable `history_password_env` names. The spool folder for rows a run cannot send is next to
    `local` (the SQLite database), in the project's `.gryt` folder otherwise.
    """
    url = history_url(project)
    if not url:
        return None
    url, had_password = without_password(url)
    if had_password:
        warn(
            f"history: the password in {url} is ignored; give it through PGPASSWORD, a .pgpass file or"
            " `history_password_env`, never in the URL"
        )
    password = None
    if project.history_password_env:
        password = os.environ.get(project.history_password_env)
        if not password:
            raise ConfigError(
                f"history_password_env: the environment variable {project.history_password_env} is not set"
            )
    cls = backend(url)
    try:
        history = cls.connect(url, read_only=read_only, password=password)
    except Unreachable as exc:
        if not fallback or project.history_fallback != LOCAL:
            raise
        warn(f'{exc}; recording into the local database instead (history_fallback = "local")')
        return None
    from gryt.project import GRYT_DIR, MEMORY_DB

    folder = local.parent if local is not None and str(local) != MEMORY_DB else project.root / GRYT_DIR
    history.spool = folder / SPOOL_DIR
    if project.history_password_env:
        history.secret_variables = (*history.secret_variables, project.history_password_env)
    return history
