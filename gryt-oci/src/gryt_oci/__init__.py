"""gryt plugin: OCI registry push (destinations `oci` and `oci-image`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["OciArtifactDestination", "OciImageDestination", "__version__"]


def __getattr__(name: str) -> Any:
    """Import the destination classes lazily so loading the plugin stays cheap."""
    if name == "OciArtifactDestination":
        from gryt_oci.artifact import OciArtifactDestination

        return OciArtifactDestination
    if name == "OciImageDestination":
        from gryt_oci.image import OciImageDestination

        return OciImageDestination
    raise AttributeError(f"module 'gryt_oci' has no attribute {name!r}")


if TYPE_CHECKING:
    from gryt_oci.artifact import OciArtifactDestination
    from gryt_oci.image import OciImageDestination
