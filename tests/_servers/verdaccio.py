"""A real npm registry for the tests: Verdaccio on 127.0.0.1, started once per test session (per xdist
worker) by the `npm_registry` fixture.

`.ci/install-verdaccio.sh` installs the pinned Verdaccio into `${XDG_CACHE_HOME:-~/.cache}/gryt-ci/
verdaccio-<version>`; `GRYT_VERDACCIO` may name another `verdaccio` executable. Without either, the
fixture skips the test with a one-line reason naming the script.

The fixture returns an `NpmRegistry`:

- `url`: the registry URL with a trailing slash, `http://127.0.0.1:PORT/` (a destination's `registry`,
  npm's `--registry`);
- `host`: `127.0.0.1:PORT`;
- `username`, `token`: a user created through the registry's `PUT /-/user/org.couchdb.user:<name>`
  and the npm auth token it returned (what `NPM_TOKEN` holds for the `npm` destination); the token is
  distinctive enough to grep for in files;
- `storage`: the folder holding what was published;
- `npm_env(tmp)`: an environment for running `npm` as a client of this registry with nothing of the
  user's npm configuration (`npm_config_userconfig`/`globalconfig` empty files, a private cache).

Verdaccio's config: htpasswd auth whose `max_users` allows creating the user, no uplinks (no internet),
every package readable by anyone and publishable by authenticated users.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = ".ci/install-verdaccio.sh"
USERNAME = "gryt-ci"


def verdaccio_version() -> str:
    """The Verdaccio version pinned in `.ci/verdaccio/package.json`."""
    manifest = json.loads((REPO / ".ci" / "verdaccio" / "package.json").read_text())
    return str(manifest["dependencies"]["verdaccio"])


def find_verdaccio() -> Path | None:
    """`GRYT_VERDACCIO`, else the executable the install script put in the cache folder, else None."""
    override = os.environ.get("GRYT_VERDACCIO")
    if override:
        return Path(override)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    binary = cache / "gryt-ci" / f"verdaccio-{verdaccio_version()}" / "node_modules" / ".bin" / "verdaccio"
    return binary if binary.is_file() else None


def require_verdaccio() -> Path:
    """The verdaccio executable, or skip the test saying how to install it (and node/npm, which it needs)."""
    binary = find_verdaccio()
    if binary is None:
        pytest.skip(f"Verdaccio is not installed (run {INSTALL_SCRIPT}, or set GRYT_VERDACCIO)")
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip(f"node and npm are not on PATH ({INSTALL_SCRIPT} installs them)")
    return binary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class NpmRegistry:
    """A running Verdaccio: see the module docstring."""

    url: str
    host: str
    username: str
    token: str
    storage: Path
    process: subprocess.Popen[bytes]
    log: Path

    def npm_env(self, tmp: Path) -> dict[str, str]:
        """The environment for an npm client of this registry, isolated from the user's npm config."""
        tmp.mkdir(parents=True, exist_ok=True)
        user, world = tmp / "empty-user-npmrc", tmp / "empty-global-npmrc"
        user.write_text("")
        world.write_text("")
        env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
        env.update(
            {
                "npm_config_userconfig": str(user),
                "npm_config_globalconfig": str(world),
                "npm_config_cache": str(tmp / "npm-cache"),
                "npm_config_registry": self.url,
                "npm_config_update_notifier": "false",
                "npm_config_audit": "false",
                "npm_config_fund": "false",
                "npm_config_fetch_retries": "0",
            }
        )
        return env


def _config(root: Path, port: int) -> Path:
    """Verdaccio's config.yaml; JSON is valid YAML, so no YAML library is needed."""
    config = {
        "storage": str(root / "storage"),
        "auth": {"htpasswd": {"file": str(root / "htpasswd"), "max_users": 100}},
        "uplinks": {},
        "packages": {
            "@*/*": {"access": "$all", "publish": "$authenticated", "unpublish": "$authenticated"},
            "**": {"access": "$all", "publish": "$authenticated", "unpublish": "$authenticated"},
        },
        "listen": f"127.0.0.1:{port}",
        "log": {"type": "stdout", "format": "pretty", "level": "warn"},
        "web": {"enable": False},
    }
    path = root / "config.yaml"
    path.write_text(json.dumps(config))
    return path


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            urllib.request.urlopen(f"{url}-/ping", timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def _add_user(url: str, username: str, password: str) -> str:
    """Create `username` through the CouchDB-style endpoint npm's `adduser` uses; returns the token."""
    body = json.dumps({"name": username, "password": password}).encode()
    request = urllib.request.Request(
        f"{url}-/user/org.couchdb.user:{username}",
        data=body,
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.load(response)["token"])


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def running_verdaccio(root: Path) -> Iterator[NpmRegistry]:
    """Start Verdaccio with its storage under `root`, create a user, and stop it on exit."""
    binary = require_verdaccio()
    log = root / "verdaccio.log"
    for _attempt in range(3):
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(binary), "--config", str(_config(root, port))],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "NO_COLOR": "1"},
            )
        if _wait_ready(url, process):
            break
        _stop(process)
    else:
        raise RuntimeError(f"Verdaccio did not start: {log.read_text(errors='replace')[-500:]}")
    try:
        token = _add_user(url, USERNAME, "pw-" + secrets.token_urlsafe(16))
        yield NpmRegistry(url, f"127.0.0.1:{port}", USERNAME, token, root / "storage", process, log)
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def npm_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NpmRegistry]:
    """Verdaccio on a free port of 127.0.0.1 with one user and its token (see the module docstring)."""
    with running_verdaccio(tmp_path_factory.mktemp("verdaccio")) as registry:
        yield registry
