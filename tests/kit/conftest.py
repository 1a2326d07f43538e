"""The kit's end-to-end environment: a scaffold of every kind and gryt-webhook, installed with gryt-core into
one fresh venv made once per pytest run (shared by xdist workers, see tests/_venv.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from _venv import SharedBuilds

from gryt.scaffold import SCAFFOLD_KINDS, create_plugin

WEBHOOK = Path(__file__).resolve().parents[2] / "examples" / "plugins" / "gryt-webhook"


@dataclass(frozen=True)
class Kit:
    """The built environment: the venv and the scaffolded project folders installed in it."""

    venv: Path
    scaffolds: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def scaffold(self, kind: str) -> Path:
        return self.scaffolds / f"gryt-e2e-{kind}"

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        """A clean environment for the venv: its bin first on PATH, no gryt or Python variables."""
        return {
            "PATH": f"{self.bin}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
            "COLUMNS": "200",
            **extra,
        }


def _scaffold_every_kind(folder: Path) -> None:
    for kind in SCAFFOLD_KINDS:
        create_plugin(f"gryt-e2e-{kind}", kind, folder)


@pytest.fixture(scope="session")
def kit(shared_builds: SharedBuilds) -> Kit:
    scaffolds = shared_builds.once("kit-scaffolds", _scaffold_every_kind)
    projects = [WEBHOOK, *(scaffolds / f"gryt-e2e-{kind}" for kind in SCAFFOLD_KINDS)]
    return Kit(shared_builds.venv("kit", projects, ["pytest"]), scaffolds)
