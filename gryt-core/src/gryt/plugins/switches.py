"""Which plugins are switched off: by environment variables or the project config's `disable_plugins`.

Used both when plugins load and when `gryt --help` lists plugin commands, so it imports no plugin and
not pluggy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

ENV_DISABLE_AUTOLOAD = "GRYT_DISABLE_PLUGIN_AUTOLOAD"
ENV_ALLOW = "GRYT_PLUGINS"
ENV_DISABLE = "GRYT_DISABLE_PLUGINS"
ENV_STRICT = "GRYT_STRICT_PLUGINS"

_TRUE = {"1", "true", "yes", "on"}

_configured: tuple[str, ...] = ()


def env_flag(env: Mapping[str, str], name: str) -> bool:
    """Whether environment variable `name` is set to a true value (1, true, yes, on)."""
    return env.get(name, "").strip().lower() in _TRUE


def env_names(env: Mapping[str, str], name: str) -> list[str]:
    """The comma-separated names in environment variable `name`."""
    return [part.strip() for part in env.get(name, "").split(",") if part.strip()]


def set_configured_disable(names: Iterable[str]) -> bool:
    """Remember the project config's `disable_plugins`; True when that changed the list."""
    global _configured
    names = tuple(names)
    changed = names != _configured
    _configured = names
    return changed


def configured_disable() -> tuple[str, ...]:
    """The project config's `disable_plugins`, as last set (empty when no project configured it)."""
    return _configured


def disabled_reason(names: Iterable[str], env: Mapping[str, str], disable: Iterable[str]) -> str | None:
    """Why the plugin known by `names` is switched off, or None when it loads.

    Off when any of its names is in GRYT_DISABLE_PLUGINS or `disable`, or when autoload is off
    (GRYT_DISABLE_PLUGIN_AUTOLOAD=1) and none of its names is in GRYT_PLUGINS. `names` is one entry-point
    name for a plugin, or a command's name with the plugin names of its distribution.
    """
    names = set(names)
    if names & set(env_names(env, ENV_DISABLE)):
        return f"disabled by {ENV_DISABLE}"
    if names & set(disable):
        return "disabled by disable_plugins in the project config"
    if env_flag(env, ENV_DISABLE_AUTOLOAD) and not names & set(env_names(env, ENV_ALLOW)):
        return f"disabled by {ENV_DISABLE_AUTOLOAD}=1 (not listed in {ENV_ALLOW})"
    return None
