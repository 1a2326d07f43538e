"""gryt plugin: npm registry publish (destination `npm`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["NpmDestination", "__version__"]


def __getattr__(name: str) -> Any:
    """Import the destination classes lazily so loading the plugin stays cheap."""
    if name == "NpmDestination":
        from gryt_npm.destination import NpmDestination

        return NpmDestination
    raise AttributeError(f"module 'gryt_npm' has no attribute {name!r}")


if TYPE_CHECKING:
    from gryt_npm.destination import NpmDestination
