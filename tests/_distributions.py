"""The first-party distributions: the Makefile's PACKAGES, the one list `make` installs, tests and builds
(tests/docs/test_install.py checks that every `gryt-*` project of the repository is in it)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _makefile_packages() -> tuple[str, ...]:
    for line in (REPO / "Makefile").read_text(encoding="utf-8").splitlines():
        if line.startswith("PACKAGES := "):
            return tuple(line.split(":=", 1)[1].split())
    raise RuntimeError("Makefile: no `PACKAGES := ...` line")


DISTRIBUTIONS = _makefile_packages()
"""gryt-core first, then the plugin distributions, as the Makefile lists them."""
PLUGIN_DISTRIBUTIONS = tuple(name for name in DISTRIBUTIONS if name != "gryt-core")


def import_name(distribution: str) -> str:
    """The package a distribution installs (`gryt` for gryt-core, `gryt_npm` for gryt-npm)."""
    return "gryt" if distribution == "gryt-core" else distribution.replace("-", "_")


def source_folder(distribution: str) -> str:
    """The folder holding a distribution's package, relative to the repository root."""
    return f"{distribution}/src/gryt" if distribution == "gryt-core" else f"{distribution}/src"
