"""gryt's pytest plugin for plugin authors; opt in with `pytest_plugins = ["gryt.testing"]` (not autoloaded).

Fixtures: `gryt_plugins` (an isolated plugin manager: gryt's built-ins plus only the plugins under test),
`gryt_project` (a temporary project with `.gryt/` whose pipelines are written from strings or dicts and
run in-process), `stub_executable` (a fake program on PATH that records its calls). Helpers:
`assert_valid_plugin`, `isolated_manager`, `run_pipeline`, `dump_toml`.

PYTEST_DONT_REWRITE: test modules import this module before pytest registers it; its checks raise
AssertionError with their own messages and need no assertion rewriting.
"""

from __future__ import annotations

from gryt.testing.managers import PluginSandbox, gryt_plugins, isolated_manager
from gryt.testing.projects import GrytProject, gryt_project, run_pipeline
from gryt.testing.stubs import Stub, StubFactory, stub_executable
from gryt.testing.toml import dump_toml
from gryt.testing.validity import HEAVY_MODULES, assert_valid_plugin

__all__ = [
    "HEAVY_MODULES",
    "GrytProject",
    "PluginSandbox",
    "Stub",
    "StubFactory",
    "assert_valid_plugin",
    "dump_toml",
    "gryt_plugins",
    "gryt_project",
    "isolated_manager",
    "run_pipeline",
    "stub_executable",
]
