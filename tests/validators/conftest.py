"""Fixtures for gryt-validators tests: stub executables on PATH and real git repositories."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def stub_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], Path]:
    """Return `make(name, body)`: writes an executable `#!/bin/sh` script into a dir at the front of PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")

    def make(name: str, body: str) -> Path:
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return script

    return make


def process_alive(pid: int) -> bool:
    """Whether `pid` is a live (not zombie) process."""
    status = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            state = status.read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        return state not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_dead(pid: int, within: float = 5.0) -> bool:
    """Poll until `pid` is gone (a killed orphan is reaped asynchronously); False if still alive."""
    deadline = time.monotonic() + within
    while process_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def wait_dead() -> Callable[..., bool]:
    """`wait_dead(pid)`: True once the process is gone (not running, not a zombie)."""
    return _wait_dead


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Isolate git from the user's and system's config and from any outer repository's variables."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CEILING_DIRECTORIES"):
        monkeypatch.delenv(var, raising=False)


def _git(repo: Path, *args: str) -> str:
    """Run git in `repo`, failing the test on error; returns stdout."""
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"git {' '.join(args)} failed: {result.stderr}"
    return result.stdout


@pytest.fixture
def git(git_env: None) -> Callable[..., str]:
    """`git(repo, *args)`: run git in `repo` (isolated config), failing the test on error."""
    return _git


@pytest.fixture
def make_repo(tmp_path: Path, git_env: None) -> Callable[..., Path]:
    """Return `make(name="repo", commit=True)`: a real git repo on branch main with one commit."""

    def make(name: str = "repo", commit: bool = True) -> Path:
        repo = tmp_path / name
        repo.mkdir()
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "config", "user.name", "gryt tests")
        _git(repo, "config", "user.email", "tests@example.invalid")
        _git(repo, "config", "commit.gpgsign", "false")
        if commit:
            (repo / "README.md").write_text("hello\n")
            _git(repo, "add", "README.md")
            _git(repo, "commit", "-q", "-m", "initial")
        return repo

    return make
