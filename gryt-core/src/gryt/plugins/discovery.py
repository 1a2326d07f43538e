"""Installed distributions and their entry points, read straight from their metadata folders.

`gryt --help`, `gryt --version` and plugin loading all list entry points on every start. This module
does what `importlib.metadata` does for that, minus its cost: it lists each folder on the path once,
reads `entry_points.txt` of every distribution, and only the header lines of METADATA (name, version,
requirements) of those that declare one of the wanted groups. It imports neither `importlib.metadata`
(and with it the `email` package) nor pluggy nor any plugin. Whatever it does not read itself (a zip file
or an egg on the path, a custom distribution finder, folded or missing METADATA headers, egg-info
requirements) is answered by `importlib.metadata`, so the result is the same.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import importlib.metadata

ENTRY_POINT_GROUP = "gryt"
COMMANDS_GROUP = "gryt.commands"
BUILTINS = "builtins"
CORE_DISTRIBUTION = "gryt-core"

_INFO_SUFFIXES = (".dist-info", ".egg-info")
_HEADER = re.compile(r"[\041-\071\073-\176]*:")
_ENTRY_POINT = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")
"""The syntax of an entry point value, as `importlib.metadata.EntryPoint.pattern` has it."""


def canonical_name(name: str) -> str:
    """A distribution name normalised for comparison: `Gryt_Core` -> `gryt-core`."""
    return re.sub(r"[-_.]+", "-", name).lower()


class Distribution:
    """One installed distribution: its metadata folder, or a distribution `importlib.metadata` found.

    `name`, `version`, `requires`, `read_text` and `locate_file` mean what they mean on
    `importlib.metadata.Distribution`; the METADATA headers are read at most once.
    """

    def __init__(
        self, folder: Path | None = None, found: importlib.metadata.Distribution | None = None
    ) -> None:
        self._folder = folder
        self._found = found
        self._headers: dict[str, list[str]] | None = None
        self._headers_read = False

    def __repr__(self) -> str:
        return f"<Distribution {self._folder if self._folder is not None else self._found!r}>"

    def read_text(self, filename: str) -> str | None:
        """The text of a file in the metadata folder, None when it is missing or cannot be read."""
        try:
            return self.read_strict(filename)
        except (OSError, UnicodeDecodeError):
            return None

    def read_strict(self, filename: str) -> str | None:
        """The text of a file in the metadata folder, None when there is no such file; OSError or
        UnicodeDecodeError when it is there but cannot be read (no permission, not UTF-8)."""
        if self._folder is None:
            return self._importlib().read_text(filename)
        try:
            return (self._folder / filename).read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def where(self) -> str:
        """The metadata folder (or what `importlib.metadata` found), for a message naming this distribution."""
        return str(self._folder) if self._folder is not None else repr(self._found)

    def locate_file(self, path: str | os.PathLike[str]) -> Any:
        """A path relative to the folder that holds the metadata folder (usually site-packages)."""
        if self._folder is None:
            return self._importlib().locate_file(path)
        return self._folder.parent / path

    @property
    def key(self) -> str | None:
        """The normalised name that makes this distribution unique on the path, or None without a name.

        Taken from the folder name when it has the usual form (no file read), as `importlib.metadata`
        does.
        """
        folder = self._folder
        if folder is not None and folder.suffix in _INFO_SUFFIXES:
            return canonical_name(folder.stem.partition("-")[0])
        try:
            name = self.name
        except (KeyError, TypeError):
            return None
        return canonical_name(name) if isinstance(name, str) and name else None

    @property
    def name(self) -> str:
        """The `Name` of METADATA; KeyError without one."""
        return self._field("Name")

    @property
    def version(self) -> str:
        """The `Version` of METADATA; KeyError without one."""
        return self._field("Version")

    @property
    def requires(self) -> list[str] | None:
        """The `Requires-Dist` lines, or the requirements of an egg-info `requires.txt`; None if none."""
        headers = self._read_headers()
        if headers is not None:
            if headers.get("requires-dist"):
                return list(headers["requires-dist"])
            if self.read_text("requires.txt") is None:
                return None
        requires = self._importlib().requires
        return list(requires) if requires else None

    def _field(self, name: str) -> str:
        """The Name or Version of METADATA, KeyError when it has none (as in importlib-metadata >= 8).

        Headers read simply are read as the `email` parser reads them, so one missing there is missing.
        Otherwise `importlib.metadata` is asked with `get_all`: its `metadata[name]` returns None for a
        missing field, with a DeprecationWarning since Python 3.12.
        """
        headers = self._read_headers()
        if headers is not None:
            if name.lower() not in headers:
                raise KeyError(name)
            return headers[name.lower()][0]
        values = self._importlib().metadata.get_all(name)
        if not values:
            raise KeyError(name)
        return str(values[0])

    def _read_headers(self) -> dict[str, list[str]] | None:
        """The Name, Version and Requires-Dist headers of METADATA, or None when `importlib.metadata`
        must read it (no such file, or a header this simple reading could get wrong)."""
        if not self._headers_read and self._folder is not None:
            self._headers_read = True
            text = self.read_text("METADATA") or self.read_text("PKG-INFO")
            self._headers = _simple_headers(text) if text else None
        return self._headers

    def _importlib(self) -> importlib.metadata.Distribution:
        if self._found is None:
            import importlib.metadata

            self._found = importlib.metadata.Distribution.at(str(self._folder))
        return self._found


_WANTED_HEADERS = ("name", "version", "requires-dist")


def _simple_headers(text: str) -> dict[str, list[str]] | None:
    """The Name, Version and Requires-Dist values of a METADATA text, as the `email` parser reads them.

    None for anything out of the ordinary (a folded value of one of these, a `From ` line), so that the
    `email` parser decides.
    """
    found: dict[str, list[str]] = {}
    last = ""
    for line in text.split("\n"):
        if line[:1] in (" ", "\t"):
            if last in _WANTED_HEADERS:
                return None
        elif line.startswith("From ") or "\r" in line:
            return None
        elif _HEADER.match(line):
            field, _, value = line.partition(":")
            last = field.lower()
            if last in _WANTED_HEADERS:
                found.setdefault(last, []).append(value.lstrip(" \t"))
        else:
            break
    return found


class EntryPoint:
    """An entry point of an installed distribution: `name = value` in section `group`."""

    __slots__ = ("dist", "group", "name", "value")

    def __init__(self, name: str, value: str, group: str, dist: Distribution) -> None:
        self.name = name
        self.value = value
        self.group = group
        self.dist = dist

    def __repr__(self) -> str:
        return f"EntryPoint(name={self.name!r}, value={self.value!r}, group={self.group!r})"

    def load(self) -> Any:
        """Import the module the value names and return it, or the object it names inside it."""
        match = _ENTRY_POINT.match(self.value)
        if match is None:
            import importlib.metadata

            return importlib.metadata.EntryPoint(self.name, self.value, self.group).load()
        obj: Any = import_module(match.group("module"))
        for attr in filter(None, (match.group("attr") or "").split(".")):
            obj = getattr(obj, attr)
        return obj


class MalformedEntryPoints(ValueError):
    """An `entry_points.txt` that cannot be read as one: the message says which line and why."""


def parse_entry_points(text: str, dist: Distribution, groups: Iterable[str]) -> list[EntryPoint]:
    """The entry points of `groups` in an `entry_points.txt` text, read as `importlib.metadata` reads it.

    Raises MalformedEntryPoints for a line that is neither a `[section]` header nor `name = value`, and
    for a value of a wanted group that is not `module[:attr]` (it could never be loaded).
    """
    wanted = set(groups)
    found: list[EntryPoint] = []
    group: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            if not line.endswith("]") or not line.strip("[]").strip():
                raise MalformedEntryPoints(f"line {number}: bad section header {_shown(line)}")
            group = line.strip("[]").strip()
            continue
        name, equals, value = (part.strip() for part in line.partition("="))
        if not equals or not name:
            raise MalformedEntryPoints(f"line {number}: expected `name = value`, got {_shown(line)}")
        if group in wanted:
            if _ENTRY_POINT.match(value) is None:
                raise MalformedEntryPoints(f"line {number}: bad entry point value {_shown(value)}")
            found.append(EntryPoint(name, value, group, dist))
    return found


def _shown(text: str) -> str:
    """`text` quoted and cut for a one-line message (unprintable characters escaped)."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


_warned: set[str] = set()


def _warn(message: str) -> None:
    """`gryt: warning: message` on stderr, once per process (discovery runs on every start, before pluggy)."""
    if message not in _warned:
        _warned.add(message)
        sys.stderr.write(f"gryt: warning: {message}\n")
        sys.stderr.flush()


def distributions(path: Sequence[str] | None = None) -> Iterator[Distribution]:
    """Every distribution on `path` (default `sys.path`) in `importlib.metadata`'s order, duplicates
    included."""
    if _custom_finders():
        yield from _found(path)
        return
    for entry in sys.path if path is None else path:
        if not isinstance(entry, str) or entry.lower().endswith(".egg"):
            yield from _found([entry])
            continue
        try:
            children = os.listdir(entry or ".")  # noqa: PTH208 - names only, the cheapest listing
        except OSError:
            if Path(entry).is_file():
                yield from _found([entry])
            continue
        root = Path(entry)
        for child in children:
            if child.lower().endswith(_INFO_SUFFIXES):
                yield Distribution(root / child)


def _custom_finders() -> bool:
    """Whether a finder other than the path finder of the standard library (or of the importlib-metadata
    backport, which replaces it when imported) can find distributions: then it is asked."""
    from importlib.machinery import PathFinder

    for finder in sys.meta_path:
        if finder is PathFinder or getattr(finder, "find_distributions", None) is None:
            continue
        if (type(finder).__module__, type(finder).__name__) != ("importlib_metadata", "MetadataPathFinder"):
            return True
    return False


def _found(path: Sequence[Any] | None) -> Iterator[Distribution]:
    import importlib.metadata

    dists = (
        importlib.metadata.distributions()
        if path is None
        else importlib.metadata.distributions(path=list(path))
    )
    for dist in dists:
        yield Distribution(found=dist)


def scan(groups: Sequence[str], path: Sequence[str] | None = None) -> dict[str, list[EntryPoint]]:
    """Entry points of `groups` from the installed distributions (metadata only: imports no plugin).

    Like `importlib.metadata.entry_points()`, the first distribution of a given name on the path wins;
    when another copy of it declares (or the winner declares) entry points of `groups`, one warning names
    both versions and where the winner is. One without a Name or Version in its metadata is skipped (gryt
    could not name its plugins). Sorted by entry point name, then distribution name.
    """
    found: dict[str, list[EntryPoint]] = {g: [] for g in groups}
    winners: dict[str, tuple[Distribution, bool]] = {}
    for dist in distributions(path):
        key = dist.key
        if key is None:
            continue
        if key in winners:
            winner, declares = winners[key]
            if declares or _entry_points(dist, groups):
                _warn(
                    f"{key} is installed twice: {_version_of(winner)} at {winner.where()} is used,"
                    f" {_version_of(dist)} at {dist.where()} is ignored"
                )
            continue
        eps = _entry_points(dist, groups)
        winners[key] = (dist, bool(eps))
        if not eps:
            continue
        try:
            named = bool(dist.name and dist.version)
        except (KeyError, TypeError, OSError, UnicodeDecodeError):
            continue
        if named:
            for ep in eps:
                found[ep.group].append(ep)
    for eps in found.values():
        eps.sort(key=lambda ep: (ep.name, ep.dist.name))
    return found


def _version_of(dist: Distribution) -> str:
    """`version 1.2.0`, or `an unknown version` when the metadata has none or cannot be read."""
    try:
        return f"version {dist.version}"
    except (KeyError, TypeError, OSError, UnicodeDecodeError):
        return "an unknown version"


def _entry_points(dist: Distribution, groups: Sequence[str]) -> list[EntryPoint]:
    """The entry points of `groups` that `dist` declares; none, with one warning naming it, when its
    `entry_points.txt` cannot be read or parsed (one broken distribution must not stop gryt starting).

    A readable file that never mentions a wanted group is skipped silently: it cannot hide a plugin.
    """
    try:
        text = dist.read_strict("entry_points.txt")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else (exc.strerror or str(exc))
        _warn(f"{dist.where()}: cannot read entry_points.txt ({reason}); its gryt plugins are ignored")
        return []
    if not text or not any(group in text for group in groups):
        return []
    try:
        return parse_entry_points(text, dist, groups)
    except MalformedEntryPoints as exc:
        _warn(f"{dist.where()}: malformed entry_points.txt, {exc}; its gryt plugins are ignored")
        return []


def installed_plugin_versions(path: Sequence[str] | None = None) -> list[str]:
    """`name-version` of every installed plugin except gryt-core's built-ins, from metadata only."""
    eps = scan([ENTRY_POINT_GROUP], path)[ENTRY_POINT_GROUP]
    return [
        f"{ep.name}-{ep.dist.version}"
        for ep in eps
        if not (ep.name == BUILTINS and canonical_name(ep.dist.name) == CORE_DISTRIBUTION)
    ]
