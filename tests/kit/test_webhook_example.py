"""The gryt-webhook example: its own tests pass against this checkout (real pytest, real loopback server)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plugins" / "gryt-webhook"


def test_example_is_a_complete_distribution():
    meta = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "gryt-webhook"
    assert meta["project"]["entry-points"]["gryt"] == {"webhook": "gryt_webhook.plugin"}
    assert any(dep.startswith("gryt-core>=") and "<" in dep for dep in meta["project"]["dependencies"])
    for path in (
        "README.md",
        "src/gryt_webhook/plugin.py",
        "src/gryt_webhook/py.typed",
        "tests/test_webhook.py",
    ):
        assert (EXAMPLE / path).is_file(), path


def test_example_tests_pass(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GRYT_"))}
    env["PYTHONPATH"] = str(EXAMPLE / "src")
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert " passed" in completed.stdout and "failed" not in completed.stdout
