"""Globs of `inputs`/`outputs` and the files below the project root they match.

A pattern is matched against paths relative to the project root: `*` and `?` stay within one path
segment, `**` spans any number of segments, `[...]` is a character class. A pattern that names a folder
matches everything below it. Only the part of the tree below a pattern's literal prefix is walked, and
`.git` and `.gryt` are never walked.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SKIPPED_FOLDERS = frozenset({".git", ".gryt"})
_WILD = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class FileStat:
    """What the hash index compares to decide that a file is unchanged without reading it."""

    size: int
    mtime_ns: int
    inode: int
    mode: int


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """The regular expression of `pattern` (also matching everything below what it names)."""
    parts = [p for p in pattern.strip("/").split("/") if p not in ("", ".")]
    regex = ""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            regex += ".*" if last else "(?:[^/]+/)*"
            continue
        regex += _segment(part) + ("" if last else "/")
    return re.compile(f"(?:{regex})(?:/.*)?" if regex else ".*", re.DOTALL)


def _segment(part: str) -> str:
    out, i = "", 0
    while i < len(part):
        char = part[i]
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[" and "]" in part[i + 2 :]:
            end = part.index("]", i + 2)
            body = part[i + 1 : end]
            negate = body.startswith("!")
            body = re.escape(body[1:] if negate else body).replace(r"\-", "-")
            out += f"[{'^' if negate else ''}{body}]"
            i = end
        else:
            out += re.escape(char)
        i += 1
    return out


def literal_prefix(pattern: str) -> str:
    """The folder below which `pattern` can match (`src/app` for `src/app/**/*.py`; "" for the root)."""
    parts = [p for p in pattern.strip("/").split("/") if p not in ("", ".")]
    fixed: list[str] = []
    for part in parts[:-1]:
        if _WILD.search(part):
            break
        fixed.append(part)
    else:
        if parts and not _WILD.search(parts[-1]):
            fixed = parts  # a literal path: a file, or a folder to walk
    return "/".join(fixed)


class Tree:
    """The files below a project root, listed once per folder and kept until `forget()`.

    Regular files and symlinks are listed with their stat (a symlink's stat is its own); folders that
    are symlinks are listed, never followed. Thread-safe: a listing is made and a `forget()` done one
    at a time, so no listing made before a `forget()` is kept after it.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._listed: dict[str, dict[str, FileStat]] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop every listing: files may have changed (a step ran, outputs were restored)."""
        with self._lock:
            self._listed = {}

    def match(self, patterns: tuple[str, ...]) -> dict[str, FileStat]:
        """Every file matched by any of `patterns`, by relative POSIX path, sorted."""
        found: dict[str, FileStat] = {}
        with self._lock:
            for pattern in patterns:
                regex = compile_glob(pattern)
                for path, file in self._below(literal_prefix(pattern)).items():
                    if path not in found and regex.fullmatch(path):
                        found[path] = file
        return dict(sorted(found.items()))

    def _below(self, prefix: str) -> dict[str, FileStat]:
        for listed, files in self._listed.items():
            if listed in ("", prefix) or prefix.startswith(listed + "/"):
                if listed == prefix:
                    return files
                return {p: s for p, s in files.items() if p == prefix or p.startswith(prefix + "/")}
        files = _walk(self.root, prefix)
        self._listed[prefix] = files
        return files


def _walk(root: Path, prefix: str) -> dict[str, FileStat]:
    """Files at or below `root/prefix` (a single file when it names one)."""
    start = str(root / prefix) if prefix else str(root)
    files: dict[str, FileStat] = {}
    try:
        top = os.lstat(start)
    except OSError:
        return files
    if not stat.S_ISDIR(top.st_mode):
        files[prefix] = file_stat(top)
        return files
    stack = [(start, prefix)]
    while stack:
        folder, rel = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            path = f"{rel}/{entry.name}" if rel else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not (rel == "" and entry.name in SKIPPED_FOLDERS):
                        stack.append((entry.path, path))
                    continue
                files[path] = file_stat(entry.stat(follow_symlinks=False))
            except OSError:
                continue
    return files


def file_stat(st: os.stat_result) -> FileStat:
    return FileStat(st.st_size, st.st_mtime_ns, st.st_ino, st.st_mode)
