"""OciImageDestination: an image a step built (OCI layout folder or tar, or `docker save` archive) pushed
to `repository` under one or several tags, without a container daemon.

Every blob first, then the manifests an index refers to (by digest), then the top manifest under each
tag: an interrupted or failed push leaves no tag on an incomplete image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from gryt.config import ConfigKey
from gryt.errors import ConfigError
from gryt.status import ERROR
from gryt_oci.base import CONNECTION_KEYS, REPOSITORY_KEY, RegistryDestination, error_items
from gryt_oci.reference import check_tag


class OciImageDestination(RegistryDestination):
    """Push one image (an OCI image layout or a `docker save` archive) under `tags`."""

    name: ClassVar[str] = "oci-image"
    summary: ClassVar[str] = "Push an image a step built (OCI layout or docker save archive) to a registry"
    config_keys: ClassVar[tuple[ConfigKey, ...] | None] = (
        REPOSITORY_KEY,
        ConfigKey(
            "tags",
            list,
            None,
            'tags to push the image under, e.g. ["1.2.0", "latest"]',
            required=True,
            items=str,
            non_empty=True,
        ),
        ConfigKey(
            "ref_name",
            str,
            None,
            "which image of a layout or archive holding several (its org.opencontainers.image.ref.name or RepoTags entry)",
            non_empty=True,
        ),
        *CONNECTION_KEYS,
    )

    def __init__(self, id: str, config: dict[str, Any] | None = None) -> None:
        super().__init__(id, config)
        tags = [str(t) for t in self.config["tags"]]
        if not tags:
            raise ConfigError(f"{id}.tags: give at least one tag")
        self.tags = [check_tag(tag, f"{id}.tags[{i}]") for i, tag in enumerate(tags)]
        if len(set(self.tags)) != len(self.tags):
            raise ConfigError(f"{id}.tags: a tag is listed twice")

    def publish(self, artifacts: list[Path]) -> list[dict[str, Any]]:
        import tarfile

        from gryt_oci.credentials import CredentialsError
        from gryt_oci.layout import LayoutError, open_image
        from gryt_oci.transport import RegistryError

        context = self.run_context()
        paths = [Path(a) for a in artifacts]
        if len(paths) != 1:
            message = (
                f"oci-image pushes one image, but {len(paths)} artifacts were selected: "
                "narrow this destination's artifacts to the layout folder or archive"
            )
            return [{"artifact": str(p), "status": ERROR, "error": message} for p in paths]
        path = paths[0]
        if not path.exists():
            return error_items(paths, f"artifact not found: {path}", context)
        try:
            with open_image(path, self.config["ref_name"]) as image:
                client = self.connect(context)
                uploaded = sum(client.push_blob(blob) for blob in image.blobs.values())
                for child in image.children:
                    client.check_cancel()
                    client.push_manifest(child.digest, child.media_type, child.body)
                client.check_cancel()
                digest = image.top.digest
                for done, tag in enumerate(self.tags):
                    try:
                        client.push_manifest(tag, image.top.media_type, image.top.body)
                    except RegistryError as exc:
                        if done:  # the earlier tags do point at the whole image
                            raise RegistryError(
                                f"{exc}; tagged already: {', '.join(self.tags[:done])}"
                            ) from None
                        raise
        except (RegistryError, CredentialsError, LayoutError) as exc:
            return error_items(paths, str(exc), context)
        except (OSError, tarfile.TarError) as exc:
            return error_items(paths, f"cannot read {path}: {exc}", context)
        return [
            self.success(
                path,
                client,
                digest,
                self.tags,
                media_type=image.top.media_type,
                source=image.kind,
                blobs=len(image.blobs),
                uploaded=uploaded,
                bytes_uploaded=client.pushed_bytes,
            )
        ]
