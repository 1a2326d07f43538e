"""Leave nothing running after an interrupted `gryt run`, not even a daemon that left its step's session.

Linux only, and for the command line only: `become_subreaper()` makes gryt inherit the orphans of its
steps (a double-forked daemon is reparented to gryt, not to init), so `stop_descendants()` can find them
in /proc and stop them. Library code never calls this: an embedding application would not expect to
inherit every orphan of its process. `stop_descendants()` reaps any exited child, so it runs only once
nothing else in gryt waits for a child (the run has finished; the recorder is a thread, not a process).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from gryt.process.control import signal_process

PR_SET_CHILD_SUBREAPER = 36
GRACE = 1.0
"""Seconds the descendants get between SIGTERM and SIGKILL."""
POLL = 0.02
"""Seconds between two checks for descendants that are still alive."""


def become_subreaper() -> bool:
    """Make this process the child subreaper of its descendants (Linux); False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def descendants(root: int) -> dict[int, bool]:
    """Every process below `root` in the /proc tree, each with True while it is alive (not a zombie)."""
    children: dict[int, list[int]] = {}
    alive: dict[int, bool] = {}
    try:
        entries = [entry for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    except OSError:
        return {}
    for entry in entries:
        try:
            fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited while listing
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        alive[pid] = fields[0] not in (b"Z", b"X")
    found: dict[int, bool] = {}
    todo = list(children.get(root, ()))
    while todo:
        pid = todo.pop()
        if pid not in found:
            found[pid] = alive.get(pid, False)
            todo.extend(children.get(pid, ()))
    return found


def reap() -> None:
    """Collect every child of this process that has exited, so no zombie lingers."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def stop_descendants(force: Callable[[], bool] = lambda: False, grace: float | None = None) -> list[int]:
    """SIGTERM every live descendant, SIGKILL the rest after `grace` (GRACE) s, at once if `force()`; pids signalled."""
    grace = GRACE if grace is None else grace
    signalled: dict[int, None] = {}
    deadline = time.monotonic() + grace
    sig = signal.SIGTERM
    while True:
        reap()
        live = [pid for pid, running in descendants(os.getpid()).items() if running]
        if not live:
            return list(signalled)
        now = time.monotonic()
        if sig == signal.SIGTERM and (force() or now >= deadline):
            sig = signal.SIGKILL
            deadline = now + grace
        elif sig == signal.SIGKILL and now >= deadline:
            return list(signalled)  # unkillable (uninterruptible sleep): give up rather than hang gryt
        for pid in live:
            if pid not in signalled or sig == signal.SIGKILL:
                _kill(pid, sig)
            signalled[pid] = None
        time.sleep(POLL)


def _kill(pid: int, sig: signal.Signals) -> None:
    """Through the guarded helper: never pid <= 1 nor gryt itself."""
    signal_process(pid, None, sig)
