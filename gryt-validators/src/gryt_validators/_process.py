"""Run a short command with a hard timeout that kills its whole process tree, never raising."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

_REAP_TIMEOUT = 5.0
"""Seconds to wait for output pipes to close after a kill (a daemonised grandchild may hold them)."""


@dataclass(frozen=True)
class Completed:
    """Outcome of a command: `error` is a one-line reason when it could not run or timed out."""

    returncode: int | None
    stdout: str
    stderr: str
    error: str | None = None

    def first_line(self) -> str:
        """The first non-empty line of stderr (or stdout), for one-line messages."""
        for text in (self.stderr, self.stdout):
            for line in text.splitlines():
                if line.strip():
                    return line.strip()
        return ""


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    label: str | None = None,
) -> Completed:
    """Run `argv`; on timeout kill its process group (so grandchildren die too) and report it.

    `label` is how the command appears in error messages (default: argv joined by spaces).
    """
    import subprocess

    command = label or " ".join(argv)
    merged = None if env is None else {**os.environ, **env}
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=merged,
            start_new_session=sys.platform != "win32",
        )
    except OSError as exc:
        return Completed(None, "", "", f"could not run `{command}`: {exc.strerror or exc}")
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        return Completed(None, "", "", f"`{command}` timed out after {timeout:g} s and was killed")
    return Completed(
        proc.returncode,
        out.decode("utf-8", errors="replace"),
        err.decode("utf-8", errors="replace"),
    )


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """Kill the process group started for `proc` (the process itself on Windows) and reap it."""
    import signal
    import subprocess

    if sys.platform == "win32":
        proc.kill()
    else:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            proc.kill()
    try:
        proc.communicate(timeout=_REAP_TIMEOUT)
    except subprocess.TimeoutExpired:
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        proc.wait()
