"""The environment store, `.gryt/envs/`: one virtual environment per key (interpreter, install arguments,
backend and the content of the files they depend on), built once and reused by every later run.

An environment is built in place (venvs are not relocatable) while its lock file is held; `gryt-env.json`
is written last, so a folder without it is one whose build did not finish (a crash, a kill) and is rebuilt
with a warning. Two runs that need the same environment at once: the second waits for the lock and then
finds it complete. `last-used` is touched on every use, for `gryt envs prune`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gryt.command import CommandResult
from gryt.masking import Masker
from gryt.project import GRYT_DIR
from gryt_python import backends

ENVS_DIR = Path(GRYT_DIR) / "envs"
STAMP = "gryt-env.json"
INTERPRETERS_CACHE = "interpreters.json"
LOCKS = ".locks"
USED = "last-used"
RECREATE_VARIABLE = "GRYT_RECREATE_ENVS"
"""Set to 1 (`true`, `yes`) to rebuild every environment a run uses, once per run."""
LOCK_POLL = 0.1


class BuildError(Exception):
    """Building an environment failed; `output` holds the tool's (masked) output."""

    def __init__(self, message: str, stdout: str = "", stderr: str = "") -> None:
        super().__init__(message)
        self.stdout = stdout
        self.stderr = stderr


class Interrupted(Exception):
    """The run was cancelled while waiting for another run's build of the same environment."""


@dataclass(frozen=True)
class EnvSpec:
    """What an environment is made of. `install` are pip arguments; `files` the paths whose content is part
    of its identity (requirements and lock files); `python` the interpreter's path and `version`."""

    python: str
    version: str
    backend: str
    install: tuple[str, ...]
    files: tuple[str, ...] = ()
    file_digests: tuple[str, ...] = field(default=(), compare=False)

    def key(self) -> str:
        import hashlib  # loads OpenSSL (~3 ms): only when a step looks up its environment

        identity = {
            "python": os.path.realpath(self.python),
            "version": self.version,
            "backend": self.backend,
            "install": list(self.install),
            "files": dict(zip(self.files, self.file_digests, strict=True)),
        }
        text = json.dumps(identity, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]

    def folder_name(self) -> str:
        minor = ".".join(self.version.split(".")[:2])
        return f"py{minor}-{self.key()}"


def file_digests(paths: Sequence[str], cwd: Path, where: str) -> tuple[str, ...]:
    """sha256 of each file (relative paths in `cwd`); BuildError naming a missing one."""
    import hashlib  # as in `EnvSpec.key`

    digests = []
    for name in paths:
        path = cwd / name
        try:
            digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
        except OSError as exc:
            raise BuildError(f"{where}: cannot read {name}: {exc.strerror or exc}") from None
    return tuple(digests)


@dataclass
class Prepared:
    """An environment ready for use: its folder, whether it was reused, the build time, any warning."""

    folder: Path
    spec: EnvSpec
    reused: bool
    duration: float
    warning: str | None = None


def is_complete(folder: Path) -> bool:
    return (folder / STAMP).is_file() and backends.env_python(folder).exists()


def read_stamp(folder: Path) -> dict[str, Any] | None:
    """The description written when the environment was finished, or None (incomplete or unreadable)."""
    try:
        value = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def recreate_requested(env: Mapping[str, str] | None = None) -> bool:
    value = (os.environ if env is None else env).get(RECREATE_VARIABLE, "")
    return value.strip().lower() in ("1", "true", "yes", "on")


@contextlib.contextmanager
def locked(path: Path, cancel: threading.Event | None = None, *, wait: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock on `path` (created); yields False at once when `wait` is off and another
    process holds it. Raises Interrupted when `cancel` is set while waiting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait:
                    yield False
                    return
                if cancel is not None and cancel.wait(LOCK_POLL):
                    raise Interrupted from None
                if cancel is None:
                    time.sleep(LOCK_POLL)
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def touch_used(folder: Path) -> None:
    (folder / USED).touch()


class Store:
    """The environments of one project, under `root` (`.gryt/envs`)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def interpreters_cache(self) -> Path:
        """The file keeping what each interpreter answered when asked its version (`interpreters.probe`)."""
        return self.root / INTERPRETERS_CACHE

    def ensure(
        self,
        spec: EnvSpec,
        *,
        install_args: Sequence[str],
        cwd: Path,
        recreate: bool,
        started: float,
        timeout: float,
        env: Mapping[str, str],
        masker: Masker,
        cancel: threading.Event | None = None,
    ) -> Prepared:
        """The environment for `spec`, reused when complete (unless `recreate`), else built under its lock.

        `started` is when this run began (epoch seconds): with `recreate`, an environment finished after it
        was rebuilt by this same run (another step that shares it) or a concurrent one, and is kept.
        """
        folder = self.root / spec.folder_name()
        self._hide()
        if not recreate and is_complete(folder):
            touch_used(folder)
            return Prepared(folder, spec, True, 0.0)
        with locked(self.root / LOCKS / f"{folder.name}.lock", cancel):
            fresh = is_complete(folder) and (folder / STAMP).stat().st_mtime >= started
            if is_complete(folder) and (not recreate or fresh):
                touch_used(folder)
                return Prepared(folder, spec, True, 0.0)
            warning = None
            if folder.exists() and not recreate:
                warning = f"environment {folder.name} was incomplete or corrupted; rebuilding it"
            return self._build(
                folder, spec, install_args, cwd, timeout=timeout, env=env, masker=masker, warning=warning
            )

    def _build(
        self,
        folder: Path,
        spec: EnvSpec,
        install_args: Sequence[str],
        cwd: Path,
        *,
        timeout: float,
        env: Mapping[str, str],
        masker: Masker,
        warning: str | None,
    ) -> Prepared:
        began = time.monotonic()
        if folder.exists():
            shutil.rmtree(folder)
        out = backends.create(spec.backend, spec.python, folder, timeout=timeout, env=env, masker=masker)
        if out.interrupted:
            raise Interrupted
        if not out.ok:
            raise BuildError(f"creating the environment failed: {_reason(out)}", out.stdout, out.stderr)
        if install_args:
            left = max(1.0, timeout - (time.monotonic() - began))
            out = backends.install(
                spec.backend, folder, install_args, cwd=cwd, timeout=left, env=env, masker=masker
            )
            if out.interrupted:
                raise Interrupted
            if not out.ok:
                raise BuildError(
                    f"installing into the environment failed: {_reason(out)}", out.stdout, out.stderr
                )
        description = {
            "python": spec.python,
            "version": spec.version,
            "backend": spec.backend,
            "install": masker.mask_obj(list(spec.install)),
            "files": list(spec.files),
            "created": time.time(),
        }
        partial = folder / f"{STAMP}.partial"
        partial.write_text(json.dumps(description, indent=2) + "\n", encoding="utf-8")
        touch_used(folder)
        partial.replace(folder / STAMP)
        return Prepared(folder, spec, False, round(time.monotonic() - began, 6), warning)

    def _hide(self) -> None:
        """Keep the environments out of git (`.gitignore`) and of linters and searches (`.ignore`): a
        `ruff check .` in the project must not check the installed packages."""
        for name in (".gitignore", ".ignore"):
            marker = self.root / name
            if not marker.exists():
                self.root.mkdir(parents=True, exist_ok=True)
                marker.write_text("*\n", encoding="utf-8")

    def entries(self) -> list[Path]:
        """Every environment folder, sorted by name (`.locks` is not one)."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def remove(self, folder: Path) -> bool:
        """Delete an environment unless a run holds its lock (builds it right now); True when removed.

        The lock file stays: a run waiting on it must find the same file when its turn comes."""
        lock = self.root / LOCKS / f"{folder.name}.lock"
        with locked(lock, wait=False) as got:
            if not got:
                return False
            shutil.rmtree(folder)
        return True


def _reason(out: CommandResult) -> str:
    """The line of a failed tool's output that says why: the first naming an error, else the last."""
    lines = [line.strip() for line in (out.stderr + "\n" + out.stdout).splitlines() if line.strip()]
    named = [line for line in lines if line.lower().startswith(("error", "\u00d7"))]
    return out.error or (named[0] if named else out.last_line()) or f"exit code {out.returncode}"


def last_used(folder: Path) -> float | None:
    """When a run last used the environment (epoch seconds), or None when it never finished."""
    for name in (USED, STAMP):
        with contextlib.suppress(OSError):
            return (folder / name).stat().st_mtime
    return None


def size_of(folder: Path) -> int:
    """Bytes of the files in `folder` (links not followed)."""
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(dirpath) / name).lstat().st_size
    return total
