"""The built-in `local` cache: content-addressed files in `.gryt/cache/` with an LRU size limit.

Layout: `blobs/ab/<sha256>` holds each distinct output content once; `entries/ab/<key>` is an entry: its
manifest as one JSON line, then its log bytes. Every file is written to `tmp/` and renamed into place,
blobs before the entry that needs them, so a reader sees a whole entry or none, and two runs storing
the same key leave one valid entry. A hit touches the entry (its mtime is its last use); `prune` removes
least-recently-used entries down to `max_size`, then the blobs no entry needs.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from gryt.cache.base import Cache
from gryt.cache.entry import KEY, CacheEntry, CorruptEntry
from gryt.config import ConfigKey
from gryt.errors import CacheError

FOLDER = ".gryt/cache"
DEFAULT_MAX_SIZE = 2 * 1024**3
STALE_SECONDS = 3600.0
"""Temporary files and unneeded blobs younger than this are kept by `prune`: a run may be storing them."""
_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}


def parse_size(value: int | str, where: str = "max_size") -> int:
    """Bytes from `1073741824`, `"500MB"` or `"2GiB"`; CacheError for anything else."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        number = text.rstrip("kmgib")
        unit = text[len(number) :]
        try:
            size = float(number)
        except ValueError:
            size = -1.0
        if unit in _UNITS and size > 0:
            return int(size * _UNITS[unit])
    raise CacheError(f'{where}: expected a positive size like "500MB" or "2GiB", got {value!r}')


class LocalCache(Cache):
    """The step cache in `.gryt/cache/` below the project root (or `path`)."""

    name = "local"
    summary = "Step cache in .gryt/cache/ (content-addressed, LRU size limit)"
    config_keys = (
        ConfigKey("path", str, FOLDER, "Folder of the cache, relative to the project root"),
        ConfigKey("max_size", (int, str), "2GiB", 'Size limit, e.g. "500MB": least-recently-used entries go'),
    )

    def __init__(self, root: Path, **options: Any) -> None:
        super().__init__(root, **options)
        self.folder = root / Path(self.options["path"]).expanduser()
        self.max_size = parse_size(self.options["max_size"], "cache_options.max_size")

    def _entry_path(self, key: str) -> Path:
        if not KEY.fullmatch(key):
            raise CacheError(f"not a cache key: {key!r}")
        return self.folder / "entries" / key[:2] / key

    def _blob_path(self, digest: str) -> Path:
        return self.folder / "blobs" / digest[:2] / digest

    def has(self, key: str) -> bool:
        return self._entry_path(key).is_file()

    def get(self, key: str, scratch: Path) -> CacheEntry | None:
        path = self._entry_path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CacheError(f"cannot read cache entry {key[:12]}: {exc.strerror or exc}") from None
        head, newline, log = raw.partition(b"\n")
        try:
            manifest = json.loads(head)
        except ValueError:
            raise CorruptEntry(f"cache entry {key[:12]} has no valid manifest") from None
        if not newline:
            raise CorruptEntry(f"cache entry {key[:12]} is cut short")
        blobs = {d: self._blob_path(d) for d in _digests(manifest) if self._blob_path(d).is_file()}
        entry = CacheEntry.from_manifest(manifest, log, blobs)
        if entry.key != key:
            raise CorruptEntry(f"cache entry {key[:12]} holds key {entry.key[:12]}")
        try:
            os.utime(path)
        except OSError:
            pass  # a read-only cache folder still serves hits; only LRU order is lost
        return entry

    def put(self, entry: CacheEntry) -> None:
        path = self._entry_path(entry.key)
        try:
            for digest in entry.digests:
                blob = self._blob_path(digest)
                if blob.is_file() and blob.stat().st_size == entry.blob_size(digest):
                    os.utime(blob)  # in use again: not pruned as unneeded while this entry is written
                    continue
                self._place(blob, lambda tmp, d=digest: shutil.copyfile(entry.blobs[d], tmp))
            head = json.dumps(entry.manifest(), separators=(",", ":"), ensure_ascii=True).encode()
            self._place(path, lambda tmp: tmp.write_bytes(head + b"\n" + entry.log))
        except OSError as exc:
            raise CacheError(f"cannot store cache entry {entry.key[:12]}: {exc.strerror or exc}") from None

    def _place(self, target: Path, write: Any) -> None:
        """Write through a temporary file in `tmp/`, then rename it to `target` (atomic on one disk)."""
        tmp_dir = self.folder / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / f"{os.getpid()}-{uuid.uuid4().hex}"
        try:
            write(tmp)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)

    def _files(self, sub: str) -> list[tuple[Path, os.stat_result]]:
        """The files of `entries/` or `blobs/` with their stat (one removed meanwhile is left out)."""
        found = []
        for path in (self.folder / sub).glob("*/*"):
            try:
                found.append((path, path.stat()))
            except FileNotFoundError:
                continue
        return found

    def stats(self) -> dict[str, Any]:
        entries, blobs = self._files("entries"), self._files("blobs")
        size = sum(st.st_size for _p, st in entries) + sum(st.st_size for _p, st in blobs)
        return {
            "type": self.name,
            "path": str(self.folder),
            "entries": len(entries),
            "blobs": len(blobs),
            "bytes": size,
            "max_size": self.max_size,
        }

    def prune(self) -> dict[str, Any]:
        limit = self.max_size
        entries = sorted(self._files("entries"), key=lambda item: item[1].st_mtime_ns)
        blobs = self._files("blobs")
        total = sum(st.st_size for _p, st in entries) + sum(st.st_size for _p, st in blobs)
        removed, freed = 0, 0
        while entries and total > limit:
            path, st = entries.pop(0)
            path.unlink(missing_ok=True)
            removed += 1
            freed += st.st_size
            total -= st.st_size
        needed = self._needed([path for path, _st in entries])
        young = time.time() - STALE_SECONDS
        for path, st in blobs:
            if path.name not in needed and (st.st_mtime < young or total > limit):
                path.unlink(missing_ok=True)
                freed += st.st_size
                total -= st.st_size
        for tmp in (self.folder / "tmp").glob("*"):
            try:
                if tmp.stat().st_mtime < young:
                    tmp.unlink()
            except FileNotFoundError:
                continue
        return {"entries": removed, "bytes": freed}

    def _needed(self, entries: list[Path]) -> set[str]:
        """The blob digests the given entries need (an unreadable entry needs none)."""
        needed: set[str] = set()
        for path in entries:
            try:
                with path.open("rb") as fh:
                    manifest = json.loads(fh.readline())
            except (OSError, ValueError):
                continue
            needed |= _digests(manifest)
        return needed

    def clear(self) -> dict[str, Any]:
        stats = self.stats()
        try:
            for sub in ("entries", "blobs", "tmp"):
                if (self.folder / sub).exists():
                    shutil.rmtree(self.folder / sub)
        except OSError as exc:
            raise CacheError(f"cannot clear {self.folder}: {exc.strerror or exc}") from None
        return {"entries": stats["entries"], "bytes": stats["bytes"]}


def _digests(manifest: Any) -> set[str]:
    """The blob digests an entry's manifest names (none where it is malformed: `from_manifest` says why)."""
    outputs = manifest.get("outputs") if isinstance(manifest, dict) else None
    if not isinstance(outputs, list):
        return set()
    digests = (o.get("digest") for o in outputs if isinstance(o, dict))
    return {d for d in digests if isinstance(d, str) and KEY.fullmatch(d)}
