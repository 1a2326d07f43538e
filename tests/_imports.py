"""Which modules a fresh interpreter of this venv loads: for the tests that keep plugin modules cheap to
import (gryt imports every installed plugin whenever it loads a pipeline)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable


def loaded(code: str, modules: Iterable[str]) -> list[str]:
    """Those of `modules` that running `code` in a fresh interpreter imported, sorted."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {list(modules)!r} if m in sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    names: list[str] = json.loads(done.stdout.splitlines()[-1])
    return names
