"""Artifacts: what a run built, found after every runner succeeded and handed to the destinations.

An entry is a glob (a string: matching nothing is an error) or a table `{ path = GLOB, optional = true }`
(matching nothing is fine). Relative globs resolve in the project root and may not leave it; an absolute
glob is taken as written. Files and folders both count; a symlink that resolves outside the root is an
error, never followed silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from gryt.errors import ConfigError, GrytError


class ArtifactError(GrytError):
    """The artifacts of a delivery cannot be resolved or selected (one-line message naming the cause)."""


@dataclass(frozen=True)
class ArtifactSpec:
    """One artifact entry: a glob, and whether matching nothing is allowed."""

    path: str
    optional: bool = False


ArtifactEntry = str | Mapping[str, Any] | ArtifactSpec
"""What `Pipeline(artifacts=...)`, `[artifacts] paths` and a destination's `artifacts` accept."""


def parse_entries(entries: Any, where: str) -> list[ArtifactSpec]:
    """Validate artifact entries (globs or `{ path, optional }` tables); ConfigError names `where[i]`."""
    if isinstance(entries, (str, Mapping)) or not isinstance(entries, Iterable):
        raise ConfigError(f"{where}: expected a list of globs, got {type(entries).__name__}")
    specs: list[ArtifactSpec] = []
    for index, entry in enumerate(entries):
        at = f"{where}[{index}]"
        if isinstance(entry, ArtifactSpec):
            spec = entry
        elif isinstance(entry, str):
            spec = ArtifactSpec(entry)
        elif isinstance(entry, Mapping):
            unknown = sorted(str(k) for k in entry if k not in ("path", "optional"))
            if unknown:
                raise ConfigError(f"{at}: unknown key {unknown[0]!r}; known keys: path, optional")
            path, optional = entry.get("path"), entry.get("optional", False)
            if not isinstance(path, str):
                raise ConfigError(f"{at}.path: expected a glob string, got {type(path).__name__}")
            if not isinstance(optional, bool):
                raise ConfigError(f"{at}.optional: expected a boolean, got {type(optional).__name__}")
            spec = ArtifactSpec(path, optional)
        else:
            raise ConfigError(
                f"{at}: expected a glob or a {{ path, optional }} table, got {type(entry).__name__}"
            )
        if not spec.path.strip() or spec.path.strip() in ("/", "."):
            raise ConfigError(f"{at}: expected a glob of files or folders, got {spec.path!r}")
        specs.append(spec)
    return specs


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _check_links(match: Path, root: Path, pattern: str) -> None:
    """`match` (through any symlinked folder on its way) and every symlink below it (for a folder) must
    stay inside `root`: a link out of the project is an error, never followed."""
    candidates = [match]
    if match.is_dir() and not match.is_symlink():
        candidates.extend(p for p in match.rglob("*") if p.is_symlink())
    for path in candidates:
        target = path.resolve()
        if not _inside(target, root):
            raise ArtifactError(
                f"artifact {path} (from {pattern!r}) resolves through a symlink to {target}, outside the project"
                f" root {root}; not followed"
            )


def resolve(specs: Sequence[ArtifactSpec], root: Path) -> list[Path]:
    """Every file and folder the globs match, in entry order then sorted, each once.

    Raises ArtifactError for a required glob matching nothing, a relative glob matching something
    outside `root`, or a symlink resolving outside `root`.
    """
    root = root.resolve()
    found: dict[Path, None] = {}
    for spec in specs:
        given = Path(spec.path).expanduser()
        absolute = given.is_absolute()
        base, relative = (
            (Path(given.anchor), str(given.relative_to(given.anchor))) if absolute else (root, spec.path)
        )
        matches = sorted(base.glob(relative))
        if not matches and not spec.optional:
            raise ArtifactError(f"artifact pattern {spec.path!r} matched nothing in {base}")
        for match in matches:
            if not absolute:
                if not _inside(Path(*_normalized(match)), root):
                    raise ArtifactError(
                        f"artifact pattern {spec.path!r} matches {match}, outside the project root {root};"
                        " write an absolute path to publish it"
                    )
                _check_links(match, root, spec.path)
            found.setdefault(match, None)
    return list(found)


def _normalized(path: Path) -> tuple[str, ...]:
    """The parts of `path` with `..` applied (symlinks untouched, unlike `resolve()`)."""
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if len(parts) > 1:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return tuple(parts)


def check_explicit(paths: Iterable[str | Path]) -> list[Path]:
    """Artifacts given to `execute(artifacts=...)`: each must exist when delivery starts."""
    out: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise ArtifactError(f"artifact {path} does not exist")
        out.append(path)
    return out


def relative_name(path: Path, root: Path) -> str:
    """`path` relative to the project root in POSIX form (a symlink keeps its own name), or absolute
    when it lies elsewhere."""
    if not path.is_absolute():
        return path.as_posix()
    for base in (root, root.resolve()):
        try:
            return Path(*_normalized(path)).relative_to(base).as_posix()
        except ValueError:
            continue
    return path.as_posix()


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob as a regex over POSIX paths: `*` and `?` stay within one folder, `**` crosses folders."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[index + 1 : end].replace("\\", "\\\\")
                out.append(f"[^{body[1:]}]" if body.startswith("!") else f"[{body}]")
                index = end
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out) + r"\Z")


def select(specs: Sequence[ArtifactSpec], artifacts: Sequence[Path], root: Path) -> list[Path]:
    """The run's artifacts a destination takes: those whose project-relative path matches a glob.

    Raises ArtifactError for a required glob selecting nothing.
    """
    names = [(artifact, relative_name(artifact, root)) for artifact in artifacts]
    chosen: dict[Path, None] = {}
    for spec in specs:
        pattern = spec.path[2:] if spec.path.startswith("./") else spec.path
        regex = _glob_regex(pattern)
        hits = [artifact for artifact, name in names if regex.match(name)]
        if not hits and not spec.optional:
            known = ", ".join(name for _a, name in names) or "none"
            raise ArtifactError(f"artifacts: {spec.path!r} selects none of the run's artifacts ({known})")
        for hit in hits:
            chosen.setdefault(hit, None)
    return list(chosen)
