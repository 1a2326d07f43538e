"""Hook implementations of gryt-auth-fly (filled in by its issue)."""

from __future__ import annotations
