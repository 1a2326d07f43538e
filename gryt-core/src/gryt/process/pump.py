"""Waiting for a started command: read its pipes, notice its exit, stop it on timeout or cancel.

Output is read with poll(2) in the calling thread (no helper thread per command). When the command's
main process exits but something it started in the background still holds the output pipes open, gryt
keeps reading for `PIPE_GRACE` seconds and then stops reading and closes its end; the background
process is not killed (redirect its output, e.g. `server > server.log 2>&1 &`, if it must keep writing
after the step).
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import threading
import time

import gryt.process.control as stopping
from gryt.process.control import ProcessControl, signal_group
from gryt.process.output import Stream
from gryt.process.spawn import Child
from gryt.process.tree import Tree

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
PIPE_SIZE = 1024 * 1024
"""Pipe buffer requested on Linux for chatty commands: fewer wake-ups and reads."""
NAP = 0.002
NAP_BYTES = 4096
"""A read of at least NAP_BYTES means the command writes steadily: its pipe is grown to PIPE_SIZE and,
while reads find the pipe less than half full, gryt waits before reading again (at most NAP seconds,
less for fast writers: the time to fill half the pipe at the rate just seen) so one read takes many
writes at once instead of waking up for every one of them."""

_POLL_IN = select.POLLIN | select.POLLPRI


def drain(
    child: Child,
    streams: dict[int, Stream],
    started: float,
    *,
    timeout: float | None,
    cancel: threading.Event | None,
    control: ProcessControl | None,
    tree: Tree | None = None,
) -> tuple[bool, bool]:
    """Read both pipes until they close and the process exited; enforce timeout and cancel.

    When the command is stopped, the processes of `tree` (found at that moment, while the parent chain of
    those that left the group is still intact) get the same signal as the group.
    """
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
            quick = select.poll()
            quick.register(pidfd, _POLL_IN)
            first_wait = QUICK_EXIT if deadline is None else max(0.0, min(QUICK_EXIT, deadline - started))
            if quick.poll(first_wait * 1000):
                exited_at = time.monotonic()
            else:
                poller.register(pidfd, _POLL_IN)
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
                    sig = signal.SIGKILL if force else signal.SIGTERM
                    if tree is not None:
                        tree.scan()
                    signal_group(pid, sig)
                    if tree is not None:
                        tree.signal(sig)
                    term_at = now
                    killed = force
            if (
                term_at is not None
                and not killed
                and (now - term_at >= stopping.KILL_GRACE or (control is not None and control.force))
            ):
                signal_group(pid, signal.SIGKILL)
                killed = True
            # seconds until something must be checked without an event (None: only events matter)
            wait = CANCEL_POLL if cancel is not None or pidfd is None else None
            for at in (
                started + PIDFD_AFTER if watch_exit else None,
                deadline if term_at is None else None,
                term_at + stopping.KILL_GRACE if term_at is not None and not killed else None,
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
            signal_group(pid, signal.SIGKILL)
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


def _has_exited(pid: int) -> bool:
    """True once `pid` exited, without reaping it (the zombie keeps the group id from being reused)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True
