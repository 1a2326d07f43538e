"""gryt-auth-docker test support: the real registries come from `_servers.registry` (fixtures
`basic_registry` and `bearer_registry`, made available to every test by tests/conftest.py); `user_env`
isolates HOME, the Docker config and the temp dir."""

from __future__ import annotations

import base64
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from _servers.registry import USERNAME, Registry, free_port

__all__ = ["USERNAME", "Registry", "UserEnv", "free_port", "user_env"]


@dataclass
class UserEnv:
    """An isolated user: HOME, the default Docker config dir and the temp dir all live under tmp_path."""

    home: Path
    docker_dir: Path
    tmp: Path

    def files(self) -> list[Path]:
        """Every regular file under the user's home and the temp dir (symlinks are not followed)."""
        found: list[Path] = []
        for root in (self.home, self.tmp):
            for dirpath, _dirs, names in os.walk(root):
                found += [Path(dirpath, n) for n in names if not Path(dirpath, n).is_symlink()]
        return found

    def assert_no_credential(self, username: str, token: str) -> None:
        needles = [token.encode(), base64.b64encode(f"{username}:{token}".encode())]
        for path in self.files():
            data = path.read_bytes()
            for needle in needles:
                assert needle not in data, f"credential left in {path}"


@pytest.fixture
def user_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> UserEnv:
    home = tmp_path / "home"
    tmp = tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("DOCKER_USERNAME", raising=False)
    monkeypatch.delenv("DOCKER_TOKEN", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return UserEnv(home=home, docker_dir=home / ".docker", tmp=tmp)
