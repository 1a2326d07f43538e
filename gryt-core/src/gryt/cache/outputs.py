"""A step's outputs: collected into an entry after a successful run, restored byte-exact on a hit."""

from __future__ import annotations

import hashlib
import os
import stat
import uuid
from pathlib import Path

from gryt.cache.entry import CacheEntry, CorruptEntry, OutputFile
from gryt.cache.globs import Tree, file_stat
from gryt.cache.index import CHUNK, HashIndex


def collect(patterns: tuple[str, ...], tree: Tree, index: HashIndex) -> list[OutputFile]:
    """Every file and symlink the output globs match now, each after the folders that hold it."""
    outputs: list[OutputFile] = []
    folders: set[str] = set()
    for path, st in tree.match(patterns).items():
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder not in folders:
                folders.add(folder)
                mode = (tree.root / folder).stat().st_mode & 0o7777
                outputs.append(OutputFile(folder, "dir", mode))
        if stat.S_ISLNK(st.mode):
            outputs.append(OutputFile(path, "symlink", 0o777, target=str((tree.root / path).readlink())))
        elif stat.S_ISREG(st.mode):
            outputs.append(OutputFile(path, "file", st.mode & 0o7777, index.digest(path, st), st.size))
    return outputs


def restore(entry: CacheEntry, root: Path, index: HashIndex) -> int:
    """Put the entry's outputs in place below `root`; returns how many files were written.

    Files already identical (content by the hash index, and mode) are left alone. Every other file is
    copied from its blob next to its target while its digest is checked, and renamed into place only
    once all of them checked out: a corrupt blob (CorruptEntry) changes nothing in the project.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for output in entry.outputs:
            dest = root / output.path
            if output.kind == "dir":
                if not dest.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    dest.chmod(output.mode)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.parent / f".{dest.name}.gryt-{uuid.uuid4().hex[:12]}"
            if output.kind == "symlink":
                if dest.is_symlink() and str(dest.readlink()) == output.target:
                    continue
                staged.append((tmp, dest))
                tmp.symlink_to(output.target)
            else:
                if _unchanged(output, dest, index):
                    continue
                staged.append((tmp, dest))
                _copy_checked(entry.blobs[output.digest], tmp, output.digest)
                tmp.chmod(output.mode)
        for tmp, dest in staged:
            if dest.is_dir() and not dest.is_symlink():
                raise OSError(f"{dest.relative_to(root)} is a folder where the cache has a file")
            tmp.replace(dest)
    finally:
        for tmp, _dest in staged:
            if tmp.is_symlink() or tmp.exists():
                tmp.unlink()
    return len(staged)


def _unchanged(output: OutputFile, dest: Path, index: HashIndex) -> bool:
    try:
        found = file_stat(os.lstat(dest))
    except OSError:
        return False
    return (
        stat.S_ISREG(found.mode)
        and found.mode & 0o7777 == output.mode
        and found.size == output.size
        and index.digest(output.path, found) == output.digest
    )


def _copy_checked(blob: Path, target: Path, digest: str) -> None:
    sha = hashlib.sha256()
    try:
        with open(blob, "rb") as src, open(target, "wb") as dst:
            while chunk := src.read(CHUNK):
                sha.update(chunk)
                dst.write(chunk)
    except FileNotFoundError:
        raise CorruptEntry(f"blob {digest[:12]} is missing") from None
    if sha.hexdigest() != digest:
        target.unlink()
        raise CorruptEntry(f"blob {digest[:12]} does not hold its content")
