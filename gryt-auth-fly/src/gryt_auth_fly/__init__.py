"""gryt plugin: Fly.io authentication (FlyAuth, type `fly`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["FlyAuth", "__version__"]


def __getattr__(name: str) -> Any:
    """`from gryt_auth_fly import FlyAuth` without importing it when only the plugin module loads."""
    if name == "FlyAuth":
        from gryt_auth_fly.auth import FlyAuth

        return FlyAuth
    raise AttributeError(f"module 'gryt_auth_fly' has no attribute {name!r}")


if TYPE_CHECKING:
    from gryt_auth_fly.auth import FlyAuth
