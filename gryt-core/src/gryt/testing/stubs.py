"""Stub executables: a fake program on PATH that records its calls (`stub_executable`).

PYTEST_DONT_REWRITE: test modules import `gryt.testing` before pytest registers it; its checks raise
AssertionError with their own messages and need no assertion rewriting.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Stub:
    """A fake program on PATH; every call appends its arguments and working directory to `log`."""

    name: str
    path: Path
    log: Path

    @property
    def calls(self) -> list[list[str]]:
        """The arguments of every call so far (without the program name)."""
        return [call["args"] for call in self.records]

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every call so far as `{"args": [...], "cwd": "..."}`."""
        if not self.log.exists():
            return []
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line]


_STUB_SCRIPT = """\
import json, os, sys
with open({log!r}, "a", encoding="utf-8") as log:
    log.write(json.dumps({{"args": sys.argv[1:], "cwd": os.getcwd()}}) + "\\n")
sys.stdout.write({stdout!r})
sys.stderr.write({stderr!r})
sys.exit({exit_code!r})
"""


@dataclass
class StubFactory:
    """The `stub_executable` fixture: `stub_executable("docker", stdout="ok\\n", exit_code=0)`."""

    bin_dir: Path
    stubs: dict[str, Stub] = field(default_factory=dict)

    def __call__(self, name: str, *, stdout: str = "", stderr: str = "", exit_code: int = 0) -> Stub:
        if not name or "/" in name or name in {".", ".."}:
            raise ValueError(f"invalid executable name {name!r}")
        log = self.bin_dir / f".{name}.calls.jsonl"
        script = self.bin_dir / f".{name}.py"
        script.write_text(
            _STUB_SCRIPT.format(log=str(log), stdout=stdout, stderr=stderr, exit_code=exit_code),
            encoding="utf-8",
        )
        path = self.bin_dir / name
        path.write_text(
            f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(script))} "$@"\n',
            encoding="utf-8",
        )
        path.chmod(0o755)
        stub = Stub(name=name, path=path, log=log)
        self.stubs[name] = stub
        return stub


@pytest.fixture
def stub_executable(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> StubFactory:
    """Create fake programs in a temp folder that is put first on PATH for the test."""
    bin_dir = tmp_path_factory.mktemp("stub-bin")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return StubFactory(bin_dir)
