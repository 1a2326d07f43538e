"""The hash index: file digests kept by path with size, mtime and inode, so a warm run stats, not reads.

Like git's index. An entry is trusted only while the file's size, mtime_ns, inode and mode are unchanged,
and a digest is not kept for a file modified less than `RACY_SECONDS` before it was hashed (it could
change again within the same mtime tick unnoticed, git's "racily clean" case).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

from gryt.cache.globs import FileStat

RACY_SECONDS = 2.0
CHUNK = 1 << 20


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's content (a symlink's digest is that of its target text)."""
    link = Path(path)
    if link.is_symlink():
        return hashlib.sha256(str(link.readlink()).encode("utf-8", "surrogateescape")).hexdigest()
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class HashIndex:
    """Digests of files below `root`, saved in `path` (JSON) by `save()`; unreadable means empty."""

    def __init__(self, root: Path, path: Path) -> None:
        self.root = root
        self.path = path
        self._lock = threading.Lock()
        self._entries: dict[str, list[int | str]] | None = None
        self._changed = False
        self.hashed = 0
        """Files read (hashed) by this index since it was made: 0 on a warm run."""

    def _load(self) -> dict[str, list[int | str]]:
        if self._entries is None:
            try:
                loaded = json.loads(self.path.read_bytes())
            except (OSError, ValueError):
                loaded = {}
            self._entries = loaded if isinstance(loaded, dict) else {}
        return self._entries

    def digest(self, rel: str, stat: FileStat) -> str:
        """The digest of file `rel` (relative POSIX path) whose current stat is `stat`."""
        with self._lock:
            entries = self._load()
            known = entries.get(rel)
            if (
                isinstance(known, list)
                and len(known) == 5
                and known[:4] == [stat.size, stat.mtime_ns, stat.inode, stat.mode]
                and isinstance(known[4], str)
            ):
                return known[4]
        value = file_digest(self.root / rel)
        self.hashed += 1
        if stat.mtime_ns < time.time_ns() - int(RACY_SECONDS * 1e9):
            with self._lock:
                self._load()[rel] = [stat.size, stat.mtime_ns, stat.inode, stat.mode, value]
                self._changed = True
        return value

    def save(self) -> None:
        """Write the index atomically when it changed (concurrent runs: the last one wins)."""
        with self._lock:
            if not self._changed or self._entries is None:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(self._entries, separators=(",", ":")), encoding="utf-8")
            tmp.replace(self.path)
            self._changed = False
