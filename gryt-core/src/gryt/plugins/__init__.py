"""Plugins: finding them, checking them, the registry of the types they provide, and their manager.

Read top-down: `manager` loads every plugin once per process (one process-wide instance); it uses
`checks` (hook names and arguments, registered classes, `Requires-Dist` on gryt-core) and fills the
`registry` (types by kind and name, with did-you-mean and install hints); the contract itself is
`gryt.hookspecs`. `discovery` (entry points from metadata) and `switches` (which plugins are turned off)
import neither pluggy nor any plugin, so `gryt --help` can use them cheaply; for the same reason the names
below are imported from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "PluginInfo": "gryt.plugins.registry",
    "Registry": "gryt.plugins.registry",
    "check_hookimpls": "gryt.plugins.checks",
    "check_type": "gryt.plugins.checks",
    "core_version": "gryt.plugins.checks",
    "incompatibility": "gryt.plugins.checks",
    "PluginManager": "gryt.plugins.manager",
    "StrictPluginError": "gryt.plugins.manager",
    "configure": "gryt.plugins.manager",
    "get_manager": "gryt.plugins.manager",
    "import_type": "gryt.plugins.manager",
    "reset_manager": "gryt.plugins.manager",
    "use_manager": "gryt.plugins.manager",
}

__all__ = [
    "PluginInfo",
    "PluginManager",
    "Registry",
    "StrictPluginError",
    "check_hookimpls",
    "check_type",
    "configure",
    "core_version",
    "get_manager",
    "import_type",
    "incompatibility",
    "reset_manager",
    "use_manager",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gryt.plugins' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:
    from gryt.plugins.checks import check_hookimpls, check_type, core_version, incompatibility
    from gryt.plugins.manager import (
        PluginManager,
        StrictPluginError,
        configure,
        get_manager,
        import_type,
        reset_manager,
        use_manager,
    )
    from gryt.plugins.registry import PluginInfo, Registry
