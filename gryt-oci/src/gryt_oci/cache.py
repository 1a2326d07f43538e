"""OciCache: the step cache in a container registry, so one machine's run hits entries another stored.

Each entry is one OCI artifact in the `repository`, tagged `gryt-cache-<key>`: artifact type
`application/vnd.gryt.cache.entry.v1`, the empty config, then the entry's manifest (JSON), its log and
one layer per distinct output content. A file's digest is the SHA-256 of its content, as a blob's is,
so the registry keeps each content once whatever the entries that share it. `put` pushes every blob,
then the manifest by tag: a reader never finds the tag on half an entry. `has` is a manifest HEAD.

Credentials are those of the Docker config in gryt's environment (`docker login`, `DOCKER_CONFIG`,
`REGISTRY_AUTH_FILE`, credential helpers), read as the `oci` destination reads them; they travel only in
`Authorization` headers and no message of this module holds them.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from gryt.cache.base import Cache, CacheEntry, CorruptEntry
from gryt.cache.local import LocalCache
from gryt.config import ConfigKey
from gryt.errors import CacheError
from gryt_oci.base import CONNECTION_KEYS, OCI_MANIFEST, REPOSITORY_KEY, registry_client
from gryt_oci.reference import parse_repository

if TYPE_CHECKING:
    from gryt_oci.client import Blob, RegistryClient

T = TypeVar("T")

TAG_PREFIX = "gryt-cache-"
ARTIFACT_TYPE = "application/vnd.gryt.cache.entry.v1"
MANIFEST_LAYER = "application/vnd.gryt.cache.manifest.v1+json"
LOG_LAYER = "application/vnd.gryt.cache.log.v1"
BLOB_LAYER = "application/vnd.gryt.cache.blob.v1"
MAX_MANIFEST = 16 << 20
"""Bytes of an entry's manifest or log held in memory at most; a larger layer is a corrupt entry."""


class OciCache(Cache):
    """Step cache entries as OCI artifacts in a registry repository (`cache = "oci"`)."""

    name: ClassVar[str] = "oci"
    summary: ClassVar[str] = "Step cache in a container registry: one OCI artifact per entry"
    config_keys: ClassVar[tuple[ConfigKey, ...] | None] = (
        REPOSITORY_KEY,
        ConfigKey("local", bool, True, "keep a copy of each entry in the local store and look there first"),
        ConfigKey("max_size", (int, str), "2GiB", 'size limit of the local copy, e.g. "500MB"'),
        *CONNECTION_KEYS,
    )

    def __init__(self, root: Path, **options: Any) -> None:
        super().__init__(root, **options)
        self.repository = parse_repository(str(self.options["repository"]), where="repository")
        self.local = LocalCache(root, max_size=self.options["max_size"]) if self.options["local"] else None
        self._client: RegistryClient | None = None
        self._failure: str | None = None
        self._lock = threading.Lock()

    def has(self, key: str) -> bool:
        if self.local is not None and self.local.has(key):
            return True
        client = self._connected()
        return _registry_call(lambda: client.manifest_exists(tag_for(key), OCI_MANIFEST))

    def get(self, key: str, scratch: Path) -> CacheEntry | None:
        """The local copy's entry, else the registry's (then copied to the local store)."""
        if self.local is not None:
            found = self.local.get(key, scratch)
            if found is not None:
                return found
        entry = self._pull(key, scratch)
        if entry is not None and self.local is not None:
            self.local.put(entry)
        return entry

    def put(self, entry: CacheEntry) -> None:
        """Store `entry` in the local copy, then in the registry."""
        if self.local is None:
            self._push(entry)
            return
        self.local.put(entry)
        try:
            self._push(entry)
        except CacheError as exc:
            raise CacheError(f"kept in the local copy only: {exc}") from None

    def stats(self) -> dict[str, Any]:
        """The local copy's statistics (the registry's entries are not counted)."""
        return {**self._local_copy("report statistics").stats(), "type": "oci (local copy)"}

    def prune(self) -> dict[str, Any]:
        return self._local_copy("be pruned by gryt").prune()

    def clear(self) -> dict[str, Any]:
        return self._local_copy("be cleared by gryt").clear()

    def _local_copy(self, what: str) -> LocalCache:
        """The local store, for `gryt cache`; the registry's entries are the registry's to manage."""
        if self.local is None:
            raise CacheError(f"the registry cache (local = false) cannot {what}; use the registry's tools")
        return self.local

    def _pull(self, key: str, scratch: Path) -> CacheEntry | None:
        client = self._connected()
        body = _registry_call(lambda: client.fetch_manifest(tag_for(key), OCI_MANIFEST))
        if body is None:
            return None
        layers = _layers(body, key)
        manifest_layer, log_layer, blob_layers = layers[0], layers[1], layers[2:]
        try:
            manifest = json.loads(self._small(client, manifest_layer, scratch / "manifest.json"))
        except ValueError:
            raise CorruptEntry("the entry's manifest layer is not JSON") from None
        log = self._small(client, log_layer, scratch / "log")
        blobs: dict[str, Path] = {}
        for layer in blob_layers:
            path = scratch / layer.digest.removeprefix("sha256:")
            self._download(client, layer, path)
            blobs[layer.digest.removeprefix("sha256:")] = path
        return CacheEntry.from_manifest(manifest, log, blobs)

    def _push(self, entry: CacheEntry) -> None:
        from gryt_oci.artifact import EMPTY_CONFIG, EMPTY_MEDIA_TYPE
        from gryt_oci.client import Blob

        config = Blob.of_bytes(EMPTY_CONFIG, EMPTY_MEDIA_TYPE)
        described = Blob.of_bytes(json.dumps(entry.manifest(), sort_keys=True).encode(), MANIFEST_LAYER)
        log = Blob.of_bytes(entry.log, LOG_LAYER)
        try:
            contents = [_file_blob(digest, entry.blobs[digest]) for digest in entry.digests]
        except (KeyError, OSError) as exc:
            raise CacheError(f"cannot read an output of the entry: {exc}") from None
        layers = [described, log, *contents]
        artifact: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": ARTIFACT_TYPE,
            "config": config.descriptor(),
            "layers": [blob.descriptor() for blob in layers],
            "annotations": {"dev.gryt.cache.key": entry.key},
        }
        body = json.dumps(artifact, separators=(",", ":")).encode()
        client = self._connected()

        def push() -> None:
            for blob in [config, *layers]:
                client.push_blob(blob)
            client.push_manifest(tag_for(entry.key), OCI_MANIFEST, body)

        _registry_call(push)

    def _connected(self) -> RegistryClient:
        """The client, logged in on first use; a failed login is remembered (one attempt per run)."""
        from gryt_oci.credentials import find_credentials

        def connect() -> RegistryClient:
            env = dict(os.environ)
            timeout = float(self.options["timeout"])
            credentials = find_credentials(self.repository, env, timeout=timeout)
            client = registry_client(self.repository, credentials, self.options, env)
            client.connect()
            return client

        with self._lock:
            if self._failure is not None:
                raise CacheError(self._failure)
            if self._client is not None:
                return self._client
            try:
                client = _registry_call(connect)
            except CacheError as exc:
                self._failure = str(exc)
                raise
            self._client = client
            return client

    def _small(self, client: RegistryClient, layer: Layer, path: Path) -> bytes:
        """A manifest or log layer's bytes, checked against its digest."""
        if layer.size > MAX_MANIFEST:
            raise CorruptEntry(f"layer {layer.digest[:19]} is {layer.size} bytes, more than a cache entry's")
        self._download(client, layer, path)
        return path.read_bytes()

    def _download(self, client: RegistryClient, layer: Layer, path: Path) -> None:
        """Pull a layer into `path`; CorruptEntry unless its content has the layer's digest and size."""
        from gryt_oci.artifact import file_digest

        with path.open("wb") as sink:
            _registry_call(lambda: client.fetch_blob(layer.digest, sink))
        if file_digest(path) != (layer.digest, layer.size):
            raise CorruptEntry(f"blob {layer.digest[:19]} does not have the content its digest names")


@dataclass(frozen=True)
class Layer:
    """A layer descriptor of an entry's artifact: digest and size."""

    digest: str
    size: int


def tag_for(key: str) -> str:
    """The tag of the entry for `key` (a 64-digit hex SHA-256, so the tag is always valid)."""
    return TAG_PREFIX + key


def _layers(body: bytes, key: str) -> list[Layer]:
    """The layers of an entry's artifact manifest; CorruptEntry when it is not one gryt pushed."""
    try:
        manifest = json.loads(body)
    except ValueError:
        raise CorruptEntry("the registry's manifest is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("artifactType") != ARTIFACT_TYPE:
        raise CorruptEntry(f"tag {tag_for(key)} is not a gryt cache entry")
    raw = manifest.get("layers")
    if not isinstance(raw, list) or len(raw) < 2:
        raise CorruptEntry("the entry's artifact lacks its manifest and log layers")
    layers: list[Layer] = []
    for item in raw:
        digest, size = (item.get("digest"), item.get("size")) if isinstance(item, dict) else (None, None)
        if not isinstance(digest, str) or not digest.startswith("sha256:") or len(digest) != 71:
            raise CorruptEntry(f"bad layer digest {digest!r}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise CorruptEntry(f"bad layer size {size!r}")
        layers.append(Layer(digest, size))
    return layers


def _file_blob(digest: str, path: Path) -> Blob:
    from gryt_oci.client import Blob

    return Blob("sha256:" + digest, path.stat().st_size, BLOB_LAYER, lambda: path.open("rb"))


def _registry_call(call: Callable[[], T]) -> T:
    """`call()`, its registry and Docker config errors turned into CacheError (one line)."""
    from gryt_oci.credentials import CredentialsError
    from gryt_oci.transport import RegistryError

    try:
        return call()
    except (RegistryError, CredentialsError) as exc:
        raise CacheError(str(exc)) from None
