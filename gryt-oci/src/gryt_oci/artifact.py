"""OciArtifactDestination: the selected files as one OCI artifact, the way `oras push` makes it.

One layer per file, named by its `org.opencontainers.image.title` annotation (what `oras pull` names the
file after), the empty config `{}` (`application/vnd.oci.empty.v1+json`) and the manifest's
`artifactType`. Every blob is pushed before the manifest, which is pushed by tag last: an interrupted
or failed push never leaves the tag on a partial artifact.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, ClassVar

from gryt.config import ConfigKey
from gryt.status import ERROR
from gryt_oci.base import CONNECTION_KEYS, OCI_MANIFEST, REPOSITORY_KEY, RegistryDestination, error_items
from gryt_oci.reference import check_tag

DEFAULT_ARTIFACT_TYPE = "application/vnd.gryt.artifact"
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = b"{}"
TITLE = "org.opencontainers.image.title"
MEDIA_TYPES = {
    ".json": "application/json",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".tar": "application/x-tar",
    ".tgz": "application/gzip",
    ".gz": "application/gzip",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".jar": "application/java-archive",
    ".pdf": "application/pdf",
    ".wasm": "application/wasm",
}
"""Layer media types by file extension; anything else is `application/octet-stream`."""


def media_type_for(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


def file_digest(path: Path) -> tuple[str, int]:
    """The `sha256:` digest and size of a file, read in blocks."""
    import hashlib  # not at module level: registering the plugin, on every `gryt` command, needs no hashing

    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
            size += len(block)
    return "sha256:" + hasher.hexdigest(), size


class OciArtifactDestination(RegistryDestination):
    """Push the selected files to `repository:tag` as one OCI artifact that `oras pull` gets back."""

    name: ClassVar[str] = "oci"
    summary: ClassVar[str] = "Push files as one OCI artifact (as oras push does) to a container registry"
    config_keys: ClassVar[tuple[ConfigKey, ...] | None] = (
        REPOSITORY_KEY,
        ConfigKey(
            "tag", str, None, "tag of the artifact, e.g. the release version", required=True, non_empty=True
        ),
        ConfigKey("artifact_type", str, DEFAULT_ARTIFACT_TYPE, "the manifest's artifactType", non_empty=True),
        ConfigKey("media_type", str, None, "media type of every file's layer (default: by file extension)"),
        ConfigKey(
            "annotations",
            dict,
            {},
            "annotations of the manifest, e.g. org.opencontainers.image.source",
            items=str,
        ),
        *CONNECTION_KEYS,
    )

    def __init__(self, id: str, config: dict[str, Any] | None = None) -> None:
        super().__init__(id, config)
        self.tag = check_tag(str(self.config["tag"]), f"{id}.tag")

    def publish(self, artifacts: list[Path]) -> list[dict[str, Any]]:
        from gryt_oci.client import Blob
        from gryt_oci.credentials import CredentialsError
        from gryt_oci.transport import RegistryError

        context = self.run_context()
        files = [Path(a) for a in artifacts]
        problems = _problems(files)
        if problems:
            first = next(iter(problems.values()))
            return [
                {"artifact": str(f), "status": ERROR, "error": problems.get(f, f"not pushed: {first}")}
                for f in files
            ]
        try:
            layers = []
            for path in files:
                digest, size = file_digest(path)
                layers.append(
                    Blob(digest, size, self.config["media_type"] or media_type_for(path), _opener(path))
                )
        except OSError as exc:
            return error_items(files, f"cannot read {exc.filename}: {exc.strerror or exc}", context)
        config = Blob.of_bytes(EMPTY_CONFIG, EMPTY_MEDIA_TYPE)
        manifest: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": self.config["artifact_type"],
            "config": config.descriptor(),
            "layers": [blob.descriptor({TITLE: path.name}) for blob, path in zip(layers, files, strict=True)],
        }
        if self.config["annotations"]:
            manifest["annotations"] = {str(k): str(v) for k, v in self.config["annotations"].items()}
        body = json.dumps(manifest, separators=(",", ":")).encode()
        try:
            client = self.connect(context)
            for blob in [config, *layers]:
                client.push_blob(blob)
            client.check_cancel()
            digest = client.push_manifest(self.tag, OCI_MANIFEST, body)
        except (RegistryError, CredentialsError) as exc:
            return error_items(files, str(exc), context)
        return [
            self.success(
                path,
                client,
                digest,
                [self.tag],
                file=path.name,
                layer_digest=blob.digest,
                size=blob.size,
                artifact_type=self.config["artifact_type"],
            )
            for path, blob in zip(files, layers, strict=True)
        ]


def _problems(files: list[Path]) -> dict[Path, str]:
    """Why files cannot go into one artifact: missing, a folder, or a name another file has too."""
    problems: dict[Path, str] = {}
    seen: dict[str, Path] = {}
    for path in files:
        if not path.exists():
            problems[path] = f"artifact not found: {path}"
        elif path.is_dir():
            problems[path] = (
                f"{path} is a folder: oci pushes files (archive it in a step, or use oci-image for an image layout)"
            )
        elif path.name in seen:
            problems[path] = f"{seen[path.name]} and {path} would both be named {path.name} in the artifact"
        else:
            seen[path.name] = path
    return problems


def _opener(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: path.open("rb")
