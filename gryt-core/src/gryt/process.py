"""Run one command the way a CI step needs: its own process group, bounded output, masking, timeouts.

Output is read with a selector in the calling thread (no helper thread per command). Each stream goes
through an incremental UTF-8 decoder (invalid bytes become U+FFFD) and a streaming masker that holds back
just enough characters that a secret split across two reads is still caught. The masked text then goes
to the live display (when shown), to the full log file (when given), and to a head + tail buffer that
keeps at most `max_output` characters per stream in memory.

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
import selectors
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
from typing import IO

from gryt.masking import MASK, Masker

DEFAULT_MAX_OUTPUT = 1024 * 1024
"""Characters of each stream kept in results and the database (head and tail halves)."""
KILL_GRACE = 1.0
"""Seconds between SIGTERM and SIGKILL when a command is stopped."""
PIPE_GRACE = 0.5
"""Seconds to keep reading after the main process exited while its pipes are still open."""
PIDFD_AFTER = 0.05
"""Commands running longer than this get a pidfd so their exit wakes the reader at once."""
CANCEL_POLL = 0.1
"""How often a running command checks its cancel flag."""
CHUNK = 64 * 1024
"""First read size; a stream whose reads come back full grows its reads (and its pipe) up to PIPE_SIZE."""
PIPE_SIZE = 1024 * 1024
"""Pipe buffer requested on Linux for chatty commands: fewer wake-ups and reads."""

_display_lock = threading.Lock()
_Selector = getattr(selectors, "PollSelector", selectors.DefaultSelector)
"""poll(2) is cheaper than epoll for three descriptors: no extra descriptor to create per command."""


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
    """Keeps the first and last `limit / 2` characters of a stream and counts what was cut between."""

    def __init__(self, limit: int) -> None:
        self.head_limit = limit // 2
        self.tail_limit = limit - self.head_limit
        self.head: list[str] = []
        self.head_len = 0
        self.tail: deque[str] = deque()
        self.tail_len = 0
        self.cut = 0

    def add(self, text: str) -> None:
        if self.head_len < self.head_limit:
            take = text[: self.head_limit - self.head_len]
            self.head.append(take)
            self.head_len += len(take)
            text = text[len(take) :]
        if not text:
            return
        self.tail.append(text)
        self.tail_len += len(text)
        excess = self.tail_len - self.tail_limit
        while excess > 0:
            first = self.tail[0]
            if len(first) <= excess:
                self.tail.popleft()
                drop = len(first)
            else:
                self.tail[0] = first[excess:]
                drop = excess
            self.tail_len -= drop
            self.cut += drop
            excess -= drop

    def text(self) -> str:
        head = "".join(self.head)
        tail = "".join(self.tail)
        if not self.cut:
            return head + tail
        return f"{head}\n[gryt: {self.cut} characters cut here]\n{tail}"


class LazyLog:
    """A log file created on the first write (steps without output leave no empty file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None
        self._lock = threading.Lock()
        self.written = False

    def write(self, text: str) -> None:
        if not text:
            return
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115 - closed in close()
            self._file.write(text)
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
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.masker = StreamMasker(masker)
        self.capture = Capture(limit)
        self.log = log
        self.display = display
        self.prefix = prefix
        self.partial = ""
        self.read_size = CHUNK

    def feed(self, data: bytes) -> None:
        self._emit(self.masker.feed(self.decoder.decode(data)))

    def finish(self) -> None:
        text = self.masker.feed(self.decoder.decode(b"", final=True)) + self.masker.flush()
        self._emit(text)
        if self.display is not None and self.partial:
            self._show(f"{self.prefix or ''}{self.partial}\n")
            self.partial = ""

    def _emit(self, text: str) -> None:
        if not text:
            return
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


def run_command(
    cmd: Sequence[str] | str,
    *,
    shell: bool = False,
    env: Mapping[str, str] | None = None,
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

    `cancel` set while running stops the command like a timeout does (result `interrupted`).
    A KeyboardInterrupt in the calling thread kills the process group and is re-raised.
    """
    started = time.monotonic()
    argv0 = cmd if isinstance(cmd, str) else (cmd[0] if cmd else "")
    if cwd is not None and not Path(cwd).is_dir():
        return CommandOutput(None, error=f"working directory not found: {cwd}")
    if cancel is not None and cancel.is_set():
        return CommandOutput(None, interrupted=True, error="interrupted before start")
    try:
        proc = subprocess.Popen(
            cmd,
            shell=shell,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=_devnull(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            bufsize=0,
        )
    except OSError as exc:
        return CommandOutput(
            None, error=_start_error(exc, str(argv0), cwd), duration=time.monotonic() - started
        )
    control = control_for(cancel) if cancel is not None else None
    if control is not None:
        control.add(proc.pid)
    streams = {
        name: _Stream(
            name, masker, limit=max_output, log=log, display=display if show else None, prefix=prefix
        )
        for name, display in (("stdout", sys.stdout), ("stderr", sys.stderr))
    }
    try:
        timed_out, interrupted = _pump(
            proc, streams, started, timeout=timeout, cancel=cancel, control=control
        )
    except BaseException:
        _stop_group(proc, force=False)
        raise
    finally:
        if control is not None:
            control.discard(proc.pid)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    returncode = proc.wait()
    if not timed_out and returncode != 0 and cancel is not None and cancel.is_set():
        interrupted = True  # stopped by ProcessControl.interrupt() before the loop saw the flag
    for stream in streams.values():
        stream.finish()
    output = CommandOutput(
        returncode,
        stdout=streams["stdout"].capture.text(),
        stderr=streams["stderr"].capture.text(),
        duration=time.monotonic() - started,
        timed_out=timed_out,
        interrupted=interrupted,
        truncated={name: s.capture.cut for name, s in streams.items()}
        if any(s.capture.cut for s in streams.values())
        else {},
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
    proc: subprocess.Popen[bytes],
    streams: Mapping[str, _Stream],
    started: float,
    *,
    timeout: float | None,
    cancel: threading.Event | None,
    control: ProcessControl | None,
) -> tuple[bool, bool]:
    """Read both pipes until they close and the process exited; enforce timeout and cancel."""
    selector = _Selector()
    assert proc.stdout is not None and proc.stderr is not None
    selector.register(proc.stdout.fileno(), selectors.EVENT_READ, streams["stdout"])
    selector.register(proc.stderr.fileno(), selectors.EVENT_READ, streams["stderr"])
    open_pipes = 2
    pidfd: int | None = None
    watch_exit = True  # open a pidfd (exit wake-up) once the command outlives PIDFD_AFTER
    idle = False  # the last wait ended without any event
    deadline = started + timeout if timeout else None
    exited_at: float | None = None
    term_at: float | None = None
    killed = False
    timed_out = interrupted = False
    try:
        while True:
            now = time.monotonic()
            check_exit = exited_at is None and (open_pipes == 0 or (idle and pidfd is None))
            if check_exit and _has_exited(proc.pid):
                exited_at = now
            if (
                exited_at is None
                and pidfd is None
                and watch_exit
                and (open_pipes == 0 or now - started >= PIDFD_AFTER)
            ):
                watch_exit = False
                pidfd = _open_pidfd(proc.pid)
                if pidfd is not None:
                    selector.register(pidfd, selectors.EVENT_READ, None)
            if exited_at is not None and (open_pipes == 0 or now - exited_at >= PIPE_GRACE):
                break
            if term_at is None and exited_at is None:
                if cancel is not None and cancel.is_set():
                    interrupted = True
                elif deadline is not None and now >= deadline:
                    timed_out = True
                if timed_out or interrupted:
                    force = control is not None and control.force
                    _signal_group(proc.pid, signal.SIGKILL if force else signal.SIGTERM)
                    term_at = now
                    killed = force
            if (
                term_at is not None
                and not killed
                and (now - term_at >= KILL_GRACE or (control is not None and control.force))
            ):
                _signal_group(proc.pid, signal.SIGKILL)
                killed = True
            waits = [CANCEL_POLL] if cancel is not None or pidfd is None else []
            if watch_exit:
                waits.append(started + PIDFD_AFTER - now)
            if deadline is not None and term_at is None:
                waits.append(deadline - now)
            if term_at is not None and not killed:
                waits.append(term_at + KILL_GRACE - now)
            if exited_at is not None:
                waits.append(exited_at + PIPE_GRACE - now)
            if open_pipes == 0 and pidfd is None:
                waits.append(0.01)
            wait = max(0.0, min(waits)) if waits else None
            events = selector.select(wait)
            idle = not events
            for key, _ in events:
                if key.data is None:
                    selector.unregister(key.fd)
                    exited_at = time.monotonic()
                    continue
                stream = key.data
                data = os.read(key.fd, stream.read_size)
                if data:
                    if len(data) == stream.read_size and stream.read_size < PIPE_SIZE:
                        stream.read_size = PIPE_SIZE
                        _grow_pipe(key.fd)
                    stream.feed(data)
                else:
                    selector.unregister(key.fd)
                    open_pipes -= 1
        if term_at is not None:
            _signal_group(proc.pid, signal.SIGKILL)
    finally:
        selector.close()
        if pidfd is not None:
            os.close(pidfd)
    return timed_out, interrupted


def _open_pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when `pid` exits (Linux >= 5.3), or None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _grow_pipe(fd: int) -> None:
    """Ask for a bigger pipe buffer (Linux); the default size is kept when that is not allowed."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setsize is None:
        return
    try:
        fcntl.fcntl(fd, setsize, PIPE_SIZE)
    except OSError:
        pass


def _stop_group(proc: subprocess.Popen[bytes], force: bool) -> None:
    """Terminate the command's process group (SIGTERM, then SIGKILL after the grace) and reap it."""
    try:
        if not force:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=KILL_GRACE)
            except subprocess.TimeoutExpired:
                pass
    finally:  # a second Ctrl-C during the grace still leaves nothing running
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
