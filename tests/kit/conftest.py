"""The kit's end-to-end environment: scaffolds of every kind, wheels and ONE fresh venv per test session.

Under pytest-xdist the workers share one build (a file lock in the session's common temp folder), so the
wheels and the venv are made once per `pytest` run whatever the number of workers.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gryt.scaffold import SCAFFOLD_KINDS, create_plugin

REPO = Path(__file__).resolve().parents[2]
CORE = REPO / "gryt-core"
WEBHOOK = REPO / "examples" / "plugins" / "gryt-webhook"
DEPENDENCIES = ["pluggy", "typer", "rich", "importlib-metadata", "packaging", "pytest"]


@dataclass(frozen=True)
class Kit:
    """The built environment: `scaffolds[kind]` project folders and the venv they are installed in."""

    root: Path

    @property
    def venv(self) -> Path:
        return self.root / "venv"

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def scaffold(self, kind: str) -> Path:
        return self.root / "scaffolds" / f"gryt-e2e-{kind}"

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


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def _build(root: Path) -> None:
    """Scaffold each kind, build every wheel once, install them into one clean venv (no index)."""
    for kind in SCAFFOLD_KINDS:
        create_plugin(f"gryt-e2e-{kind}", kind, root / "scaffolds")
    wheels = root / "wheels"
    pip = [sys.executable, "-m", "pip"]
    projects = [str(CORE), str(WEBHOOK), *(str(p) for p in sorted((root / "scaffolds").iterdir()))]
    _run([*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), *projects])
    [core_wheel] = wheels.glob("gryt_core-*.whl")
    # The core's dependency wheels (and pytest for the scaffolds' own tests), made once.
    _run([*pip, "wheel", "-q", "-w", str(wheels), str(core_wheel), *DEPENDENCIES])
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    names = ["gryt-core", "gryt-webhook", "pytest", *(f"gryt-e2e-{kind}" for kind in SCAFFOLD_KINDS)]
    python = str(venv / "bin" / "python")
    _run([*pip, "--python", python, "install", "-q", "--no-index", "--find-links", str(wheels), *names])


@pytest.fixture(scope="session")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kit]:
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by every worker of this run
    root = base / "gryt-kit-e2e"
    with (base / "gryt-kit-e2e.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (root / "ready").exists():
                if root.exists():
                    shutil.rmtree(root)  # a previous worker's failed attempt
                root.mkdir()
                _build(root)
                (root / "ready").write_text("ok")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    yield Kit(root)
