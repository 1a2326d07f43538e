"""gryt plugin: container registry login (`DockerRegistryAuth`, auth type `docker-registry`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["DockerRegistryAuth", "__version__"]


def __getattr__(name: str) -> Any:
    """Import the auth class lazily so loading the plugin stays cheap."""
    if name == "DockerRegistryAuth":
        from gryt_auth_docker.auth import DockerRegistryAuth

        return DockerRegistryAuth
    raise AttributeError(f"module 'gryt_auth_docker' has no attribute {name!r}")


if TYPE_CHECKING:
    from gryt_auth_docker.auth import DockerRegistryAuth
