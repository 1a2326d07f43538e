"""Images a step produced, read without a daemon: an OCI image layout (a folder, or a tar of one as
`docker buildx --output type=oci` writes), or a `docker save` archive or its unpacked folder (the classic
`manifest.json` form, converted to an OCI manifest; the newer one that embeds an OCI layout is read as
that layout).

`open_image(path)` returns an `Image`: every blob to push, the manifests below the top one (children
before their index) and the top manifest, which alone gets the tags.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from gryt.errors import GrytError
from gryt_oci.base import INDEX_TYPES, MANIFEST_TYPES, OCI_INDEX, OCI_MANIFEST
from gryt_oci.client import Blob

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"
_MAX_JSON = 32 << 20


class LayoutError(GrytError):
    """An image that cannot be read or is not complete; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Manifest:
    """A manifest or index to push: its exact bytes and media type."""

    media_type: str
    body: bytes

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.body).hexdigest()


@dataclass
class Image:
    """What one push sends: `blobs` (by digest), `children` (manifests an index refers to, pushed by
    digest in order) and `top` (pushed under each tag, last)."""

    top: Manifest
    blobs: dict[str, Blob] = field(default_factory=dict)
    children: list[Manifest] = field(default_factory=list)
    kind: str = "oci-layout"


class _Source(ABC):
    """Files of an image by their slash-separated name inside a folder or a tar archive."""

    def __init__(self, label: str) -> None:
        self.label = label

    @abstractmethod
    def exists(self, name: str) -> bool:
        """Whether the file is there."""

    @abstractmethod
    def size(self, name: str) -> int:
        """Its size in bytes."""

    @abstractmethod
    def open(self, name: str) -> IO[bytes]:
        """Open it for reading."""

    def read_json(self, name: str) -> Any:
        if not self.exists(name):
            raise LayoutError(f"{self.label} has no {name}")
        if self.size(name) > _MAX_JSON:
            raise LayoutError(f"{self.label}: {name} is too large for JSON ({self.size(name)} bytes)")
        with self.open(name) as handle:
            data = handle.read()
        try:
            return json.loads(data)
        except ValueError as exc:
            raise LayoutError(f"{self.label}: {name} is not valid JSON ({exc})") from None

    def read_bytes(self, name: str) -> bytes:
        with self.open(name) as handle:
            return handle.read()

    def opener(self, name: str) -> Callable[[], IO[bytes]]:
        return lambda: self.open(name)


class _Folder(_Source):
    def __init__(self, root: Path) -> None:
        super().__init__(f"image layout {root}")
        self.root = root

    def _path(self, name: str) -> Path:
        return self.root.joinpath(*PurePosixPath(name).parts)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def size(self, name: str) -> int:
        return self._path(name).stat().st_size

    def open(self, name: str) -> IO[bytes]:
        return self._path(name).open("rb")


class _Tar(_Source):
    def __init__(self, path: Path, archive: tarfile.TarFile) -> None:
        super().__init__(f"image archive {path}")
        self.archive = archive
        self.members: dict[str, tarfile.TarInfo] = {}
        for member in archive.getmembers():
            name = str(PurePosixPath(member.name))
            if name.startswith("./"):
                name = name[2:]
            if member.isfile() or member.issym() or member.islnk():
                self.members[name] = member

    def _member(self, name: str) -> tarfile.TarInfo:
        member = self.members.get(name)
        if member is None:
            raise LayoutError(f"{self.label} has no {name}")
        return member

    def exists(self, name: str) -> bool:
        return name in self.members

    def size(self, name: str) -> int:
        member = self._member(name)
        while member.issym() or member.islnk():
            target = member.linkname if member.islnk() else str(PurePosixPath(name).parent / member.linkname)
            name = str(PurePosixPath(target))
            member = self._member(name)
        return member.size

    def open(self, name: str) -> IO[bytes]:
        handle = self.archive.extractfile(self._member(name))
        if handle is None:
            raise LayoutError(f"{self.label}: {name} is not a file")
        return handle


@contextmanager
def open_image(path: Path, ref_name: str | None = None) -> Iterator[Image]:
    """Read the image at `path` (a folder, or a tar archive that stays open while the caller pushes);
    raises LayoutError."""
    if path.is_dir():
        yield _read(_Folder(path), ref_name)
        return
    try:
        archive = tarfile.open(path, "r:*")  # noqa: SIM115 - closed below, after the caller's push
    except tarfile.TarError:
        raise LayoutError(f"{path} is neither an image layout folder nor a tar archive") from None
    except OSError as exc:
        raise LayoutError(f"cannot read {path}: {exc.strerror or exc}") from None
    with archive:
        yield _read(_Tar(path, archive), ref_name)


def _read(source: _Source, ref_name: str | None) -> Image:
    """An OCI layout when there is one (also inside a Docker 25+ save), else a classic docker save."""
    if source.exists("oci-layout"):
        return _from_layout(source, ref_name)
    if source.exists("manifest.json"):
        return _from_docker_save(source, ref_name)
    raise LayoutError(
        f"{source.label} holds neither an OCI layout (oci-layout) nor a docker save manifest.json"
    )


def _descriptor(value: Any, where: str) -> dict[str, Any]:
    if not (
        isinstance(value, dict)
        and isinstance(value.get("digest"), str)
        and isinstance(value.get("mediaType"), str)
        and isinstance(value.get("size"), int)
    ):
        raise LayoutError(f"{where}: a descriptor lacks mediaType, digest or size")
    algorithm, _, encoded = value["digest"].partition(":")
    if algorithm != "sha256" or len(encoded) != 64 or not all(c in "0123456789abcdef" for c in encoded):
        raise LayoutError(f"{where}: unsupported digest {value['digest']!r} (sha256 only)")
    return value


def _blob_name(digest: str) -> str:
    return "blobs/" + digest.replace(":", "/", 1)


def _from_layout(source: _Source, ref_name: str | None) -> Image:
    layout = source.read_json("oci-layout")
    if not isinstance(layout, dict) or "imageLayoutVersion" not in layout:
        raise LayoutError(f"{source.label}: oci-layout has no imageLayoutVersion")
    index = source.read_json("index.json")
    entries = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(entries, list) or not entries:
        raise LayoutError(f"{source.label}: index.json lists no manifests")
    descriptors = [_descriptor(e, f"{source.label}: index.json") for e in entries]
    image = Image(top=Manifest(OCI_INDEX, b""))
    if ref_name is not None:
        chosen = [d for d in descriptors if _names(d) & {ref_name}]
        if len(chosen) != 1:
            raise LayoutError(
                f"{source.label}: {'no' if not chosen else 'more than one'} manifest named {ref_name!r}"
                f" (names: {', '.join(sorted(set().union(*map(_names, descriptors)))) or 'none'})"
            )
        descriptors = chosen
    if len(descriptors) == 1:
        image.top = _walk(source, descriptors[0], image)
        image.children.remove(image.top)
        return image
    if not all(isinstance(d.get("platform"), dict) for d in descriptors):
        names = sorted(set().union(*map(_names, descriptors)))
        raise LayoutError(
            f"{source.label} holds {len(descriptors)} images; choose one with ref_name"
            + (f" ({', '.join(names)})" if names else "")
        )
    for descriptor in descriptors:
        _walk(source, descriptor, image)
    body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
    image.top = Manifest(OCI_INDEX, json.dumps(body, separators=(",", ":")).encode())
    return image


def _names(descriptor: dict[str, Any]) -> set[str]:
    annotations = descriptor.get("annotations")
    if not isinstance(annotations, dict):
        return set()
    return {str(v) for k, v in annotations.items() if k == REF_NAME}


def _walk(source: _Source, descriptor: dict[str, Any], image: Image) -> Manifest:
    """Collect the manifest `descriptor` names, its blobs and, for an index, its manifests."""
    digest = descriptor["digest"]
    name = _blob_name(digest)
    if not source.exists(name):
        raise LayoutError(f"{source.label} lacks {name} (manifest {digest})")
    body = source.read_bytes(name)
    where = f"{source.label}: manifest {digest}"
    if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
        raise LayoutError(f"{source.label}: {name} does not match its digest (the layout is damaged)")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise LayoutError(f"{where} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise LayoutError(f"{where} is not a JSON object")
    # a registry checks Content-Type against the manifest's own mediaType when it has one
    media_type = str(data.get("mediaType") or descriptor["mediaType"])
    manifest = Manifest(media_type, body)
    if media_type in INDEX_TYPES:
        for child in data.get("manifests") or []:
            _walk(source, _descriptor(child, where), image)
    elif media_type in MANIFEST_TYPES:
        for value in [data.get("config"), *(data.get("layers") or [])]:
            blob = _descriptor(value, where)
            if blob.get("urls"):
                continue  # a non-distributable layer: fetched from its URLs, not pushed
            _add_blob(source, blob, image)
    else:
        raise LayoutError(f"{where} has an unsupported media type {media_type!r}")
    if manifest not in image.children:
        image.children.append(manifest)
    return manifest


def _add_blob(source: _Source, descriptor: dict[str, Any], image: Image) -> None:
    digest, size = descriptor["digest"], descriptor["size"]
    name = _blob_name(digest)
    if not source.exists(name):
        raise LayoutError(f"{source.label} lacks {name}")
    actual = source.size(name)
    if actual != size:
        raise LayoutError(f"{source.label}: {name} has {actual} bytes, its descriptor says {size}")
    image.blobs.setdefault(digest, Blob(digest, size, descriptor["mediaType"], source.opener(name)))


def _from_docker_save(source: _Source, ref_name: str | None) -> Image:
    """A classic `docker save` archive as an OCI image: its config and layer tars, digests computed."""
    entries = source.read_json("manifest.json")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise LayoutError(f"{source.label}: manifest.json lists no images")
    if ref_name is not None:
        entries = [e for e in entries if ref_name in _repo_tags(e)]
        if len(entries) != 1:
            raise LayoutError(
                f"{source.label}: {'no' if not entries else 'more than one'} image tagged {ref_name!r}"
            )
    elif len(entries) > 1:
        tags = sorted({t for e in entries for t in _repo_tags(e)})
        raise LayoutError(
            f"{source.label} holds {len(entries)} images; choose one with ref_name"
            + (f" ({', '.join(tags)})" if tags else "")
        )
    entry = entries[0]
    config_name, layer_names = entry.get("Config"), entry.get("Layers")
    if not isinstance(config_name, str) or not isinstance(layer_names, list):
        raise LayoutError(f"{source.label}: manifest.json has no Config or Layers")
    image = Image(top=Manifest(OCI_MANIFEST, b""), kind="docker-save")
    config = _hashed(source, config_name, OCI_CONFIG)
    layers = []
    for layer_name in layer_names:
        if not isinstance(layer_name, str):
            raise LayoutError(f"{source.label}: manifest.json has a layer that is not a file name")
        with source.open(layer_name) as handle:
            gzipped = handle.read(2) == b"\x1f\x8b"
        layers.append(_hashed(source, layer_name, OCI_LAYER_GZIP if gzipped else OCI_LAYER_TAR))
    for blob in [config, *layers]:
        image.blobs.setdefault(blob.digest, blob)
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": [layer.descriptor() for layer in layers],
    }
    image.top = Manifest(OCI_MANIFEST, json.dumps(body, separators=(",", ":")).encode())
    return image


def _repo_tags(entry: dict[str, Any]) -> set[str]:
    """`app:1.0` and its tag alone, `1.0`, for each of the entry's RepoTags."""
    tags = entry.get("RepoTags")
    out: set[str] = set()
    for tag in tags if isinstance(tags, list) else []:
        out |= {str(tag), str(tag).rpartition(":")[2]}
    return out


def _hashed(source: _Source, name: str, media_type: str) -> Blob:
    hasher = hashlib.sha256()
    size = 0
    with source.open(name) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
            size += len(block)
    return Blob("sha256:" + hasher.hexdigest(), size, media_type, source.opener(name))
