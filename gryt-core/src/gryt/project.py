"""Project root discovery and project config (`.gryt/config.toml` or `[tool.gryt]` in pyproject.toml).

The root is the nearest folder, walking up from the current directory, that holds a `.gryt/` folder or a
`pyproject.toml` with a `[tool.gryt]` table. Relative paths in the config are relative to the root.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gryt.config import MAX_NESTING, ConfigKey, resolve_config, too_deep
from gryt.errors import ConfigError

GRYT_DIR = ".gryt"
CONFIG_FILE = "config.toml"
DEFAULT_DB = f"{GRYT_DIR}/gryt.db"
DEFAULT_PIPELINES_DIR = f"{GRYT_DIR}/pipelines"
MEMORY_DB = ":memory:"
"""The `db` value (and `--db` argument) that keeps the run history in memory, as SQLite spells it."""
DEFAULT_FAILURE_TAIL = 20
DEFAULT_CACHE = "local"

CONFIG_KEYS = (
    ConfigKey("db", str, DEFAULT_DB, "SQLite database of the run history"),
    ConfigKey("pipelines_dir", str, DEFAULT_PIPELINES_DIR, "Folder where bare pipeline names are looked up"),
    ConfigKey("disable_plugins", list, [], "Entry-point names of plugins not to load"),
    ConfigKey("parallel", bool, None, "Run runners concurrently unless the pipeline or --sequential says"),
    ConfigKey("max_parallel", int, None, "Upper bound on concurrently running runners"),
    ConfigKey("failure_tail", int, DEFAULT_FAILURE_TAIL, "Output lines shown for each failed step"),
    ConfigKey("history", str, None, "Run-history URL (postgresql://user@host/db); default: the SQLite `db`"),
    ConfigKey(
        "history_fallback",
        str,
        None,
        "`local`: use `db` when the history server is unreachable",
        choices=("local",),
    ),
    ConfigKey(
        "history_password_env",
        str,
        None,
        "Environment variable holding the history server's password",
        non_empty=True,
    ),
    ConfigKey("cache", str, DEFAULT_CACHE, "Step cache type (a `caches` plugin type)", non_empty=True),
    ConfigKey("cache_options", dict, {}, "Options of the step cache type, e.g. max_size"),
)
"""Every key the project config accepts."""


@dataclass
class Project:
    """A project: its root, where its config came from, and the resolved settings.

    `db` is `Path(":memory:")` (not below the root) when the config says `db = ":memory:"`.
    """

    root: Path
    config_file: Path | None = None
    db: Path = field(default_factory=lambda: Path(DEFAULT_DB))
    pipelines_dir: Path = field(default_factory=lambda: Path(DEFAULT_PIPELINES_DIR))
    disable_plugins: list[str] = field(default_factory=list)
    parallel: bool | None = None
    max_parallel: int | None = None
    failure_tail: int = DEFAULT_FAILURE_TAIL
    history: str | None = None
    """The run-history URL (`history`); None: the SQLite database `db`. `GRYT_HISTORY_URL` overrides it."""
    history_fallback: str | None = None
    history_password_env: str | None = None
    cache: str = DEFAULT_CACHE
    cache_options: dict[str, Any] = field(default_factory=dict)
    found: bool = True
    """False when no marker was found and the current directory stands in as the root."""

    @classmethod
    def defaults(cls, root: Path, *, found: bool = True) -> Project:
        """A project at `root` with every setting at its default (no config read)."""
        return cls(root=root, db=root / DEFAULT_DB, pipelines_dir=root / DEFAULT_PIPELINES_DIR, found=found)


def display_path(path: Path | str) -> str:
    """`path` relative to the current directory when it lies below it, else absolute: for messages."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(p)


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; syntax errors become ConfigError with the file, line and column."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

    try:
        with open(path, "rb") as fh:
            doc: dict[str, Any] = tomllib.load(fh)
    except RecursionError:  # the parser recurses once per nested array or inline table
        raise ConfigError(_too_deep(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{display_path(path)}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{display_path(path)}: invalid TOML: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(f"{display_path(path)}: cannot read: {exc.strerror or exc}") from None
    if too_deep(doc):
        raise ConfigError(_too_deep(path))
    return doc


def _too_deep(path: Path) -> str:
    return (
        f"{display_path(path)}: tables and lists nested more than {MAX_NESTING} levels deep;"
        " flatten the structure"
    )


def _has_tool_gryt(pyproject: Path) -> bool:
    """Cheap check for a `[tool.gryt]` table without parsing every pyproject on the way up."""
    try:
        text = pyproject.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(line.strip().replace(" ", "").startswith("[tool.gryt") for line in text.splitlines())


def find_root(start: Path | str | None = None) -> Path | None:
    """The nearest folder at or above `start` (default: cwd) holding `.gryt/` or `[tool.gryt]`."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / GRYT_DIR).is_dir():
            return folder
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _has_tool_gryt(pyproject):
            return folder
    return None


def _config_values(root: Path) -> tuple[Path | None, dict[str, Any]]:
    """The raw config table and the file it came from; `.gryt/config.toml` wins over pyproject."""
    config = root / GRYT_DIR / CONFIG_FILE
    if config.is_file():
        return config, read_toml(config)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and _has_tool_gryt(pyproject):
        table = read_toml(pyproject).get("tool", {}).get("gryt")
        if isinstance(table, dict):
            return pyproject, table
        if table is not None:
            raise ConfigError(
                f"{display_path(pyproject)}: tool.gryt: expected a table, got {type(table).__name__}"
            )
    return None, {}


def load_project(start: Path | str | None = None) -> Project:
    """Find the project root and read its config; without a project the current directory is the root."""
    root = find_root(start)
    found = root is not None
    if root is None:
        root = Path(start if start is not None else Path.cwd()).resolve()
    source, values = _config_values(root) if found else (None, {})
    where = "tool.gryt" if source is not None and source.name == "pyproject.toml" else ""
    try:
        settings = resolve_config(CONFIG_KEYS, values, where=where)
    except ConfigError as exc:
        raise ConfigError(f"{display_path(source or root)}: {exc}") from None
    for name in settings["disable_plugins"]:
        if not isinstance(name, str):
            raise ConfigError(
                f"{display_path(source or root)}: disable_plugins: expected a list of strings, got {name!r}"
            )
    max_parallel = settings["max_parallel"]
    if max_parallel is not None and max_parallel < 1:
        raise ConfigError(
            f"{display_path(source or root)}: max_parallel: must be at least 1, got {max_parallel}"
        )
    failure_tail = settings["failure_tail"]
    if failure_tail < 0:
        raise ConfigError(
            f"{display_path(source or root)}: failure_tail: must be at least 0, got {failure_tail}"
        )
    db = settings["db"]
    return Project(
        root=root,
        config_file=source,
        db=Path(MEMORY_DB) if db == MEMORY_DB else root / Path(db).expanduser(),
        pipelines_dir=root / Path(settings["pipelines_dir"]).expanduser(),
        disable_plugins=list(settings["disable_plugins"]),
        parallel=settings["parallel"],
        max_parallel=max_parallel,
        failure_tail=failure_tail,
        history=settings["history"],
        history_fallback=settings["history_fallback"],
        history_password_env=settings["history_password_env"],
        cache=settings["cache"],
        cache_options=dict(settings["cache_options"]),
        found=found,
    )


@contextmanager
def in_folder(folder: Path) -> Iterator[None]:
    """Run the body with `folder` as the working directory (relative paths resolve at the project root)."""
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)
