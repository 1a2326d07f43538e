"""A cache entry: what a step produced (its outputs, masked log and result), stored under its key.

An entry is a manifest (JSON, `CacheEntry.manifest()`), the log bytes and one blob per distinct output
file content, named by the SHA-256 of that content. A store keeps these three parts however it likes and
gives them back through `CacheEntry.from_manifest`, which checks the manifest and raises `CorruptEntry`
for anything inconsistent: gryt then treats the entry as a miss, with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from gryt.errors import CacheError

FORMAT = 1
"""The manifest format; a manifest of another format is corrupt (never misread)."""

OutputKind = Literal["file", "dir", "symlink"]
KEY = re.compile(r"^[0-9a-f]{64}$")
"""A cache key and a blob name: the lower-case hex SHA-256."""


class CorruptEntry(CacheError):
    """A stored entry that cannot be used as it is (bad manifest, missing or altered blob)."""


@dataclass(frozen=True)
class OutputFile:
    """One output path of a step: a regular file, a folder or a symbolic link.

    `path` is relative to the project root, in POSIX form, never absolute and never with `..`. `mode` is
    the permission bits (`st_mode & 0o7777`). A file has the SHA-256 `digest` and `size` of its content;
    a symlink has its `target` as written.
    """

    path: str
    kind: OutputKind
    mode: int
    digest: str = ""
    size: int = 0
    target: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The manifest form of this output."""
        return {
            "path": self.path,
            "kind": self.kind,
            "mode": self.mode,
            "digest": self.digest,
            "size": self.size,
            "target": self.target,
        }

    @classmethod
    def from_dict(cls, data: Any) -> OutputFile:
        """An output from its manifest form; CorruptEntry when a field is missing or unsafe."""
        if not isinstance(data, dict):
            raise CorruptEntry(f"output entry is {type(data).__name__}, not a table")
        path, kind, mode = data.get("path"), data.get("kind"), data.get("mode")
        digest, size, target = data.get("digest", ""), data.get("size", 0), data.get("target", "")
        if not isinstance(path, str) or not safe_path(path):
            raise CorruptEntry(f"unsafe output path {path!r}")
        if kind not in ("file", "dir", "symlink"):
            raise CorruptEntry(f"{path}: unknown output kind {kind!r}")
        if not isinstance(mode, int) or isinstance(mode, bool) or not 0 <= mode <= 0o7777:
            raise CorruptEntry(f"{path}: bad mode {mode!r}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise CorruptEntry(f"{path}: bad size {size!r}")
        if kind == "file" and (not isinstance(digest, str) or not KEY.fullmatch(digest)):
            raise CorruptEntry(f"{path}: bad digest {digest!r}")
        if not isinstance(target, str) or (kind == "symlink" and not target):
            raise CorruptEntry(f"{path}: bad symlink target {target!r}")
        return cls(path, kind, mode, digest if kind == "file" else "", size, target)


def safe_path(path: str) -> bool:
    """`path` is relative, POSIX, non-empty and stays below the root (no `..`, no `.` parts)."""
    if not path or "\\" in path or "\0" in path:
        return False
    parts = PurePosixPath(path).parts
    return bool(parts) and not path.startswith("/") and all(p not in ("..", ".", "") for p in parts)


@dataclass(frozen=True)
class CacheEntry:
    """Everything a hit restores: the step's outputs, its masked log and its result.

    `key` is the step's cache key (64 hex digits). `outputs` lists every output path, folders before
    what they hold. `log` is the step's log exactly as written on a miss, already masked. `result` is
    the step's result dict (masked, JSON-able; `status` is `success`). `blobs` maps each file digest to
    a readable file holding exactly that content: on `put`, files in the project (read them during the
    call, they may change afterwards); on `get`, files the store owns or downloaded into the scratch
    folder it was given. `created` is when the entry was made (seconds since the epoch).
    """

    key: str
    outputs: tuple[OutputFile, ...]
    log: bytes
    result: Mapping[str, Any]
    blobs: Mapping[str, Path] = field(default_factory=dict)
    created: float = 0.0

    @property
    def digests(self) -> list[str]:
        """The distinct file contents the entry needs, each once, in manifest order."""
        return list(dict.fromkeys(o.digest for o in self.outputs if o.kind == "file"))

    def blob_size(self, digest: str) -> int:
        """The size of the content `digest` (as recorded by the outputs that have it)."""
        return next((o.size for o in self.outputs if o.kind == "file" and o.digest == digest), 0)

    def manifest(self) -> dict[str, Any]:
        """The JSON form of everything but the log bytes and blob contents."""
        return {
            "format": FORMAT,
            "key": self.key,
            "created": self.created,
            "outputs": [o.to_dict() for o in self.outputs],
            "result": dict(self.result),
            "log_size": len(self.log),
        }

    @classmethod
    def from_manifest(cls, manifest: Any, log: bytes, blobs: Mapping[str, Path]) -> CacheEntry:
        """The entry a store read back; CorruptEntry when the parts do not fit together.

        Checks the format, the key, every output, that the log has the recorded length and that every
        file digest has a blob (the content of each blob is checked while it is restored).
        """
        if not isinstance(manifest, dict):
            raise CorruptEntry("the manifest is not a JSON object")
        if manifest.get("format") != FORMAT:
            raise CorruptEntry(f"unknown manifest format {manifest.get('format')!r}")
        key, result, created = manifest.get("key"), manifest.get("result"), manifest.get("created", 0.0)
        if not isinstance(key, str) or not KEY.fullmatch(key):
            raise CorruptEntry(f"bad key {key!r}")
        if not isinstance(result, dict) or result.get("status") != "success":
            raise CorruptEntry("the stored result is not a successful step result")
        if not isinstance(created, (int, float)) or isinstance(created, bool):
            raise CorruptEntry(f"bad creation time {created!r}")
        raw_outputs = manifest.get("outputs")
        if not isinstance(raw_outputs, list):
            raise CorruptEntry("the manifest has no output list")
        if manifest.get("log_size") != len(log):
            raise CorruptEntry("the log does not have the recorded length")
        outputs = tuple(OutputFile.from_dict(item) for item in raw_outputs)
        entry = cls(key, outputs, log, result, dict(blobs), float(created))
        missing = [d for d in entry.digests if d not in blobs]
        if missing:
            raise CorruptEntry(f"blob {missing[0][:12]} is missing")
        return entry
