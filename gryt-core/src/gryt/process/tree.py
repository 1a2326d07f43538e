"""A step's whole process tree, including what left its process group (Linux).

Signalling a step's process group misses a descendant that moved to a group or session of its own
(`timeout`, `setsid`, a double-forked daemon). So every command gets a marker in its environment,
`GRYT_STEP_TOKEN=<random token>`, which its descendants inherit; when the step is stopped (timeout,
interrupt, cancel), `Tree` finds its processes in /proc in two ways and signals each one:

- by ancestry: every process below the step's main process (or below one found before), read from the
  parent pid in `/proc/<pid>/stat`; this also finds a descendant that scrubbed its environment, as long as
  its parent chain up to the step is still alive;
- by marker: every process whose `/proc/<pid>/environ` carries the token; this finds a descendant whose
  parents exited (reparented to init or to a subreaper), without `gryt run`'s subreaper.

Each process found is pinned with a pidfd, so a recycled pid is never signalled. Not found: a process
that both cleared its environment (`env -i`, `sudo`) and lost its parent chain, one whose environ gryt may
not read (another user, setuid), one in another PID namespace (a container's processes).
"""

from __future__ import annotations

import os
import select
import signal
import time
from collections.abc import Callable
from pathlib import Path

import gryt.process.control as stopping
from gryt.process.control import signal_process

MARKER = "GRYT_STEP_TOKEN"
"""The environment variable that marks a command's processes; nested runs append their token after a comma."""
GONE_WAIT = 1.0
"""Seconds to wait, after SIGKILL, for the processes to be gone (an unkillable one is then left)."""
POLL = 0.02


def new_token() -> str:
    """A fresh random token for one command (`os.urandom`: the `secrets` module would load `random`, a
    cost every `import gryt` would pay)."""
    return os.urandom(8).hex()


def marker_value(token: str, outer: str | None) -> str:
    """The marker's value: the tokens of the outer steps (`outer`, the value the command would inherit),
    then this one, so a step inside a step (a nested gryt run) is still found by the outer step's token."""
    return f"{outer},{token}" if outer else token


class Tree:
    """The processes of one command: found on demand, pinned by pidfd, signalled one by one."""

    def __init__(self, root: int, token: str) -> None:
        self.root = root
        self.token = token.encode()
        self.found: dict[int, int | None] = {}
        """pid -> its pidfd (None where pidfds are not available)."""

    def scan(self) -> None:
        """Add every process of the command not found yet (see the module docstring)."""
        if not Path("/proc/self/environ").exists():
            return
        own = os.getpid()
        parents: dict[int, list[int]] = {}
        marked: list[int] = []
        for entry in _pids():
            if entry == own:
                continue
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # exited while listing
            parents.setdefault(ppid, []).append(entry)
            if entry not in self.found and self._marked(entry):
                marked.append(entry)
        todo = [self.root, *self.alive(), *marked]  # an exited pid may be reused: not a root
        seen: set[int] = set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            if pid != self.root:
                self._pin(pid)
            todo.extend(parents.get(pid, ()))

    def signal(self, sig: signal.Signals) -> None:
        """Send `sig` to every process found that still exists."""
        for pid, pidfd in self.found.items():
            signal_process(pid, pidfd, sig)

    def alive(self) -> list[int]:
        """The processes found that have not exited yet (zombies count as exited)."""
        return [pid for pid, pidfd in self.found.items() if _running(pid, pidfd)]

    def stop(self, force: Callable[[], bool]) -> None:
        """SIGTERM everything found (rescanned first), SIGKILL what is left after `KILL_GRACE` (at once
        once `force()` is true), wait up to `GONE_WAIT` for it to be gone and reap gryt's own children."""
        try:
            self.scan()
            if not force() and self.found:
                self.signal(signal.SIGTERM)
                _wait_gone(self, stopping.KILL_GRACE, force)
            self.scan()
            if self.alive():
                self.signal(signal.SIGKILL)
                _wait_gone(self, GONE_WAIT, lambda: False)
            for pid in self.found:
                _reap(pid)
        finally:
            self.close()

    def close(self) -> None:
        for pidfd in self.found.values():
            if pidfd is not None:
                os.close(pidfd)
        self.found = {}

    def _marked(self, pid: int) -> bool:
        try:
            data = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            return False  # another user's process, or gone
        if self.token not in data:
            return False
        prefix = MARKER.encode() + b"="
        for item in data.split(b"\0"):
            if item.startswith(prefix):
                return self.token in item[len(prefix) :].split(b",")
        return False

    def _pin(self, pid: int) -> None:
        if pid in self.found or pid <= 1:
            return
        try:
            self.found[pid] = os.pidfd_open(pid)
        except ProcessLookupError:
            return
        except (AttributeError, OSError):
            self.found[pid] = None


def _pids() -> list[int]:
    try:
        return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    except OSError:
        return []


def _running(pid: int, pidfd: int | None) -> bool:
    """True while the process runs: its pidfd is not readable yet, else (no pidfd) /proc says so."""
    if pidfd is not None:
        return not select.select([pidfd], [], [], 0)[0]
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")


def _wait_gone(tree: Tree, seconds: float, cut_short: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while tree.alive() and time.monotonic() < deadline and not cut_short():
        time.sleep(POLL)


def _reap(pid: int) -> None:
    """Collect `pid` if it is gryt's own child (adopted by `gryt run`'s subreaper), so no zombie stays."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
