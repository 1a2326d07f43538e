"""Hook implementations of gryt-oci: registers destination types `oci`, `oci-image` and cache type `oci`."""

from __future__ import annotations

from gryt import hookimpl
from gryt.hookspecs import Register


@hookimpl
def gryt_register_destinations(register: Register) -> None:
    from gryt_oci.artifact import OciArtifactDestination
    from gryt_oci.image import OciImageDestination

    register(OciArtifactDestination)
    register(OciImageDestination)


@hookimpl
def gryt_register_caches(register: Register) -> None:
    from gryt_oci.cache import OciCache

    register(OciCache)
