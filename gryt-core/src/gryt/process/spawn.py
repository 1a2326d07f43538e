"""Starting a command: its own session, stdin from /dev/null, stdout and stderr on fresh pipes.

Commands start through `posix_spawn` (vfork + exec in C, the environment passed without copying it)
when nothing needs `subprocess.Popen`'s extras (a working directory, a PATH other than gryt's own), else
through `Popen`; both give the child default SIGPIPE.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_RESET_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ") if hasattr(signal, name)
)
"""Python ignores these; children get them back at their defaults, as `Popen(restore_signals=True)` does."""


class Child:
    """A started command: its pid (also its process group), the read ends of its pipes, its exit code."""

    def __init__(self, pid: int, stdout: int, stderr: int, proc: subprocess.Popen[bytes] | None) -> None:
        self.pid = pid
        self.stdout = stdout
        self.stderr = stderr
        self.proc = proc
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int | None:
        """Reap the command; with `timeout`, give up (returning None) if it is still running by then."""
        if self.returncode is not None:
            return self.returncode
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                pid, status = os.waitpid(self.pid, 0 if deadline is None else os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere (e.g. a SIGCHLD handler): as Popen, report 0
                pid, status = self.pid, 0
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                if self.proc is not None:
                    self.proc.returncode = self.returncode
                return self.returncode
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(0.01)


_spawn_usable = hasattr(os, "posix_spawn") and sys.platform.startswith("linux")
"""posix_spawn with `setsid` (glibc >= 2.26); switched off for good if this Python cannot do it."""


def start(
    argv: list[str],
    *,
    env: Mapping[str, str] | None,
    env_extra: Mapping[str, str] | None,
    cwd: str | None,
) -> Child:
    """Start `argv` in a new session with stdout and stderr on fresh pipes; raises OSError if it cannot."""
    global _spawn_usable
    stdin = _devnull()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        spawn_env = _spawn_environment(env, env_extra) if _spawn_usable and cwd is None else None
        if spawn_env is not None and min(stdin, out_w, err_w) > 2:
            spawn = os.posix_spawn if "/" in argv[0] else os.posix_spawnp
            try:
                pid = spawn(
                    argv[0],
                    argv,
                    spawn_env,
                    file_actions=[
                        (os.POSIX_SPAWN_DUP2, stdin, 0),
                        (os.POSIX_SPAWN_DUP2, out_w, 1),
                        (os.POSIX_SPAWN_DUP2, err_w, 2),
                    ],
                    setsid=True,
                    setsigdef=_RESET_SIGNALS,
                )
            except NotImplementedError:
                _spawn_usable = False
            else:
                return Child(pid, out_r, err_r, None)
        if env is None and env_extra:
            env = {**os.environ, **env_extra}
        proc = subprocess.Popen(
            argv,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=stdin,
            stdout=out_w,
            stderr=err_w,
            start_new_session=True,
        )
        return Child(proc.pid, out_r, err_r, proc)
    except BaseException:
        os.close(out_r)
        os.close(err_r)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)


def start_error(exc: OSError, argv0: str, cwd: str | None) -> str:
    """Why `start` failed, in a line a user can act on."""
    if isinstance(exc, FileNotFoundError):
        if cwd is not None and not Path(cwd).is_dir():
            return f"working directory not found: {cwd}"
        return f"executable not found: {argv0}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {argv0}"
    if isinstance(exc, NotADirectoryError) and cwd is not None:
        return f"working directory is not a folder: {cwd}"
    return f"cannot start {argv0}: {exc.strerror or exc}"


def _inherited_environment() -> Mapping[Any, Any]:
    """gryt's environment as posix_spawn takes it; the encoded mapping behind os.environ avoids a copy."""
    data = getattr(os.environ, "_data", None)
    return data if isinstance(data, dict) else os.environ


def inherited_value(name: str) -> str | None:
    """`os.environ.get(name)` read from the encoded mapping behind it (no KeyError raised and caught when
    the variable is unset, as `os.environ.get` does)."""
    data = getattr(os.environ, "_data", None)
    if not isinstance(data, dict):
        return os.environ.get(name)
    value = data.get(os.fsencode(name))
    return None if value is None else os.fsdecode(value)


def _spawn_environment(
    env: Mapping[str, str] | None, env_extra: Mapping[str, str] | None
) -> Mapping[Any, Any] | None:
    """The environment for posix_spawn, or None when `Popen` must start the command instead.

    posix_spawnp searches gryt's own PATH, so a different PATH for the command needs Popen, as do
    names Popen accepts but posix_spawn refuses (empty).
    """
    if env is None and not env_extra:
        return _inherited_environment()
    if env is not None:
        return env if env.get("PATH") == inherited_value("PATH") and all(env) else None
    assert env_extra is not None
    if ("PATH" in env_extra and env_extra["PATH"] != inherited_value("PATH")) or not all(env_extra):
        return None
    inherited = _inherited_environment()
    if inherited is os.environ:  # platforms without the encoded mapping
        return {**os.environ, **env_extra}
    merged = dict(inherited)
    for key, value in env_extra.items():
        merged[os.fsencode(key)] = os.fsencode(value)
    return merged


_devnull_fd: int | None = None
_devnull_lock = threading.Lock()


def _devnull() -> int:
    """One read-only /dev/null descriptor for every command's stdin (saves an open per command)."""
    global _devnull_fd
    if _devnull_fd is None:
        with _devnull_lock:
            if _devnull_fd is None:
                _devnull_fd = os.open(os.devnull, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    return _devnull_fd
