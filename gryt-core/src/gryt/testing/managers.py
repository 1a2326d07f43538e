"""Isolated plugin managers for tests: gryt's built-ins plus only the plugins under test (`gryt_plugins`).

PYTEST_DONT_REWRITE: test modules import `gryt.testing` before pytest registers it; its checks raise
AssertionError with their own messages and need no assertion rewriting.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gryt import plugins as _plugins
from gryt.errors import PluginError
from gryt.plugins import PluginInfo, PluginManager
from gryt.plugins.discovery import ENTRY_POINT_GROUP


def plugin_info(plugin: object, name: str | None = None) -> PluginInfo:
    """Describe `plugin` as its entry point does when it is installed, else by its top-level package."""
    from importlib.metadata import PackageNotFoundError, entry_points, version

    module_name = getattr(plugin, "__name__", None) or type(plugin).__module__
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.value == module_name and (name is None or ep.name == name):
            dist = ep.dist
            return PluginInfo(
                name=ep.name,
                distribution=dist.name if dist else "?",
                version=dist.version if dist else "?",
                entry_point=ep.value,
            )
    package = module_name.split(".")[0]
    distribution = package.replace("_", "-")
    try:
        dist_version = version(distribution)
    except PackageNotFoundError:
        dist_version = "0"
    return PluginInfo(
        name=name or package, distribution=distribution, version=dist_version, entry_point=module_name
    )


def isolated_manager(*plugins: object) -> PluginManager:
    """A loaded plugin manager holding gryt's built-ins plus exactly `plugins` (modules or objects).

    Installed entry points are not scanned, so nothing else on the machine leaks in, and environment
    switches (`GRYT_STRICT_PLUGINS`, ...) do not apply. A plugin that fails to register raises
    PluginError with gryt's one-line reason instead of being marked `error`.
    """
    manager = PluginManager(autoload=False, strict=False, warn=False, env={}).load()
    for plugin in plugins:
        info = manager.register_plugin(plugin, plugin_info(plugin))
        if info.status != "ok":
            raise PluginError(f"{info.describe()} {info.status_phrase()}")
    return manager


class PluginSandbox:
    """The `gryt_plugins` fixture: `sandbox(plugin, ...)` installs an isolated manager and returns it.

    Until called, the process-wide manager holds gryt's built-ins only; the previous manager is
    restored when the test ends.
    """

    def __init__(self) -> None:
        self.manager: PluginManager = isolated_manager()

    def __call__(self, *plugins: object) -> PluginManager:
        self.manager = isolated_manager(*plugins)
        _plugins.reset_manager(self.manager)
        return self.manager

    @property
    def registry(self) -> _plugins.Registry:
        return self.manager.registry


@pytest.fixture
def gryt_plugins() -> Iterator[PluginSandbox]:
    """An isolated plugin manager (built-ins plus the plugins you pass) as gryt's process-wide manager."""
    sandbox = PluginSandbox()
    with _plugins.use_manager(sandbox.manager):
        yield sandbox
