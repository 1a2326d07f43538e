"""Hook implementations of gryt-auth-docker (filled in by its issue)."""

from __future__ import annotations
