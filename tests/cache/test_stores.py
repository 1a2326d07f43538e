"""The `Cache` contract: the local store, and a store written against `gryt.cache.base` alone."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from gryt import CommandStep, Pipeline, Runner
from gryt.cache.base import Cache, CacheEntry, CorruptEntry, OutputFile
from gryt.cache.engine import StepCache
from gryt.cache.local import LocalCache, parse_size
from gryt.errors import CacheError
from gryt.plugins.kinds import KINDS
from gryt.project import in_folder

KEY = "ab" * 32


def entry_with(tmp_path: Path, content: bytes) -> CacheEntry:
    blob = tmp_path / "blob"
    blob.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    outputs = (OutputFile("out", "dir", 0o755), OutputFile("out/f", "file", 0o640, digest, len(content)))
    return CacheEntry(KEY, outputs, b"log\n", {"status": "success", "duration": 1.0}, {digest: blob}, 5.0)


def test_local_store_round_trip(tmp_path: Path) -> None:
    store = LocalCache(tmp_path / "project")
    assert not store.has(KEY) and store.get(KEY, tmp_path) is None
    entry = entry_with(tmp_path, b"content")
    store.put(entry)
    store.put(entry)
    assert store.has(KEY)
    got = store.get(KEY, tmp_path)
    assert got is not None and got.manifest() == entry.manifest() and got.log == b"log\n"
    assert [p.read_bytes() for p in got.blobs.values()] == [b"content"]
    assert store.stats()["entries"] == 1 and store.stats()["blobs"] == 1
    size = store.stats()["bytes"]
    assert store.clear() == {"entries": 1, "bytes": size}
    assert not store.has(KEY)


def test_local_store_refuses_bad_keys_and_reports_corruption(tmp_path: Path) -> None:
    store = LocalCache(tmp_path)
    with pytest.raises(CacheError, match="not a cache key"):
        store.has("../../etc")
    store.put(entry_with(tmp_path, b"content"))
    path = next((tmp_path / ".gryt" / "cache" / "entries").glob("*/*"))
    manifest, _, log = path.read_bytes().partition(b"\n")
    data = json.loads(manifest)
    data["outputs"][1]["path"] = "../escape"
    path.write_bytes(json.dumps(data).encode() + b"\n" + log)
    with pytest.raises(CorruptEntry, match="unsafe output path"):
        store.get(KEY, tmp_path)
    shutil.rmtree(tmp_path / ".gryt" / "cache" / "blobs")
    data["outputs"][1]["path"] = "out/f"
    path.write_bytes(json.dumps(data).encode() + b"\n" + log)
    with pytest.raises(CorruptEntry, match="is missing"):
        store.get(KEY, tmp_path)


@pytest.mark.parametrize(
    ("text", "size"), [("500MB", 500_000_000), ("2GiB", 2 * 1024**3), (10, 10), ("1.5kb", 1500)]
)
def test_sizes(text: str | int, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", ["lots", "-1MB", 0, "5XB"])
def test_bad_sizes(bad: str | int) -> None:
    with pytest.raises(CacheError, match="expected a positive size"):
        parse_size(bad)


class MemoryCache(Cache):
    """A store knowing only `gryt.cache.base`: manifests, logs and blob bytes in dicts."""

    name = "memory"
    entries: dict[str, tuple[dict[str, Any], bytes]] = {}
    blobs: dict[str, bytes] = {}

    def has(self, key: str) -> bool:
        return key in self.entries

    def get(self, key: str, scratch: Path) -> CacheEntry | None:
        if key not in self.entries:
            return None
        manifest, log = self.entries[key]
        files = {}
        for digest, content in self.blobs.items():
            (scratch / digest).write_bytes(content)
            files[digest] = scratch / digest
        return CacheEntry.from_manifest(manifest, log, files)

    def put(self, entry: CacheEntry) -> None:
        for digest, path in entry.blobs.items():
            self.blobs[digest] = path.read_bytes()
        self.entries[entry.key] = (json.loads(json.dumps(entry.manifest())), entry.log)


def test_a_store_written_against_the_base_class_alone(tmp_path: Path) -> None:
    assert KINDS["caches"].base is Cache and KINDS["caches"].hook == "gryt_register_caches"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a").write_text("a")

    def once() -> dict[str, Any]:
        step = CommandStep(
            "s", {"cmd": "cp src/a out.txt", "shell": True}, inputs=["src/*"], outputs=["out.txt"]
        )
        pipeline = Pipeline([Runner([step], id="r")])
        pipeline.cache = StepCache(MemoryCache(tmp_path), tmp_path)
        with in_folder(tmp_path):
            result: dict[str, Any] = pipeline.execute()["runners"]["r"]["s"]
        return result

    assert once()["status"] == "success"
    (tmp_path / "out.txt").unlink()
    assert once()["status"] == "cached"
    assert (tmp_path / "out.txt").read_text() == "a"


@pytest.mark.parametrize("manifest", [b"[1, 2]", b'{"format": 1, "outputs": 5}'])
def test_a_malformed_manifest_is_a_corrupt_entry_and_does_not_stop_pruning(
    tmp_path: Path, manifest: bytes
) -> None:
    store = LocalCache(tmp_path)
    store.put(entry_with(tmp_path, b"content"))
    path = next((tmp_path / ".gryt" / "cache" / "entries").glob("*/*"))
    path.write_bytes(manifest + b"\nlog\n")
    with pytest.raises(CorruptEntry):
        store.get(KEY, tmp_path)
    assert store.prune() == {"entries": 0, "bytes": 0}
    assert store.has(KEY)
