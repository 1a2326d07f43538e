"""The real `gryt` executable of this venv as a subprocess, in a small, predictable environment: what the
CLI, cache, report, CI fan-out and history tests run to see gryt as a user does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GRYT = str(Path(sys.executable).parent / "gryt")


def base_env(home: Path) -> dict[str, str]:
    """No colours, a wide terminal, the venv's python and the system tools on PATH, `home` as HOME."""
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "NO_COLOR": "1",
        "LANG": "C.UTF-8",
        "COLUMNS": "160",
    }


@dataclass
class Done:
    """What one gryt invocation produced."""

    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_gryt(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    timeout: float = 120,
) -> Done:
    """`gryt ARGS` in `cwd`, in `base_env(home or cwd)` plus `env`."""
    done = subprocess.run(
        [GRYT, *args],
        cwd=cwd,
        env={**base_env(home or cwd), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Done(done.returncode, done.stdout, done.stderr)
