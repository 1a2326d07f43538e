"""Short commands for plugins: run a tool (git, docker, flyctl) to completion with a hard timeout.

The command gets a process group of its own, so a timeout kills everything it started; its environment
comes from the caller (secrets go in the environment or on stdin, never on argv); each stream keeps at
most `max_output` bytes and is masked before anyone sees it. Long-running, streamed step commands use
the step engine instead; this is for the quick checks and logins plugins make.
"""

from __future__ import annotations

import os
import select
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from gryt.masking import Masker

DEFAULT_MAX_OUTPUT = 1024 * 1024
"""Bytes kept of each of stdout and stderr; the rest is read and dropped."""

REAP_TIMEOUT = 5.0
"""Seconds to drain the pipes after a kill (a process that left the group may still hold them)."""

_CHUNK = 64 * 1024
CANCEL_POLL = 0.1
"""Seconds between two checks of the cancel flag while a short command runs."""

_cancel: ContextVar[threading.Event | None] = ContextVar("gryt_short_command_cancel", default=None)


@contextmanager
def cancel_on(event: threading.Event) -> Iterator[None]:
    """While inside, every `run_short_command` of this thread (or task) stops at once when `event` is
    set: the pipeline wraps its validators and auth steps in it, so Ctrl-C or `Pipeline.interrupt()`
    ends a slow `token_command` or version check without the plugin passing anything along."""
    reset = _cancel.set(event)
    try:
        yield
    finally:
        _cancel.reset(reset)


@dataclass(frozen=True)
class CommandResult:
    """How a short command ended. `error` is a one-line reason when it could not start or timed out
    (then `returncode` is None); otherwise `returncode` is its exit code (negative: killed by a signal)."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    duration: float = 0.0
    error: str | None = None
    interrupted: bool = False
    """Stopped (or never started) because the run was interrupted (see `cancel_on`)."""

    @property
    def ok(self) -> bool:
        """It ran and exited 0."""
        return self.returncode == 0 and self.error is None

    def first_line(self) -> str:
        """The first non-empty line of stderr (else stdout), stripped: for one-line messages."""
        return _line(self.stderr, first=True) or _line(self.stdout, first=True)

    def last_line(self) -> str:
        """The last non-empty line of stderr (else stdout), stripped: where most tools put the reason."""
        return _line(self.stderr, first=False) or _line(self.stdout, first=False)


def run_short_command(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    extra_env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    input: str | bytes | None = None,
    max_output: int = DEFAULT_MAX_OUTPUT,
    secrets: Iterable[str] = (),
    masker: Masker | None = None,
    label: str | None = None,
) -> CommandResult:
    """Run `argv` in its own process group and wait at most `timeout` seconds; never raises for the
    command's own failure (not found, non-zero exit, timeout): that is in the result.

    `env` is the whole environment (default: gryt's own), `extra_env` is laid on top: put tokens there,
    or in `input` (written to stdin; stdin is empty otherwise). On timeout the whole group is killed with
    SIGKILL and reaped. Output is decoded as UTF-8 (`errors="replace"`) and every value of `secrets` and
    of `masker` is replaced by `***`. `label` names the command in `error` (default: the program name and
    its arguments). Inside `cancel_on(event)`, setting `event` kills the group within `CANCEL_POLL`
    seconds (and a command is not started once it is set): the result then has `interrupted` and an
    `error`. A KeyboardInterrupt while waiting kills the group too, and is re-raised.
    """
    if not argv:
        raise ValueError("run_short_command needs a program to run, got an empty argv")
    shown = label or " ".join([Path(argv[0]).name, *argv[1:]])
    values = list(secrets)
    cancel = _cancel.get()
    if cancel is not None and cancel.is_set():
        return CommandResult(
            None, "", "", error=f"{shown}: not run, the run was interrupted", interrupted=True
        )
    child_env = _environment(env, extra_env)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=child_env,
            start_new_session=True,
        )
    except OSError as exc:
        return CommandResult(None, "", "", error=_masker(values, masker).mask(_start_error(exc, shown, cwd)))
    data = input.encode() if isinstance(input, str) else input
    try:
        out, err, timed_out = _communicate(proc, data, started + timeout, max_output, cancel)
    except BaseException:  # Ctrl-C or a bug while waiting: leave nothing running behind
        if proc.poll() is None:
            _kill_group(proc.pid)
            proc.wait()
        raise
    duration = time.monotonic() - started
    mask = _masker(values, masker)  # after the command: secrets the run declared meanwhile count too
    stdout = _decode(out, max_output, mask)
    stderr = _decode(err, max_output, mask)
    if timed_out and cancel is not None and cancel.is_set():
        error = f"{shown} was stopped: the run was interrupted"
        return CommandResult(None, stdout, stderr, False, duration, mask.mask(error), True)
    if timed_out:
        error = f"{shown} timed out after {timeout:g} s and was killed"
        return CommandResult(None, stdout, stderr, True, duration, mask.mask(error))
    return CommandResult(proc.returncode, stdout, stderr, False, duration)


def _kill_group(pgid: int) -> None:
    """SIGKILL every process of group `pgid`; refuses ids <= 1, which would mean gryt's own group or all
    processes, and ignores a group that is already gone."""
    if pgid <= 1:
        raise ValueError(f"refusing to signal process group {pgid}")
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _environment(env: Mapping[str, str] | None, extra: Mapping[str, str] | None) -> dict[str, str] | None:
    if env is None and not extra:
        return None
    return {**(os.environ if env is None else env), **(extra or {})}


def _start_error(exc: OSError, shown: str, cwd: str | os.PathLike[str] | None) -> str:
    if isinstance(exc, FileNotFoundError):
        if cwd is not None and not Path(cwd).is_dir():
            return f"{shown}: working directory not found: {cwd}"
        return f"{shown}: command not found"
    if isinstance(exc, PermissionError):
        return f"{shown}: permission denied"
    return f"{shown}: cannot run: {exc.strerror or exc}"


def _communicate(
    proc: subprocess.Popen[bytes],
    data: bytes | None,
    deadline: float,
    limit: int,
    cancel: threading.Event | None,
) -> tuple[bytes, bytes, bool]:
    """Feed stdin and collect up to `limit` + 1 bytes per stream (the extra byte tells that output was
    cut) until both pipes close and the command exits, or the deadline passes or `cancel` is set; then
    kill the group. Reaps the command either way. Returns (stdout, stderr, stopped early)."""
    assert proc.stdout is not None and proc.stderr is not None
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    kept = {out_fd: bytearray(), err_fd: bytearray()}
    with selectors.DefaultSelector() as selector:
        for fd in kept:
            selector.register(fd, selectors.EVENT_READ)
        if proc.stdin is not None:
            if data:
                selector.register(proc.stdin.fileno(), selectors.EVENT_WRITE)
            else:
                proc.stdin.close()
        finished = _pump(
            selector, proc, memoryview(data or b""), kept, keep=limit + 1, deadline=deadline, cancel=cancel
        )
        while finished and proc.poll() is None:
            if time.monotonic() >= deadline or (cancel is not None and cancel.is_set()):
                finished = False
                break
            try:
                proc.wait(timeout=max(0.0, min(CANCEL_POLL, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                continue
        if not finished:
            _kill_group(proc.pid)
            _pump(
                selector,
                proc,
                memoryview(b""),
                kept,
                keep=limit + 1,
                deadline=time.monotonic() + REAP_TIMEOUT,
                cancel=None,
            )
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    proc.wait()
    return bytes(kept[out_fd]), bytes(kept[err_fd]), not finished


def _pump(
    selector: selectors.BaseSelector,
    proc: subprocess.Popen[bytes],
    pending: memoryview,
    kept: dict[int, bytearray],
    *,
    keep: int,
    deadline: float,
    cancel: threading.Event | None,
) -> bool:
    """Move data until every registered pipe is done (True) or the deadline passes or `cancel` is set
    (False)."""
    while selector.get_map():
        remaining = deadline - time.monotonic()
        if remaining <= 0 or (cancel is not None and cancel.is_set()):
            return False
        wait = remaining if cancel is None else min(remaining, CANCEL_POLL)
        for key, _ in selector.select(wait):
            if key.events & selectors.EVENT_WRITE:
                try:
                    pending = pending[os.write(key.fd, pending[: select.PIPE_BUF]) :]
                except BrokenPipeError:  # the command does not read its input: not our failure
                    pending = pending[:0]
                if not pending:
                    selector.unregister(key.fd)
                    assert proc.stdin is not None
                    proc.stdin.close()
                continue
            chunk = os.read(key.fd, _CHUNK)
            if not chunk:
                selector.unregister(key.fd)
                continue
            buffer = kept[key.fd]
            if len(buffer) < keep:
                buffer += chunk[: keep - len(buffer)]
    return True


def _decode(raw: bytes, limit: int, mask: Masker) -> str:
    """`raw` cut to `limit` bytes, decoded and masked. When cut, the last `longest secret - 1` characters
    go too: they could be the start of a secret whose end was dropped."""
    text = mask.mask(raw[:limit].decode("utf-8", errors="replace"))
    hold = mask.longest - 1
    if len(raw) > limit and hold > 0:
        text = text[: len(text) - hold]
    return text


def _masker(values: list[str], masker: Masker | None) -> Masker:
    """One masker for the call's own `secrets` and the run's: a secret of one overlapping a secret of the
    other is masked as their union, which masking with each in turn would miss."""
    return masker.with_secrets(values) if masker is not None else Masker(values)


def _line(text: str, *, first: bool) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    return lines[0] if first else lines[-1]
