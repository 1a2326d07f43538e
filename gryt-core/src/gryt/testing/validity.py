"""`assert_valid_plugin`: check a plugin module the way gryt will load it, its import cost included.

PYTEST_DONT_REWRITE: test modules import `gryt.testing` before pytest registers it; its checks raise
AssertionError with their own messages and need no assertion rewriting.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from collections.abc import Sequence

from gryt import plugins as _plugins
from gryt.config import ConfigKey
from gryt.errors import PluginError
from gryt.plugins import PluginManager
from gryt.plugins.kinds import KINDS
from gryt.testing.managers import plugin_info

HEAVY_MODULES = frozenset(
    {
        "asyncio",
        "ssl",
        "http.client",
        "urllib.request",
        "multiprocessing",
        "xml.dom.minidom",
        "email.mime",
        "requests",
        "httpx",
        "urllib3",
        "aiohttp",
        "boto3",
        "botocore",
        "docker",
        "kubernetes",
        "yaml",
        "numpy",
        "pandas",
        "pydantic",
        "cryptography",
        "jwt",
        "git",
        "typer",
        "click",
        "rich",
        "pytest",
        "_pytest",
    }
)
"""Modules a plugin must not import at module level (import them inside the functions that use them)."""

MAX_NEW_MODULES = 30
"""At most this many modules (outside gryt and the plugin's own package) may load when a plugin is imported."""

_BASELINE_MODULES = (
    "gryt",
    "gryt.plugins",
    "gryt.plugins.manager",
    "gryt.plugins.kinds",
    "gryt.hookspecs",
    "gryt.config",
    "gryt.context",
    "gryt.errors",
    *(kind.base.__module__ for kind in KINDS.values()),
)
"""What gryt itself has imported before it loads plugins: the import check measures beyond this."""

_IMPORT_PROBE = """\
import importlib, json, sys
for name in sys.argv[2:]:
    importlib.import_module(name)
before = set(sys.modules)
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _check_hooks(plugin: object, problems: list[str]) -> None:
    if not any(name.startswith("gryt_") for name in dir(plugin)):
        problems.append("it implements no gryt_* hook")
    problems.extend(_plugins.check_hookimpls(plugin))


def _check_classes(plugin: object, problems: list[str]) -> None:
    manager = PluginManager(autoload=False, strict=False, warn=False, env={}).load()
    info = manager.register_plugin(plugin, plugin_info(plugin))
    if info.status != "ok":
        problems.append(f"registering it fails: {info.error}")
    registered = [(kind, manager.registry.get(kind, name)) for kind in KINDS for name in info.provides[kind]]
    for kind, cls in registered or info.attempted:
        label = f"{kind} type {getattr(cls, 'name', '')!r} ({cls.__qualname__})"
        try:
            _plugins.check_type(kind, cls)
        except PluginError as exc:
            problems.append(str(exc))
            continue
        summary = getattr(cls, "summary", "")
        if not isinstance(summary, str) or "\n" in summary:
            problems.append(f"{label}: summary must be one line of text")
        if inspect.isabstract(cls):
            missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
            problems.append(f"{label} is abstract: implement {missing}")
        keys = getattr(cls, "config_keys", None)
        if keys is not None and (
            not isinstance(keys, tuple) or not all(isinstance(k, ConfigKey) for k in keys)
        ):
            problems.append(f"{label}: config_keys must be None or a tuple of gryt.config.ConfigKey")


def _check_import(module_name: str, problems: list[str], allow: frozenset[str], max_new_modules: int) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    completed = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, module_name, *_BASELINE_MODULES],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        problems.append(f"importing {module_name} in a fresh interpreter fails: {last}")
        return
    own = module_name.split(".", maxsplit=1)[0]
    added = [
        m for m in json.loads(completed.stdout) if m.split(".")[0] not in {own, "gryt"} and m not in allow
    ]

    def heavy(name: str) -> bool:
        parts = name.split(".")
        return any(".".join(parts[:i]) in HEAVY_MODULES for i in range(1, len(parts) + 1))

    offenders = sorted({m for m in added if heavy(m) and m.split(".")[0] not in allow})
    if offenders:
        problems.append(
            f"importing {module_name} loads heavy modules ({', '.join(offenders[:8])}); "
            "import them inside the functions that use them"
        )
    elif len(added) > max_new_modules:
        tops = sorted({m.split(".")[0].lstrip("_") for m in added})
        problems.append(
            f"importing {module_name} loads {len(added)} modules (limit {max_new_modules}; from "
            f"{', '.join(tops[:10])}); import them inside the functions that use them"
        )


def assert_valid_plugin(
    plugin: object,
    *,
    check_import: bool = True,
    allow_imports: Sequence[str] = (),
    max_new_modules: int = MAX_NEW_MODULES,
) -> None:
    """Check a plugin module (or object) the way gryt will load it; raise AssertionError listing every
    problem.

    Checks: each `gryt_*` attribute is a known hook (did-you-mean), is marked `@hookimpl` and takes a
    subset of the spec's arguments; it registers cleanly next to the built-ins; each registered class
    subclasses the base of its kind, is concrete, and has a lower-case dashed `name`; and importing the
    module in a fresh interpreter loads no heavy module (`HEAVY_MODULES`, `allow_imports` exempted) and at
    most `max_new_modules` modules outside gryt and the plugin's own package.
    """
    label = getattr(plugin, "__name__", None) or type(plugin).__qualname__
    problems: list[str] = []
    _check_hooks(plugin, problems)
    if not problems or problems == ["it implements no gryt_* hook"]:
        # gryt refuses to register a plugin with bad hooks, so its classes can only be checked after.
        _check_classes(plugin, problems)
    if check_import:
        if not inspect.ismodule(plugin) or getattr(plugin, "__spec__", None) is None:
            problems.append(f"{label} is not an importable module; pass check_import=False for objects")
        else:
            _check_import(plugin.__name__, problems, frozenset(allow_imports), max_new_modules)
    if problems:
        raise AssertionError(f"{label} is not a valid gryt plugin:\n- " + "\n- ".join(problems))
