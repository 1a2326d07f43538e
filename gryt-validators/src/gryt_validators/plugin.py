"""Hook implementations of gryt-validators (filled in by its issue)."""

from __future__ import annotations
