"""Where a secret leaked to: the files below a folder that hold any of some byte strings."""

from __future__ import annotations

import os
from pathlib import Path


def find_bytes(root: Path, needles: list[bytes]) -> list[str]:
    """`path: needle...` for every regular file under `root` holding one of `needles` (links not followed).

    A missing `root` is an error, not an empty answer: a search of the wrong folder must not pass."""
    if not root.is_dir():
        raise AssertionError(f"{root} is not a folder: nothing to search for a leak")
    hits = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath, name)
            if path.is_symlink() or not path.is_file():
                continue
            data = path.read_bytes()
            hits += [f"{path}: {needle[:12]!r}..." for needle in needles if needle in data]
    return hits
