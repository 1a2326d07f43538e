"""gryt's pytest plugin for plugin authors; opt in with `pytest_plugins = ["gryt.testing"]` (not autoloaded).

Fixtures: `gryt_plugins` (an isolated plugin manager: gryt's built-ins plus only the plugins under test),
`gryt_project` (a temporary project with `.gryt/` whose pipelines are written from strings or dicts and
run in-process), `stub_executable` (a fake program on PATH that records its calls). Helpers:
`assert_valid_plugin`, `isolated_manager`, `run_pipeline`, `dump_toml`.

PYTEST_DONT_REWRITE: test modules import this module before pytest registers it; its checks raise
AssertionError with their own messages and need no assertion rewriting.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gryt import plugins as _plugins
from gryt.config import ConfigKey
from gryt.errors import PluginError
from gryt.plugins import PluginInfo, PluginManager
from gryt.plugins.discovery import ENTRY_POINT_GROUP
from gryt.plugins.kinds import KINDS
from gryt.project import in_folder

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

# --------------------------------------------------------------------------------------------------
# Isolated plugin managers


def _plugin_info(plugin: object, name: str | None = None) -> PluginInfo:
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
        info = manager.register_plugin(plugin, _plugin_info(plugin))
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


# --------------------------------------------------------------------------------------------------
# TOML


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_string(text: str) -> str:
    escapes = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
    out = []
    for char in text:
        if char in escapes:
            out.append(escapes[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _toml_value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, os.PathLike):
        return _toml_string(os.fspath(value))
    if isinstance(value, Mapping):
        items = ", ".join(f"{_toml_key(str(k))} = {_toml_value(v, f'{where}.{k}')}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v, f"{where}[{i}]") for i, v in enumerate(value)) + "]"
    raise TypeError(f"{where}: TOML cannot hold {type(value).__name__} values ({value!r})")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _emit_table(lines: list[str], path: list[str], table: Mapping[str, Any], where: str) -> None:
    """Append `table` at header `path`; `where` is its key path for error messages (`runners[0]`)."""
    prefix = f"{where}." if where else ""
    for key, value in table.items():
        if not isinstance(value, Mapping) and not _is_table_array(value):
            lines.append(f"{_toml_key(str(key))} = {_toml_value(value, prefix + str(key))}")
    for key, value in table.items():
        header = ".".join(_toml_key(p) for p in [*path, str(key)])
        if isinstance(value, Mapping):
            lines.extend(["", f"[{header}]"])
            _emit_table(lines, [*path, str(key)], value, prefix + str(key))
        elif _is_table_array(value):
            for index, item in enumerate(value):
                lines.extend(["", f"[[{header}]]"])
                _emit_table(lines, [*path, str(key)], item, f"{prefix}{key}[{index}]")


def dump_toml(data: Mapping[str, Any]) -> str:
    """Render a dict as TOML: nested dicts become tables, lists of dicts arrays of tables.

    Supports str, int, float, bool, paths, lists and dicts; `None` raises TypeError (TOML has no null).
    """
    lines: list[str] = []
    _emit_table(lines, [], data, "")
    return "\n".join(lines).lstrip("\n") + "\n"


# --------------------------------------------------------------------------------------------------
# Temporary projects and pipeline runs


@dataclass
class GrytProject:
    """A temporary gryt project: `root` holds `.gryt/pipelines/` and, after a run, `.gryt/gryt.db`."""

    root: Path

    def __post_init__(self) -> None:
        self.pipelines_dir.mkdir(parents=True, exist_ok=True)

    @property
    def gryt_dir(self) -> Path:
        return self.root / ".gryt"

    @property
    def pipelines_dir(self) -> Path:
        return self.gryt_dir / "pipelines"

    @property
    def db_path(self) -> Path:
        return self.gryt_dir / "gryt.db"

    def write_pipeline(self, name: str, content: str | Mapping[str, Any]) -> Path:
        """Write `.gryt/pipelines/NAME.toml` from TOML text or a dict; returns its path."""
        return self._write(self.pipelines_dir / f"{name}.toml", content)

    def write_config(self, content: str | Mapping[str, Any]) -> Path:
        """Write the project config `.gryt/config.toml` from TOML text or a dict."""
        return self._write(self.gryt_dir / "config.toml", content)

    def write_file(self, relative: str | Path, text: str = "") -> Path:
        """Write a file under the project root (parents created), e.g. an artifact to publish."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def run(
        self,
        pipeline: str,
        *,
        parallel: bool | None = None,
        max_parallel: int | None = None,
        artifacts: Sequence[str | Path] | None = None,
    ) -> dict[str, Any]:
        """Run a pipeline (bare name or path) in-process like `gryt run`, recording into `db_path`.

        Uses the current plugin manager (the `gryt_plugins` sandbox when active), runs in the project
        root (where the pipeline's `[artifacts]` globs resolve once its runners succeeded; `artifacts`
        given here replace them) and returns the pipeline result dict.
        """
        from gryt.data import SqliteData
        from gryt.loader import load_pipeline, resolve_pipeline_path
        from gryt.project import load_project

        project = load_project(self.root)
        with in_folder(project.root):
            path = resolve_pipeline_path(pipeline, project)
            project.db.parent.mkdir(parents=True, exist_ok=True)
            data = SqliteData(project.db)
            try:
                loaded = load_pipeline(path, data=data)
                pipe = loaded.pipeline
                if getattr(pipe, "data", None) is None:
                    pipe.data = data
                limit = max_parallel or loaded.max_parallel or project.max_parallel
                if limit is not None:
                    pipe.max_parallel = limit
                if parallel is None:
                    parallel = loaded.parallel if loaded.parallel is not None else bool(project.parallel)
                if pipe.root is None:
                    pipe.root = project.root
                result: dict[str, Any] = pipe.execute(
                    parallel=parallel, artifacts=None if artifacts is None else list(artifacts)
                )
                return result
            finally:
                data.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read-only query against the project database."""
        if not self.db_path.exists():
            raise FileNotFoundError(f"{self.db_path} does not exist yet: run a pipeline first")
        connection = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute(sql, tuple(params))]
        finally:
            connection.close()

    def database_text(self) -> str:
        """Every value of every table in the project database as one string, to assert a secret is absent."""
        tables = self.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        parts: list[str] = []
        for table in tables:
            quoted = '"' + str(table["name"]).replace('"', '""') + '"'
            parts.extend(json.dumps(row, default=str) for row in self.query(f"SELECT * FROM {quoted}"))
        return "\n".join(parts)

    def _write(self, path: Path, content: str | Mapping[str, Any]) -> Path:
        text = content if isinstance(content, str) else dump_toml(content)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


def run_pipeline(
    pipeline: Any,
    *,
    parallel: bool = False,
    artifacts: Sequence[str | Path] | None = None,
    db: str | Path = ":memory:",
) -> dict[str, Any]:
    """Execute a `gryt.Pipeline` built in Python and return its result dict.

    A pipeline without a database records into `db` (default: an in-memory SQLite store, closed after).
    """
    from gryt.data import SqliteData

    data = None
    if getattr(pipeline, "data", None) is None:
        data = SqliteData(db)
        pipeline.data = data
    try:
        result: dict[str, Any] = pipeline.execute(
            parallel=parallel, artifacts=None if artifacts is None else list(artifacts)
        )
        return result
    finally:
        if data is not None:
            data.close()
            pipeline.data = None


@pytest.fixture
def gryt_project(tmp_path: Path) -> GrytProject:
    """A fresh temporary project (`.gryt/pipelines/` created) under the test's tmp_path."""
    return GrytProject(tmp_path / "project")


# --------------------------------------------------------------------------------------------------
# Stub executables


@dataclass
class Stub:
    """A fake program on PATH; every call appends its arguments and working directory to `log`."""

    name: str
    path: Path
    log: Path

    @property
    def calls(self) -> list[list[str]]:
        """The arguments of every call so far (without the program name)."""
        return [call["args"] for call in self.records]

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every call so far as `{"args": [...], "cwd": "..."}`."""
        if not self.log.exists():
            return []
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line]


_STUB_SCRIPT = """\
import json, os, sys
with open({log!r}, "a", encoding="utf-8") as log:
    log.write(json.dumps({{"args": sys.argv[1:], "cwd": os.getcwd()}}) + "\\n")
sys.stdout.write({stdout!r})
sys.stderr.write({stderr!r})
sys.exit({exit_code!r})
"""


@dataclass
class StubFactory:
    """The `stub_executable` fixture: `stub_executable("docker", stdout="ok\\n", exit_code=0)`."""

    bin_dir: Path
    stubs: dict[str, Stub] = field(default_factory=dict)

    def __call__(self, name: str, *, stdout: str = "", stderr: str = "", exit_code: int = 0) -> Stub:
        if not name or "/" in name or name in {".", ".."}:
            raise ValueError(f"invalid executable name {name!r}")
        log = self.bin_dir / f".{name}.calls.jsonl"
        script = self.bin_dir / f".{name}.py"
        script.write_text(
            _STUB_SCRIPT.format(log=str(log), stdout=stdout, stderr=stderr, exit_code=exit_code),
            encoding="utf-8",
        )
        path = self.bin_dir / name
        path.write_text(
            f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(script))} "$@"\n',
            encoding="utf-8",
        )
        path.chmod(0o755)
        stub = Stub(name=name, path=path, log=log)
        self.stubs[name] = stub
        return stub


@pytest.fixture
def stub_executable(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> StubFactory:
    """Create fake programs in a temp folder that is put first on PATH for the test."""
    bin_dir = tmp_path_factory.mktemp("stub-bin")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return StubFactory(bin_dir)


# --------------------------------------------------------------------------------------------------
# assert_valid_plugin


def _check_hooks(plugin: object, problems: list[str]) -> None:
    if not any(name.startswith("gryt_") for name in dir(plugin)):
        problems.append("it implements no gryt_* hook")
    problems.extend(_plugins.check_hookimpls(plugin))


def _check_classes(plugin: object, problems: list[str]) -> None:
    manager = PluginManager(autoload=False, strict=False, warn=False, env={}).load()
    info = manager.register_plugin(plugin, _plugin_info(plugin))
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
