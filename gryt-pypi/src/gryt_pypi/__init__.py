"""gryt plugin: package index upload (destination `pypi`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["PypiDestination", "__version__"]


def __getattr__(name: str) -> Any:
    """Import the destination classes lazily so loading the plugin stays cheap."""
    if name == "PypiDestination":
        from gryt_pypi.destination import PypiDestination

        return PypiDestination
    raise AttributeError(f"module 'gryt_pypi' has no attribute {name!r}")


if TYPE_CHECKING:
    from gryt_pypi.destination import PypiDestination
