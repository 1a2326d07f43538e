"""A real PostgreSQL server for the tests, started once per test session (per xdist worker).

`postgres_server` runs `initdb` and `pg_ctl` from PostgreSQL's Debian packages (`.ci/install-postgresql.sh`)
in a temp folder, as the unprivileged user `nobody` when the tests run as root (the server refuses root).
It listens on a free port of 127.0.0.1 (its unix socket stays in the temp folder) and asks TCP clients
for a password (scram-sha-256), so gryt must get it through libpq's means. Each test takes a database of
its own with `create_database()` (xdist workers and tests never share rows); `stop()` and `start()` take
the server away and back on the same port.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from _servers.registry import free_port

SUPERUSER = "gryt"


def _bin_dir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


@dataclass
class PostgresServer:
    """A running server: `port`, the superuser's `password`, and helpers to make databases and roles."""

    bin_dir: Path
    folder: Path
    port: int
    password: str
    as_user: list[str]

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def url(self, database: str, user: str = SUPERUSER) -> str:
        """A URL without password, as a project config holds it."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def env(self, password: str | None = None) -> dict[str, str]:
        """The environment of a process that reaches the server through PGPASSWORD."""
        return {**os.environ, "PGPASSWORD": password or self.password}

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run `sql` as the superuser over the unix socket; its output (unaligned, tuples only)."""
        done = subprocess.run(
            [
                *self.as_user,
                str(self.bin_dir / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.folder),
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-d",
                database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.folder,
        )
        if done.returncode != 0:
            raise AssertionError(f"psql failed: {done.stderr}")
        return done.stdout

    def create_database(self) -> str:
        """A new empty database; its name."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.psql(f"CREATE DATABASE {name}")
        return name

    def create_role(self, name: str, password: str) -> None:
        self.psql(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args],
            check=True,
            capture_output=True,
            cwd=self.folder,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._ctl("-o", options, "-l", str(self.folder / "server.log"), "-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (.ci/install-postgresql.sh installs it)")
    folder = Path(tempfile.mkdtemp(prefix="gryt-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "nobody", "--"]
        shutil.chown(folder, "nobody", "nogroup")
    folder.chmod(0o755)
    password = "pgpw-" + secrets.token_urlsafe(18)
    pwfile = folder / "pwfile"
    pwfile.write_text(password + "\n")
    if as_user:
        shutil.chown(pwfile, "nobody", "nogroup")
    subprocess.run(
        [
            *as_user,
            str(bin_dir / "initdb"),
            "-D",
            str(folder / "data"),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        check=True,
        capture_output=True,
        cwd=folder,
    )
    pwfile.unlink()
    server = PostgresServer(bin_dir, folder, free_port(), password, as_user)
    server.start()
    try:
        yield server
    finally:
        if (server.data_dir / "postmaster.pid").exists():  # a failed test may have left it stopped
            server._ctl("-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)
