"""`Cache`: the base class of step cache stores (the `caches` plugin kind).

A store keeps `CacheEntry` objects by key. gryt computes the key, decides hit or miss, restores and
stores the outputs; a store only moves entries: `has`, `get`, `put` (and optionally `stats`, `prune`,
`clear` for `gryt cache`). Everything a store receives is already masked: logs and results never hold a
secret, and keys are SHA-256 digests (a secret that went into a key is hashed, never stored).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from gryt.cache.entry import CacheEntry, CorruptEntry, OutputFile
from gryt.config import resolve_config
from gryt.errors import CacheError
from gryt.typeinfo import Registrable

__all__ = ["Cache", "CacheEntry", "CacheError", "CorruptEntry", "OutputFile"]


class Cache(Registrable, ABC):
    """A store of step cache entries, chosen in the project config (`cache = "NAME"`).

    gryt builds it as `Cls(root, **cache_options)`: `root` is the project root, the options are the
    project config's `cache_options` table, checked against `config_keys` (in `self.options`). A store
    may be used by several gryt processes at once, and by several threads of one run: `put` of one key
    by two of them must leave one valid entry. A store that fails raises `CacheError` (one line); gryt
    warns and runs the step as on a miss, so a broken store never fails a run. Any other exception is
    a bug in the store and is reported the same way.
    """

    def __init__(self, root: Path, **options: Any) -> None:
        self.root = root
        self.options: dict[str, Any] = resolve_config(self.config_keys, options, where=self.name or "cache")

    @abstractmethod
    def has(self, key: str) -> bool:
        """True when an entry for `key` is stored (a cheap check: no blob is read or downloaded)."""

    @abstractmethod
    def get(self, key: str, scratch: Path) -> CacheEntry | None:
        """The entry stored for `key` (built with `CacheEntry.from_manifest`), or None on a miss.

        `scratch` is an empty folder that gryt empties once the outputs are restored (and removes at
        the end of the run): a remote store downloads blobs into it, a local one may point at its own
        files instead. Raises
        `CorruptEntry` for an entry that is stored but unusable; a local store may also drop it then.
        A hit counts as a use for least-recently-used eviction.
        """

    @abstractmethod
    def put(self, entry: CacheEntry) -> None:
        """Store `entry` under `entry.key`, all or nothing: a reader never sees half an entry.

        The blobs are files in the project: read them during the call. Storing a key that is already
        stored keeps one valid entry (either one: both describe the same step and inputs).
        """

    def stats(self) -> dict[str, Any]:
        """What `gryt cache stats` shows: at least `entries` and `bytes`; CacheError if not supported."""
        raise CacheError(f'cache type "{self.name}" cannot report statistics')

    def prune(self) -> dict[str, Any]:
        """Evict least-recently-used entries down to the size limit; returns `entries` and `bytes` removed."""
        raise CacheError(f'cache type "{self.name}" cannot be pruned by gryt')

    def clear(self) -> dict[str, Any]:
        """Remove every entry; returns `entries` and `bytes` removed."""
        raise CacheError(f'cache type "{self.name}" cannot be cleared by gryt')
