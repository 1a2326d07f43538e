"""Stopping commands: a run's process groups, signalled together on interrupt, timeout or cancel.

A command is stopped by SIGTERM to its whole process group, then SIGKILL after `KILL_GRACE` seconds
(at once when the run is force-interrupted).
"""

from __future__ import annotations

import os
import signal
import threading
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gryt.process.spawn import Child

KILL_GRACE = 1.0
"""Seconds between SIGTERM and SIGKILL when a command is stopped."""


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
            signal_group(pgid, sig)


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


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send `sig` to process group `pgid` if it still exists.

    A pgid <= 1 is never signalled: killpg(0) would reach gryt's own group, killpg(1) every process.
    """
    if pgid <= 1:
        return
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def signal_process(pid: int, pidfd: int | None, sig: signal.Signals) -> None:
    """Send `sig` to one process, through its pidfd when there is one (never a recycled pid).

    Refuses pid <= 1 (kill(0) and kill(-1) mean groups and every process, 1 is init) and gryt itself.
    """
    if pid <= 1 or pid == os.getpid():
        return
    try:
        if pidfd is not None:
            signal.pidfd_send_signal(pidfd, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_group(child: Child, force: bool) -> None:
    """Terminate the command's process group (SIGTERM, then SIGKILL after the grace) and reap it."""
    try:
        if not force:
            signal_group(child.pid, signal.SIGTERM)
            child.wait(timeout=KILL_GRACE)
    finally:  # a second Ctrl-C during the grace still leaves nothing running
        signal_group(child.pid, signal.SIGKILL)
        child.wait()
