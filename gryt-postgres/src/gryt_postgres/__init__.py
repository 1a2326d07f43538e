"""gryt plugin: the run history in a shared PostgreSQL database (history type `postgresql`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["PostgresHistory", "__version__"]


def __getattr__(name: str) -> Any:
    """Import the backend lazily so loading the plugin stays cheap (no psycopg import)."""
    if name == "PostgresHistory":
        from gryt_postgres.history import PostgresHistory

        return PostgresHistory
    raise AttributeError(f"module 'gryt_postgres' has no attribute {name!r}")


if TYPE_CHECKING:
    from gryt_postgres.history import PostgresHistory
