"""gryt plugin: Container registry login (DockerRegistryAuth)."""

from __future__ import annotations
