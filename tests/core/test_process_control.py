"""gryt.process.control: which process groups get signalled (os.killpg mocked, nothing is sent)."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from gryt.process import control
from gryt.process.spawn import Child


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Every (pgid, signal) passed to os.killpg during the test."""
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "killpg", lambda pgid, sig: calls.append((pgid, sig)))
    return calls


class _Reaped(Child):
    """A Child whose process is already reaped: wait() needs no real process."""

    def __init__(self, pid: int) -> None:
        super().__init__(pid, -1, -1, None)
        self.returncode = 0


@pytest.mark.parametrize("pgid", [1, 0, -1, -4242])
def test_group_signalling_never_reaches_pgid_1_or_below(pgid: int, sent: list[tuple[int, int]]) -> None:
    control.signal_group(pgid, signal.SIGKILL)
    run = control.ProcessControl(threading.Event())
    run.add(pgid)
    run.interrupt(force=True)
    control.stop_group(_Reaped(pgid), force=False)
    assert sent == []
    assert run.cancel.is_set()


def test_group_signalling_reaches_a_real_group_id(sent: list[tuple[int, int]]) -> None:
    run = control.ProcessControl(threading.Event())
    run.add(4242)
    run.interrupt()
    control.stop_group(_Reaped(4242), force=True)
    assert sent == [(4242, signal.SIGTERM), (4242, signal.SIGKILL)]
