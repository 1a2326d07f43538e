"""Where a secret leaked to: the files below a folder that hold any of some byte strings."""

from __future__ import annotations

import os
from pathlib import Path


def find_bytes(root: Path, needles: list[bytes]) -> list[str]:
    """`path: needle...` for every regular file under `root` holding one of `needles` (links not followed)."""
    hits = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath, name)
            if path.is_symlink() or not path.is_file():
                continue
            data = path.read_bytes()
            hits += [f"{path}: {needle[:12]!r}..." for needle in needles if needle in data]
    return hits
