"""Wheels and fresh venvs for the end-to-end tests, built once per pytest run whatever the number of workers.

The gryt-core wheel and a wheelhouse of its dependencies are made once; each test area gets its own clean
venv installed from them without an index, so one area's plugins never show up in another's plugin list.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "gryt-core"
WHEELHOUSE_EXTRAS = ("pytest",)
"""Wheels made besides gryt-core's dependencies: pytest runs plugins' own test suites inside a venv."""
PIP = (sys.executable, "-m", "pip")


def _run(*cmd: str) -> None:
    """Run one build command; a failure raises with its output."""
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


@dataclass(frozen=True)
class SharedBuilds:
    """Builds under `root`, a folder shared by every xdist worker of one pytest run and removed at its end."""

    root: Path

    def once(self, name: str, build: Callable[[Path], None]) -> Path:
        """Folder `root/name`, filled by `build` in the first worker that asks while the others wait."""
        folder = self.root / name
        with (self.root / f"{name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
            if not (folder / ".ready").exists():
                if folder.exists():
                    shutil.rmtree(folder)  # a failed attempt: build again, to report its error here too
                folder.mkdir()
                build(folder)
                (folder / ".ready").touch()
        return folder

    def wheelhouse(self) -> Path:
        """The gryt-core wheel and wheels of its dependencies and of WHEELHOUSE_EXTRAS."""
        return self.once(
            "wheelhouse",
            lambda folder: _run(
                *PIP, "wheel", "-q", "--no-build-isolation", "-w", str(folder), str(CORE), *WHEELHOUSE_EXTRAS
            ),
        )

    def venv(self, name: str, projects: Sequence[Path], requirements: Sequence[str] = ()) -> Path:
        """A clean venv holding gryt-core, the wheels of `projects` and `requirements` (from the wheelhouse)."""

        def build(folder: Path) -> None:
            wheels = folder / "wheels"
            # The projects' wheels are built before waiting for the wheelhouse another worker may be making.
            _run(
                *PIP,
                "wheel",
                "-q",
                "--no-deps",
                "--no-build-isolation",
                "-w",
                str(wheels),
                *map(str, projects),
            )
            venv = folder / "venv"
            _run(sys.executable, "-m", "venv", "--without-pip", str(venv))
            # --no-compile: Python writes byte code for what the tests import; compiling all of rich and
            # pygments up front would cost seconds per venv.
            _run(
                *PIP,
                "--python",
                str(venv / "bin" / "python"),
                "install",
                "-q",
                "--no-compile",
                "--no-index",
                "--find-links",
                str(self.wheelhouse()),
                "gryt-core",
                *requirements,
                *map(str, sorted(wheels.glob("*.whl"))),
            )

        return self.once(name, build) / "venv"
