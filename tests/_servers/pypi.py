"""Package indexes on 127.0.0.1 for the gryt-pypi tests, started once per test session (per xdist worker).

Session fixtures, each returning a `PackageIndex`:

- `pypi_server`: pypiserver with an htpasswd file (uploads need the password, reads do not); user
  `__token__`, as the public index's upload tokens use.
- `devpi_server`: devpi-server with user `alice` and her non-volatile index `alice/dev` (no mirror of
  another index, offline mode: nothing leaves the machine).

A `PackageIndex` has what a pipeline needs: `upload_url` (the `repository_url` of a `pypi` destination),
`simple_url` (the simple API root, for `pip install --index-url`), `username` and `token` (accepted
credentials; pass the token in the variable named by `token_env_var`, `PYPI_TOKEN` by default).

Helpers: `make_token()`, `write_source(folder, name, version)` (a tiny project) and `build_dists(source,
outdir)` (its wheel and sdist, built with this interpreter's hatchling, offline), `pip_install(index, requirement, venv)` (pip with the index as its only
source, into a fresh venv).

Both servers are Python packages of requirements-dev.txt and run from the test interpreter's environment
(their console scripts next to `sys.executable`); they install and run on Python 3.10 to 3.13.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
DEVPI_USER = "alice"
DEVPI_INDEX = "dev"
TOKEN_USER = "__token__"


def make_token() -> str:
    """A token with distinctive bytes, so a leak is unambiguous when files are searched for it."""
    return "pypi-grytsecret-" + secrets.token_urlsafe(24)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PackageIndex:
    """A running package index (see the module docstring)."""

    kind: str
    upload_url: str
    simple_url: str
    username: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path


def _script(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed next to {sys.executable} (pip install -r requirements-dev.txt)")
    return str(path)


def _wait_ready(process: subprocess.Popen[bytes], url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return True
        except urllib.error.HTTPError as err:
            err.close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _start(argv: list[str], log: Path, ready_url: str, seconds: float) -> subprocess.Popen[bytes] | None:
    with log.open("ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if _wait_ready(process, ready_url, seconds):
        return process
    _stop(process)
    return None


def start_pypiserver(root: Path, token: str) -> PackageIndex:
    """pypiserver on a free port of 127.0.0.1, serving `root/packages`, accepting `__token__`/`token`."""
    server = _script("pypi-server")
    packages = root / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    # An LDAP {SHA} entry: passlib verifies it with hashlib alone (no crypt module, gone in Python 3.13).
    digest = base64.b64encode(hashlib.sha1(token.encode()).digest()).decode("ascii")
    (root / "htpasswd").write_text(f"{TOKEN_USER}:{{SHA}}{digest}\n")
    log = root / "pypiserver.log"
    for _attempt in range(3):
        port = free_port()
        argv = [server, "run", "-p", str(port), "-i", "127.0.0.1", "-P", str(root / "htpasswd")]
        argv += ["-a", "update", "--disable-fallback", str(packages)]
        base = f"http://127.0.0.1:{port}"
        process = _start(argv, log, f"{base}/simple/", 30)
        if process is not None:
            return PackageIndex("pypiserver", f"{base}/", f"{base}/simple/", TOKEN_USER, token, process, log)
    raise RuntimeError(f"pypiserver did not start: {log.read_text(errors='replace')[-1000:]}")


def _devpi_put(url: str, body: dict[str, object], auth: tuple[str, str] | None = None) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    if auth is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    urllib.request.urlopen(request, timeout=30).close()


def start_devpi(root: Path, token: str) -> PackageIndex:
    """devpi-server on a free port of 127.0.0.1 with user `alice` (password `token`) and index `alice/dev`."""
    init, server = _script("devpi-init"), _script("devpi-server")
    data = root / "server"
    log = root / "devpi.log"
    with log.open("ab") as out:
        subprocess.run(
            [init, "--serverdir", str(data), "--no-root-pypi", "--root-passwd", secrets.token_hex(16)],
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=120,
        )
    for _attempt in range(3):
        port = free_port()
        argv = [server, "--serverdir", str(data), "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--offline-mode", "--threads", "4"]
        # hidden options: the default key derivation (argon2, 512 MiB, 16 rounds) costs ~20 s at start-up
        argv += ["--argon2-time-cost", "1", "--argon2-memory-cost", "8192", "--argon2-parallelism", "1"]
        base = f"http://127.0.0.1:{port}"
        process = _start(argv, log, f"{base}/+api", 90)
        if process is None:
            continue
        try:
            _devpi_put(f"{base}/{DEVPI_USER}", {"password": token, "email": "alice@example.invalid"})
            auth = (DEVPI_USER, token)
            _devpi_put(f"{base}/{DEVPI_USER}/{DEVPI_INDEX}", {"bases": [], "volatile": False}, auth)
        except BaseException:
            _stop(process)
            raise
        index = f"{base}/{DEVPI_USER}/{DEVPI_INDEX}/"
        return PackageIndex("devpi", index, f"{index}+simple/", DEVPI_USER, token, process, log)
    raise RuntimeError(f"devpi-server did not start: {log.read_text(errors='replace')[-1000:]}")


@pytest.fixture(scope="session")
def pypi_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    """pypiserver with htpasswd auth: user `__token__` and a fresh token."""
    index = start_pypiserver(tmp_path_factory.mktemp("pypiserver"), make_token())
    yield index
    _stop(index.process)


@pytest.fixture(scope="session")
def devpi_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    """devpi-server with user `alice` (a fresh token as her password) and index `alice/dev`."""
    index = start_devpi(tmp_path_factory.mktemp("devpi"), make_token())
    yield index
    _stop(index.process)


def write_source(folder: Path, name: str, version: str, *, readme: str | None = None) -> Path:
    """The source of a tiny project `name` (module `name` with `__version__`) in `folder`, built by
    hatchling; `readme` is its reStructuredText long description."""
    package = folder / "src" / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(f'__version__ = "{version}"\n')
    long_description = ""
    if readme is not None:
        (folder / "README.rst").write_text(readme)
        long_description = 'readme = {file = "README.rst", content-type = "text/x-rst"}\n'
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\ndescription = "gryt-pypi test project"\n'
        + long_description
    )
    return folder


def build_command(source: Path, outdir: Path) -> list[str]:
    """The command building the wheel and sdist of `source` into `outdir` with this interpreter's `build`
    and hatchling, without an isolated environment (so offline)."""
    return [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(outdir), str(source)]


def build_dists(source: Path, outdir: Path) -> list[Path]:
    """Build the wheel and sdist of `source` into `outdir`; the two files, sorted."""
    subprocess.run(build_command(source, outdir), capture_output=True, check=True, timeout=120)
    return sorted(outdir.iterdir())


def offline_pip_env(home: Path) -> dict[str, str]:
    """An environment in which pip reads no configuration file and no PIP_* variable: the command line
    is its only source of packages."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update({"PIP_CONFIG_FILE": os.devnull, "HOME": str(home), "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    return env


def pip_install(index: PackageIndex, requirement: str, venv: Path) -> subprocess.CompletedProcess[str]:
    """`pip install --index-url <index> requirement` (the wheel, no dependencies) into a new venv at `venv`."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    env = offline_pip_env(venv.parent)
    argv = [
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(venv / "bin" / "python"),
        "install",
        "--no-cache-dir",
    ]
    argv += ["--no-deps", "--only-binary", ":all:", "--index-url", index.simple_url, requirement]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180, check=False)
