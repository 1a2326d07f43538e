"""Run one command the way a CI step needs: its own process group, bounded output, masking, timeouts.

Commands start through `posix_spawn` (vfork + exec in C, the environment passed without copying it)
when nothing needs `subprocess.Popen`'s extras (a working directory, a PATH other than gryt's own), else
through `Popen`; both give the child its own session, stdin from /dev/null and default SIGPIPE.

Output is read with poll(2) in the calling thread (no helper thread per command). Each stream goes
through an incremental UTF-8 decoder (invalid bytes become U+FFFD) and a streaming masker that holds back
just enough characters that a secret split across two reads is still caught. The masked text then goes
to the live display (when shown), to the full log file (when given), and to a head + tail buffer that
keeps at most `max_output` characters per stream in memory. A read of pure ASCII is its own text: when
no secret is registered and nothing is shown, such bytes skip decoding and go to the log and the
head/tail buffer as they are (only the kept head and tail are decoded at the end).

Stopping: a timeout or a cancel request sends SIGTERM to the whole process group, then SIGKILL after
`KILL_GRACE` seconds (at once when the run is force-interrupted). When the command's main process exits
but something it started in the background still holds the output pipes open, gryt keeps reading for
`PIPE_GRACE` seconds and then stops reading and closes its end; the background process is not killed
(redirect its output, e.g. `server > server.log 2>&1 &`, if it must keep writing after the step).
"""

from __future__ import annotations

import codecs
import fcntl
import os
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from gryt.masking import MASK, Masker

DEFAULT_MAX_OUTPUT = 1024 * 1024
"""Characters of each stream kept in results and the database (head and tail halves)."""
KILL_GRACE = 1.0
"""Seconds between SIGTERM and SIGKILL when a command is stopped."""
PIPE_GRACE = 0.5
"""Seconds to keep reading after the main process exited while its pipes are still open."""
QUICK_EXIT = 0.005
"""Seconds gryt first waits for the command to exit before reading its pipes (Linux pidfd): a quick
command is then reaped with one wake-up, its output still in the pipes. A command that writes more
than a pipe holds in that time waits at most this long once."""
PIDFD_AFTER = 0.05
"""Without a pidfd at start: commands running longer than this get one, so their exit wakes the reader."""
CANCEL_POLL = 0.1
"""How often a running command checks its cancel flag."""
CHUNK = 64 * 1024
"""First read size; a stream whose reads come back full grows its reads (and its pipe) up to PIPE_SIZE."""
PIPE_SIZE = 1024 * 1024
"""Pipe buffer requested on Linux for chatty commands: fewer wake-ups and reads."""
NAP = 0.002
NAP_BYTES = 4096
"""A read of at least NAP_BYTES means the command writes steadily: its pipe is grown to PIPE_SIZE and,
while reads find the pipe less than half full, gryt waits before reading again (at most NAP seconds,
less for fast writers: the time to fill half the pipe at the rate just seen) so one read takes many
writes at once instead of waking up for every one of them."""

_display_lock = threading.Lock()
_Utf8Decoder = codecs.getincrementaldecoder("utf-8")
_POLL_IN = select.POLLIN | select.POLLPRI
_RESET_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ") if hasattr(signal, name)
)
"""Python ignores these; children get them back at their defaults, as `Popen(restore_signals=True)` does."""


class ProcessControl:
    """The process groups of one run, so an interrupt can signal them all.

    `interrupt()` takes no lock and only sets flags, signals groups and sets the cancel event, so it is
    safe to call from a signal handler in the main thread.
    """

    def __init__(self, cancel: threading.Event) -> None:
        self.cancel = cancel
        self.force = False
        self._groups: dict[int, None] = {}

    def add(self, pgid: int) -> None:
        self._groups[pgid] = None

    def discard(self, pgid: int) -> None:
        self._groups.pop(pgid, None)

    def interrupt(self, force: bool = False) -> None:
        """Stop every running command: SIGTERM now (SIGKILL if `force`), SIGKILL after a grace."""
        if force:
            self.force = True
        self.cancel.set()
        sig = signal.SIGKILL if force else signal.SIGTERM
        for pgid in tuple(self._groups):
            _signal_group(pgid, sig)


_controls: weakref.WeakKeyDictionary[threading.Event, ProcessControl] = weakref.WeakKeyDictionary()
_controls_lock = threading.Lock()


def control_for(cancel: threading.Event) -> ProcessControl:
    """The ProcessControl shared by every command watching `cancel` (one per run context)."""
    with _controls_lock:
        control = _controls.get(cancel)
        if control is None:
            control = ProcessControl(cancel)
            _controls[cancel] = control
        return control


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _has_exited(pid: int) -> bool:
    """True once `pid` exited, without reaping it (the zombie keeps the group id from being reused)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


class StreamMasker:
    """Masks secrets in a stream of text chunks, holding back `longest - 1` characters between chunks."""

    def __init__(self, masker: Masker | None) -> None:
        self.masker = masker
        self.pending = ""

    def feed(self, text: str) -> str:
        pattern = self.masker.pattern if self.masker is not None else None
        if pattern is None or self.masker is None:
            out, self.pending = self.pending + text, ""
            return out
        text = self.pending + text
        cut = len(text) - (self.masker.longest - 1)
        if cut <= 0:
            self.pending = text
            return ""
        parts: list[str] = []
        pos = 0
        for match in pattern.finditer(text):
            if match.start() >= cut:
                break
            parts.append(text[pos : match.start()])
            parts.append(MASK)
            pos = match.end()
        cut = max(cut, pos)
        parts.append(text[pos:cut])
        self.pending = text[cut:]
        return "".join(parts)

    def flush(self) -> str:
        text, self.pending = self.pending, ""
        return self.masker.mask(text) if self.masker is not None else text


class Capture:
    """Keeps the first and last `limit / 2` characters of a stream and counts what was cut between.

    Pieces are text, or bytes that are pure ASCII (one byte per character), decoded only if kept. The
    tail drops whole pieces as it grows and trims the oldest kept piece once, in `text()`.
    """

    def __init__(self, limit: int) -> None:
        self.head_limit = limit // 2
        self.tail_limit = limit - self.head_limit
        self.head: list[str | bytes] = []
        self.head_len = 0
        self.tail: deque[str | bytes] = deque()
        self.tail_len = 0
        self.dropped = 0

    def add(self, piece: str | bytes) -> None:
        if self.head_len < self.head_limit:
            room = self.head_limit - self.head_len
            if len(piece) <= room:
                self.head.append(piece)
                self.head_len += len(piece)
                return
            self.head.append(piece[:room])
            self.head_len += room
            piece = piece[room:]
        if not piece:
            return
        tail = self.tail
        tail.append(piece)
        self.tail_len += len(piece)
        while self.tail_len - len(tail[0]) >= self.tail_limit:
            first = tail.popleft()
            self.tail_len -= len(first)
            self.dropped += len(first)

    @property
    def cut(self) -> int:
        """Characters between the head and the tail that are no longer kept."""
        return self.dropped + max(0, self.tail_len - self.tail_limit)

    def text(self) -> str:
        excess = self.tail_len - self.tail_limit
        if excess > 0:
            self.tail[0] = self.tail[0][excess:]
            self.tail_len -= excess
            self.dropped += excess
        head = _join(self.head)
        tail = _join(self.tail)
        if not self.dropped:
            return head + tail
        return f"{head}\n[gryt: {self.dropped} characters cut here]\n{tail}"


def _join(pieces: Sequence[str | bytes] | deque[str | bytes]) -> str:
    return "".join(p if isinstance(p, str) else p.decode("ascii") for p in pieces)


class LazyLog:
    """A UTF-8 log file created on the first write (steps without output leave no empty file)."""

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None
        self._lock = threading.Lock()
        self.written = False

    def write(self, text: str) -> None:
        if text:
            self.write_bytes(text.encode("utf-8", "replace"))

    def write_bytes(self, data: bytes) -> None:
        """Append `data`, which must already be valid UTF-8 (ASCII bytes, or text encoded by `write`)."""
        if not data:
            return
        with self._lock:
            if self._file is None:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "ab")  # noqa: SIM115 - closed in close()
            self._file.write(data)
            self.written = True

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class _Stream:
    """One output pipe: decode, mask, then fan out to capture, log and display."""

    def __init__(
        self,
        name: str,
        masker: Masker | None,
        *,
        limit: int,
        log: LazyLog | None,
        display: IO[str] | None,
        prefix: str | None,
    ) -> None:
        self.name = name
        self.secrets = masker
        self.decoder: codecs.IncrementalDecoder | None = None
        self.masker = StreamMasker(masker)
        self.limit = limit
        self.capture: Capture | None = None
        """Created on the first output (most commands of a CI run print little or nothing)."""
        self.log = log
        self.display = display
        self.prefix = prefix
        self.partial = ""
        self.read_size = CHUNK
        self.capacity = CHUNK
        """The pipe's buffer size as far as gryt knows (grown to PIPE_SIZE for a steady writer)."""
        self.grown = False
        self.last_read = 0.0
        self.raw = display is None
        """ASCII reads may bypass decoding: nothing is shown (and, checked per read, nothing to mask)."""
        self.undecoded = False
        """The decoder holds the first bytes of an unfinished character."""

    def feed(self, data: bytes) -> None:
        if (
            self.raw
            and not self.undecoded
            and (self.secrets is None or self.secrets.pattern is None)
            and data.isascii()
        ):
            if self.capture is None:
                self.capture = Capture(self.limit)
            self.capture.add(data)
            if self.log is not None:
                self.log.write_bytes(data)
            return
        if self.decoder is None:
            self.decoder = _Utf8Decoder(errors="replace")
        text = self.decoder.decode(data)
        self.undecoded = bool(self.decoder.getstate()[0])
        self._emit(self.masker.feed(text))

    def finish(self) -> None:
        if self.decoder is None and not self.masker.pending:
            return  # only raw reads (or none): nothing held back
        tail = self.decoder.decode(b"", final=True) if self.decoder is not None else ""
        self._emit(self.masker.feed(tail) + self.masker.flush())
        if self.display is not None and self.partial:
            self._show(f"{self.prefix or ''}{self.partial}\n")
            self.partial = ""

    def _emit(self, text: str) -> None:
        if not text:
            return
        if self.capture is None:
            self.capture = Capture(self.limit)
        self.capture.add(text)
        if self.log is not None:
            self.log.write(text)
        if self.display is None:
            return
        if self.prefix is None:
            self._show(text)
            return
        lines = (self.partial + text).split("\n")
        self.partial = lines.pop()
        if lines:
            self._show("".join(f"{self.prefix}{line}\n" for line in lines))

    def text(self) -> str:
        """What the result keeps of this stream: all of it, or its head and tail around a cut marker."""
        return self.capture.text() if self.capture is not None else ""

    @property
    def cut(self) -> int:
        return self.capture.cut if self.capture is not None else 0

    def _show(self, text: str) -> None:
        if self.display is None:
            return
        with _display_lock:
            self.display.write(text)
            self.display.flush()


@dataclass
class CommandOutput:
    """What one command run produced; `error` is set when it could not start or did not succeed."""

    returncode: int | None
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0
    timed_out: bool = False
    interrupted: bool = False
    error: str | None = None
    truncated: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.interrupted and self.error is None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


_devnull_fd: int | None = None


def _devnull() -> int:
    """One read-only /dev/null descriptor for every command's stdin (saves an open per command)."""
    global _devnull_fd
    if _devnull_fd is None:
        with _controls_lock:
            if _devnull_fd is None:
                _devnull_fd = os.open(os.devnull, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    return _devnull_fd


def _start_error(exc: OSError, argv0: str, cwd: str | None) -> str:
    if isinstance(exc, FileNotFoundError):
        if cwd is not None and not Path(cwd).is_dir():
            return f"working directory not found: {cwd}"
        return f"executable not found: {argv0}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {argv0}"
    if isinstance(exc, NotADirectoryError) and cwd is not None:
        return f"working directory is not a folder: {cwd}"
    return f"cannot start {argv0}: {exc.strerror or exc}"


class _Child:
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


def _inherited_environment() -> Mapping[Any, Any]:
    """gryt's environment as posix_spawn takes it; the encoded mapping behind os.environ avoids a copy."""
    data = getattr(os.environ, "_data", None)
    return data if isinstance(data, dict) else os.environ


def _spawn_environment(
    env: Mapping[str, str] | None, env_extra: Mapping[str, str] | None
) -> Mapping[Any, Any] | None:
    """The environment for posix_spawn, or None when `Popen` must start the command instead.

    posix_spawnp searches gryt's own PATH, so a different PATH for the command needs Popen, as do
    names Popen accepts but posix_spawn refuses (empty).
    """
    if env is None and not env_extra:
        return _inherited_environment()
    path = os.environ.get("PATH")
    if env is not None:
        return env if env.get("PATH") == path and all(env) else None
    assert env_extra is not None
    if env_extra.get("PATH", path) != path or not all(env_extra):
        return None
    inherited = _inherited_environment()
    if inherited is os.environ:  # platforms without the encoded mapping
        return {**os.environ, **env_extra}
    merged = dict(inherited)
    for key, value in env_extra.items():
        merged[os.fsencode(key)] = os.fsencode(value)
    return merged


def _spawn(
    argv: list[str],
    *,
    env: Mapping[str, str] | None,
    env_extra: Mapping[str, str] | None,
    cwd: str | None,
) -> _Child:
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
                return _Child(pid, out_r, err_r, None)
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
        return _Child(proc.pid, out_r, err_r, proc)
    except BaseException:
        os.close(out_r)
        os.close(err_r)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)


def run_command(
    cmd: Sequence[str] | str,
    *,
    shell: bool = False,
    env: Mapping[str, str] | None = None,
    env_extra: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float | None = None,
    max_output: int = DEFAULT_MAX_OUTPUT,
    masker: Masker | None = None,
    log: LazyLog | None = None,
    show: bool = False,
    prefix: str | None = None,
    cancel: threading.Event | None = None,
) -> CommandOutput:
    """Run `cmd` in a new session and wait for it; never raises for a failing or missing command.

    `env` replaces the inherited environment; `env_extra` is merged onto it (cheaper: no copy of
    the environment when the command can be spawned directly).
    `cancel` set while running stops the command like a timeout does (result `interrupted`).
    A KeyboardInterrupt in the calling thread kills the process group and is re-raised.
    """
    started = time.monotonic()
    if isinstance(cmd, str):
        argv = ["/bin/sh", "-c", cmd] if shell else [cmd]
    else:
        argv = ["/bin/sh", "-c", *cmd] if shell else list(cmd)
    argv0 = cmd if isinstance(cmd, str) else (cmd[0] if cmd else "")
    if not argv:
        return CommandOutput(None, error="cannot start: the command is empty")
    if cwd is not None and not Path(cwd).is_dir():
        return CommandOutput(None, error=f"working directory not found: {cwd}")
    if cancel is not None and cancel.is_set():
        return CommandOutput(None, interrupted=True, error="interrupted before start")
    try:
        child = _spawn(argv, env=env, env_extra=env_extra, cwd=cwd)
    except OSError as exc:
        return CommandOutput(
            None, error=_start_error(exc, str(argv0), cwd), duration=time.monotonic() - started
        )
    control = control_for(cancel) if cancel is not None else None
    if control is not None:
        control.add(child.pid)
    display_out, display_err = (sys.stdout, sys.stderr) if show else (None, None)
    out = _Stream("stdout", masker, limit=max_output, log=log, display=display_out, prefix=prefix)
    err = _Stream("stderr", masker, limit=max_output, log=log, display=display_err, prefix=prefix)
    try:
        timed_out, interrupted = _pump(
            child,
            {child.stdout: out, child.stderr: err},
            started,
            timeout=timeout,
            cancel=cancel,
            control=control,
        )
    except BaseException:
        _stop_group(child, force=False)
        raise
    finally:
        if control is not None:
            control.discard(child.pid)
        os.close(child.stdout)
        os.close(child.stderr)
    returncode = child.wait()
    assert returncode is not None
    if not timed_out and returncode != 0 and cancel is not None and cancel.is_set():
        interrupted = True  # stopped by ProcessControl.interrupt() before the loop saw the flag
    out.finish()
    err.finish()
    output = CommandOutput(
        returncode,
        stdout=out.text(),
        stderr=err.text(),
        duration=time.monotonic() - started,
        timed_out=timed_out,
        interrupted=interrupted,
        truncated={"stdout": out.cut, "stderr": err.cut} if out.cut or err.cut else {},
    )
    if timed_out:
        output.error = f"timed out after {timeout:g}s"
    elif interrupted:
        output.error = "interrupted"
    elif returncode < 0:
        output.error = f"killed by signal {_signal_name(-returncode)}"
    elif returncode != 0:
        output.error = f"exit code {returncode}"
    return output


def _pump(
    child: _Child,
    streams: dict[int, _Stream],
    started: float,
    *,
    timeout: float | None,
    cancel: threading.Event | None,
    control: ProcessControl | None,
) -> tuple[bool, bool]:
    """Read both pipes until they close and the process exited; enforce timeout and cancel."""
    poller = select.poll()
    for fd in streams:
        poller.register(fd, _POLL_IN)
    pid = child.pid
    open_pipes = len(streams)
    deadline = started + timeout if timeout else None
    exited_at: float | None = None
    pidfd = _open_pidfd(pid)
    watch_exit = pidfd is None  # open a pidfd (exit wake-up) once the command outlives PIDFD_AFTER
    idle = False  # the last wait ended without any event
    term_at: float | None = None
    killed = False
    timed_out = interrupted = False
    try:
        if pidfd is not None:
            poller.register(pidfd, _POLL_IN)
            quick = select.poll()
            quick.register(pidfd, _POLL_IN)
            first_wait = QUICK_EXIT if deadline is None else max(0.0, min(QUICK_EXIT, deadline - started))
            if quick.poll(first_wait * 1000):
                poller.unregister(pidfd)
                exited_at = time.monotonic()
        while True:
            now = time.monotonic()
            if exited_at is None and (open_pipes == 0 or idle) and pidfd is None and _has_exited(pid):
                exited_at = now
            if (
                exited_at is None
                and pidfd is None
                and watch_exit
                and (open_pipes == 0 or now - started >= PIDFD_AFTER)
            ):
                watch_exit = False
                pidfd = _open_pidfd(pid)
                if pidfd is not None:
                    poller.register(pidfd, _POLL_IN)
            if exited_at is not None and (open_pipes == 0 or now - exited_at >= PIPE_GRACE):
                break
            if term_at is None and exited_at is None:
                if cancel is not None and cancel.is_set():
                    interrupted = True
                elif deadline is not None and now >= deadline:
                    timed_out = True
                if timed_out or interrupted:
                    force = control is not None and control.force
                    _signal_group(pid, signal.SIGKILL if force else signal.SIGTERM)
                    term_at = now
                    killed = force
            if (
                term_at is not None
                and not killed
                and (now - term_at >= KILL_GRACE or (control is not None and control.force))
            ):
                _signal_group(pid, signal.SIGKILL)
                killed = True
            # seconds until something must be checked without an event (None: only events matter)
            wait = CANCEL_POLL if cancel is not None or pidfd is None else None
            for at in (
                started + PIDFD_AFTER if watch_exit else None,
                deadline if term_at is None else None,
                term_at + KILL_GRACE if term_at is not None and not killed else None,
                exited_at + PIPE_GRACE if exited_at is not None else None,
                now + 0.01 if open_pipes == 0 and pidfd is None else None,
            ):
                if at is not None and (wait is None or at - now < wait):
                    wait = at - now
            events = poller.poll(None if wait is None else max(0.0, wait) * 1000)
            idle = not events
            nap = NAP
            for fd, _ in events:
                stream = streams.get(fd)
                if stream is None:  # the pidfd: the command exited
                    poller.unregister(fd)
                    exited_at = time.monotonic()
                    continue
                data = os.read(fd, stream.read_size)
                if not data:
                    poller.unregister(fd)
                    open_pipes -= 1
                    nap = 0.0
                    continue
                size = len(data)
                if not stream.grown and (size >= NAP_BYTES or size == stream.read_size):
                    stream.grown = True
                    stream.read_size = PIPE_SIZE
                    stream.capacity = _grow_pipe(fd, stream.capacity)
                read_at = time.monotonic()
                if size >= NAP_BYTES and size < stream.capacity // 2 and stream.last_read:
                    nap = min(nap, 0.5 * stream.capacity * (read_at - stream.last_read) / size)
                else:
                    nap = 0.0
                stream.last_read = read_at
                stream.feed(data)
            if events and nap >= NAP / 10 and exited_at is None and term_at is None:
                time.sleep(nap)
        if term_at is not None:
            _signal_group(pid, signal.SIGKILL)
    finally:
        if pidfd is not None:
            os.close(pidfd)
    return timed_out, interrupted


def _open_pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when `pid` exits (Linux >= 5.3), or None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _grow_pipe(fd: int, current: int) -> int:
    """Ask for a PIPE_SIZE pipe buffer (Linux) and return the size it has; unchanged if not allowed."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setsize is None:
        return current
    try:
        return int(fcntl.fcntl(fd, setsize, PIPE_SIZE))
    except OSError:
        return current


def _stop_group(child: _Child, force: bool) -> None:
    """Terminate the command's process group (SIGTERM, then SIGKILL after the grace) and reap it."""
    try:
        if not force:
            _signal_group(child.pid, signal.SIGTERM)
            child.wait(timeout=KILL_GRACE)
    finally:  # a second Ctrl-C during the grace still leaves nothing running
        _signal_group(child.pid, signal.SIGKILL)
        child.wait()
