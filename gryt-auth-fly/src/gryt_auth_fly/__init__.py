"""gryt plugin: Fly.io authentication (FlyAuth)."""

from __future__ import annotations
