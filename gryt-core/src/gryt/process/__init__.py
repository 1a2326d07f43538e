"""Run one command the way a CI step needs: its own process group, bounded output, masking, timeouts.

`run_command` ties the parts together: `spawn` starts the command, `pump` reads its pipes until it
exits (enforcing timeout and cancel), `output` decodes, masks, keeps and logs what it printed, and
`control` stops process groups (SIGTERM, then SIGKILL after `control.KILL_GRACE`), and `tree` the
command's processes that left its group.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gryt.masking import Masker
from gryt.process.control import ProcessControl, control_for, signal_group, stop_group
from gryt.process.output import DEFAULT_MAX_OUTPUT, Capture, LazyLog, Stream, StreamMasker
from gryt.process.pump import drain
from gryt.process.spawn import inherited_value, start, start_error
from gryt.process.tree import MARKER, Tree, marker_value, new_token

__all__ = [
    "DEFAULT_MAX_OUTPUT",
    "Capture",
    "CommandOutput",
    "LazyLog",
    "ProcessControl",
    "StreamMasker",
    "control_for",
    "run_command",
]


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
    token = new_token()  # marks the command's processes, to stop those that leave its group (tree.py)
    if env is not None:
        env = {**env, MARKER: marker_value(token, env.get(MARKER))}
    else:
        outer = env_extra.get(MARKER) if env_extra and MARKER in env_extra else inherited_value(MARKER)
        env_extra = {**(env_extra or {}), MARKER: marker_value(token, outer)}
    try:
        child = start(argv, env=env, env_extra=env_extra, cwd=cwd)
    except OSError as exc:
        return CommandOutput(
            None, error=start_error(exc, str(argv0), cwd), duration=time.monotonic() - started
        )
    control = control_for(cancel) if cancel is not None else None
    if control is not None:
        control.add(child.pid)
    display_out, display_err = (sys.stdout, sys.stderr) if show else (None, None)
    deadline = started + timeout if timeout else None
    out = Stream(
        "stdout",
        masker,
        limit=max_output,
        log=log,
        display=display_out,
        prefix=prefix,
        deadline=deadline,
        cancel=cancel,
    )
    err = Stream(
        "stderr",
        masker,
        limit=max_output,
        log=log,
        display=display_err,
        prefix=prefix,
        deadline=deadline,
        cancel=cancel,
    )
    tree = Tree(child.pid, token)
    try:
        timed_out, interrupted = drain(
            child,
            {child.stdout: out, child.stderr: err},
            started,
            timeout=timeout,
            cancel=cancel,
            control=control,
            tree=tree,
        )
    except BaseException:
        try:
            tree.scan()
            # the group first, at once: a shell whose child the tree stopped first could run its next command
            signal_group(child.pid, signal.SIGTERM)
            tree.signal(signal.SIGTERM)
            stop_group(child, force=False)
        finally:  # the group's grace is over: what left it and still runs gets SIGKILL
            tree.stop(force=lambda: True)
        raise
    finally:
        if control is not None:
            control.discard(child.pid)
        os.close(child.stdout)
        os.close(child.stderr)
    if timed_out or interrupted or (cancel is not None and cancel.is_set()):
        # before the main process is reaped: its pid, the root of the tree, cannot be reused meanwhile
        tree.stop(force=lambda: control is not None and control.force)
    else:
        tree.close()
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


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
