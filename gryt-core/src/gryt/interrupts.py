"""Tell a real Ctrl-C from a `KeyboardInterrupt` that plugin code raised itself.

gryt reports whatever a plugin's hook raises as a plugin error, so a plugin cannot end a run or change
its exit code. `KeyboardInterrupt` is the exception both a plugin's `raise KeyboardInterrupt` and a real
SIGINT produce; the `gryt` command notes every signal it receives (`note_signal`), so a
`KeyboardInterrupt` seen while no signal arrived came from code. Without the `gryt` command (gryt used as
a library, where the signal handler is not gryt's) no signal is ever known to be absent, and every
`KeyboardInterrupt` is left to interrupt.
"""

from __future__ import annotations

import signal
from typing import Any

_state = {"tracking": False, "received": False}


def note_signal() -> None:
    """Record that a real SIGINT/SIGTERM reached the process (the CLI's signal handlers call this)."""
    _state["received"] = True


def _sigint(signum: int, frame: Any) -> None:
    note_signal()
    raise KeyboardInterrupt


def track_signals() -> None:
    """Install gryt's SIGINT handler (Python's, plus `note_signal`); called once by `gryt`'s `main()`."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _sigint)
    _state["tracking"] = True


def raised_by_code(exc: BaseException) -> bool:
    """True when `exc` is a plugin's own doing and may be reported as its error: any SystemExit, and a
    KeyboardInterrupt while gryt tracks signals and none arrived. A real Ctrl-C returns False."""
    if isinstance(exc, KeyboardInterrupt):
        return _state["tracking"] and not _state["received"]
    return isinstance(exc, (Exception, SystemExit))
