"""gryt: local-first CI/CD pipelines in Python or TOML with a queryable SQLite run history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
"""gryt-core's version, written only here: hatchling reads it into the metadata ([tool.hatch.version])."""

_EXPORTS = {
    "Auth": "gryt.auth",
    "CommandResult": "gryt.command",
    "run_short_command": "gryt.command",
    "ConfigKey": "gryt.config",
    "Data": "gryt.data",
    "SqliteData": "gryt.data",
    "Destination": "gryt.destination",
    "CommandDestination": "gryt.destination",
    "DirectoryDestination": "gryt.destination",
    "Hook": "gryt.hook",
    "PrintHook": "gryt.hook",
    "Issue": "gryt.validators",
    "Validator": "gryt.validators",
    "Pipeline": "gryt.pipeline",
    "Runner": "gryt.runner",
    "Runtime": "gryt.runtime",
    "LocalRuntime": "gryt.runtime",
    "Step": "gryt.step",
    "CommandStep": "gryt.step",
    "RunContext": "gryt.context",
    "Versioning": "gryt.versioning",
    "SimpleVersioning": "gryt.versioning",
    "GrytError": "gryt.errors",
    "ConfigError": "gryt.errors",
    "PluginError": "gryt.errors",
    "hookimpl": "gryt.hookspecs",
}

_PLUGIN_EXPORTS = ("EnvVarValidator", "ToolValidator", "FlyAuth", "DockerRegistryAuth")
"""Plugin classes importable from `gryt` like in gryt-ci 1.x, resolved through the plugin registry."""

__all__ = [
    "Auth",
    "CommandDestination",
    "CommandResult",
    "CommandStep",
    "ConfigError",
    "ConfigKey",
    "Data",
    "Destination",
    "DirectoryDestination",
    "GrytError",
    "Hook",
    "Issue",
    "LocalRuntime",
    "Pipeline",
    "PluginError",
    "PrintHook",
    "RunContext",
    "Runner",
    "Runtime",
    "SimpleVersioning",
    "SqliteData",
    "Step",
    "Validator",
    "Versioning",
    "__version__",
    "hookimpl",
    "run_short_command",
]


def __getattr__(name: str) -> Any:
    """Import public names lazily so `import gryt` (and `gryt --help`) stays cheap: even `hookimpl`, whose
    module imports pluggy, is only imported by the plugins that use it."""
    module = _EXPORTS.get(name)
    if module is None:
        if name in _PLUGIN_EXPORTS:  # a missing plugin raises ImportError naming what to install
            from gryt.plugins.manager import import_type

            return import_type(name, __name__)
        raise AttributeError(f"module 'gryt' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:
    from gryt.auth import Auth
    from gryt.command import CommandResult, run_short_command
    from gryt.config import ConfigKey
    from gryt.context import RunContext
    from gryt.data import Data, SqliteData
    from gryt.destination import CommandDestination, Destination, DirectoryDestination
    from gryt.errors import ConfigError, GrytError, PluginError
    from gryt.hook import Hook, PrintHook
    from gryt.hookspecs import hookimpl
    from gryt.pipeline import Pipeline
    from gryt.runner import Runner
    from gryt.runtime import LocalRuntime, Runtime
    from gryt.step import CommandStep, Step
    from gryt.validators import Issue, Validator
    from gryt.versioning import SimpleVersioning, Versioning
