"""Build a small container image from a folder of files with the standard library only, the way a
pipeline step would with buildah or `docker buildx --output type=oci`: as an OCI image layout folder, a
tar of one, a classic `docker save` archive, or the newer one (Docker 25+) that embeds an OCI layout.

    python tests/_servers/oci_layout.py SRC OUT [--format oci|oci-tar|docker-save|docker-save-oci]
                                                [--tag TAG]
                                                [--filler BYTES]

The image has one gzip layer (OCI) or tar layer (docker save) holding SRC's files under `app/`, plus,
with `--filler`, a second, uncompressed layer of that many random bytes (to make a push take a while).
`--tag` names the image (`org.opencontainers.image.ref.name`, or `RepoTags` `app:TAG`). Prints the
manifest digest; `build()` does the same from Python and returns it.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
from pathlib import Path
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
FORMATS = ("oci", "oci-tar", "docker-save", "docker-save-oci")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _tar(entries: list[tuple[str, bytes]]) -> bytes:
    """A reproducible tar: sorted names, mtime 0, root-owned."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in sorted(entries):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _layers(src: Path, filler: int, compress: bool) -> list[tuple[bytes, bytes, str]]:
    """(blob, uncompressed tar, media type) of each layer."""
    files = [
        ("app/" + path.relative_to(src).as_posix(), path.read_bytes())
        for path in sorted(src.rglob("*"))
        if path.is_file()
    ]
    app = _tar(files)
    layers = [(gzip.compress(app, mtime=0), app, LAYER_GZIP) if compress else (app, app, LAYER_TAR)]
    if filler:
        blob = _tar([("filler.bin", os.urandom(filler))])
        layers.append((blob, blob, LAYER_TAR))
    return layers


def _config(layers: list[tuple[bytes, bytes, str]]) -> bytes:
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/bin/sh"], "WorkingDir": "/app"},
        "rootfs": {"type": "layers", "diff_ids": [_digest(tar) for _blob, tar, _type in layers]},
        "history": [{"created_by": "gryt tests: oci_layout.py"} for _ in layers],
    }
    return json.dumps(config, separators=(",", ":")).encode()


def _write_layout(out: Path, blobs: list[bytes], manifest: bytes, tag: str) -> None:
    shutil.rmtree(out, ignore_errors=True)
    (out / "blobs" / "sha256").mkdir(parents=True)
    for data in [*blobs, manifest]:
        (out / "blobs" / "sha256" / _digest(data)[7:]).write_bytes(data)
    (out / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    descriptor = {
        "mediaType": OCI_MANIFEST,
        "digest": _digest(manifest),
        "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor]}
    (out / "index.json").write_text(json.dumps(index))


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def build(src: Path, out: Path, *, fmt: str = "oci", tag: str = "latest", filler: int = 0) -> str:
    """Write the image of `src` to `out` in format `fmt`; returns its manifest digest (for docker-save,
    the digest of the OCI manifest a registry push of it makes)."""
    layers = _layers(src, filler, compress=fmt != "docker-save")
    config = _config(layers)
    manifest_data: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": _digest(config), "size": len(config)},
        "layers": [
            {"mediaType": kind, "digest": _digest(blob), "size": len(blob)} for blob, _tar, kind in layers
        ],
    }
    manifest = json.dumps(manifest_data, separators=(",", ":")).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "oci":
        _write_layout(out, [config, *(blob for blob, _t, _k in layers)], manifest, tag)
    elif fmt in ("oci-tar", "docker-save-oci"):
        staging = out.with_name(out.name + ".layout")
        _write_layout(staging, [config, *(blob for blob, _t, _k in layers)], manifest, tag)
        with tarfile.open(out, "w") as archive:
            for path in sorted(staging.rglob("*")):
                if path.is_file():
                    _add(archive, path.relative_to(staging).as_posix(), path.read_bytes())
            if fmt == "docker-save-oci":  # Docker 25+: the classic files beside the OCI layout
                names = [
                    f"blobs/sha256/{_digest(blob)[7:]}" for blob in [config, *(b for b, _t, _k in layers)]
                ]
                entry = {"Config": names[0], "RepoTags": [f"app:{tag}"], "Layers": names[1:]}
                _add(archive, "manifest.json", json.dumps([entry]).encode())
        shutil.rmtree(staging)
    elif fmt == "docker-save":
        config_name = _digest(config)[7:] + ".json"
        names = [f"{_digest(blob)[7:]}/layer.tar" for blob, _t, _k in layers]
        entry = {"Config": config_name, "RepoTags": [f"app:{tag}"], "Layers": names}
        with tarfile.open(out, "w") as archive:
            _add(archive, config_name, config)
            for name, (blob, _t, _k) in zip(names, layers, strict=True):
                _add(archive, name, blob)
            _add(archive, "manifest.json", json.dumps([entry]).encode())
            top = names[-1].split("/")[0]
            _add(archive, "repositories", json.dumps({"app": {tag: top}}).encode())
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return _digest(manifest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", type=Path, help="folder whose files go into the image under app/")
    parser.add_argument(
        "out", type=Path, help="layout folder (oci) or archive (oci-tar, docker-save) to write"
    )
    parser.add_argument("--format", choices=FORMATS, default="oci")
    parser.add_argument("--tag", default="latest")
    parser.add_argument("--filler", type=int, default=0, help="bytes of random data in a second layer")
    args = parser.parse_args(argv)
    print(build(args.src, args.out, fmt=args.format, tag=args.tag, filler=args.filler))
    return 0


if __name__ == "__main__":
    sys.exit(main())
