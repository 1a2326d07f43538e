"""Read an artifact's npm identity (name, version, private flag) before anything is published: from the
`package.json` of a package folder or of an `npm pack` tarball."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_MANIFEST_BYTES = 5 * 1024 * 1024
"""A larger package.json is refused: no real manifest comes close, and reading it is bounded."""
_TARBALL_SUFFIXES = (".tgz", ".tar.gz")


class PackageError(Exception):
    """The artifact is not a publishable npm package; the message is one line saying why."""


@dataclass(frozen=True)
class NpmPackage:
    """What the destination needs to know about one artifact before `npm publish` runs."""

    path: Path
    name: str
    version: str
    tarball: bool

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


def read_package(path: Path) -> NpmPackage:
    """The package at `path`: a folder with a package.json, or a gzipped tarball holding one
    (`package/package.json`, or the package.json of its single top folder)."""
    if path.is_dir():
        manifest_path = path / "package.json"
        if not manifest_path.is_file():
            raise PackageError(f"{path} is a folder without a package.json, not an npm package")
        if manifest_path.stat().st_size > MAX_MANIFEST_BYTES:
            raise PackageError(f"{manifest_path} is larger than {MAX_MANIFEST_BYTES} bytes")
        manifest = _parse(manifest_path.read_bytes(), str(manifest_path))
        return _package(path, manifest, str(manifest_path), tarball=False)
    if not path.is_file():
        raise PackageError(f"artifact not found: {path}")
    if not path.name.endswith(_TARBALL_SUFFIXES):
        raise PackageError(f"{path} is neither a package folder nor an npm pack tarball (.tgz)")
    return _package(path, _manifest_from_tarball(path), f"{path}:package.json", tarball=True)


def _manifest_from_tarball(path: Path) -> dict[str, Any]:
    import tarfile  # here, not at module level: importing the plugin stays cheap for every gryt command

    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:
                parts = [p for p in member.name.split("/") if p not in ("", ".")]
                if len(parts) == 2 and parts[1] == "package.json" and member.isfile():
                    if member.size > MAX_MANIFEST_BYTES:
                        raise PackageError(f"{path}: package.json is larger than {MAX_MANIFEST_BYTES} bytes")
                    data = archive.extractfile(member)
                    if data is not None:
                        with data:
                            return _parse(data.read(), f"{path}:{member.name}")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise PackageError(f"{path} is not a readable npm pack tarball (.tgz): {exc}") from None
    raise PackageError(f"{path} holds no package.json in its top folder; make it with `npm pack`")


def _parse(data: bytes, where: str) -> dict[str, Any]:
    try:
        manifest = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(f"{where} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise PackageError(f"{where} is not a JSON object")
    return manifest


def _package(path: Path, manifest: dict[str, Any], where: str, *, tarball: bool) -> NpmPackage:
    name, version = manifest.get("name"), manifest.get("version")
    if not isinstance(name, str) or not name:
        raise PackageError(f"{where} has no name")
    if name != name.strip() or any(c.isspace() for c in name):
        raise PackageError(f"{where}: {name!r} is not a valid npm package name")
    if not isinstance(version, str) or not version.strip():
        raise PackageError(f"{where} has no version")
    if manifest.get("private") is True:
        raise PackageError(f'{where} has "private": true, so npm refuses to publish {name}')
    return NpmPackage(path=path, name=name, version=version.strip(), tarball=tarball)
