"""gryt plugin: Environment validators (env-vars, tools, files, python, git)."""

from __future__ import annotations
