"""The short-command runner plugins share: process group kill on timeout, bounded and masked output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gryt import command
from gryt.command import CommandResult, run_short_command
from gryt.masking import Masker

PY = sys.executable


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (a zombie only waits for its reaper)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def test_exit_code_output_and_duration_are_reported() -> None:
    result = run_short_command(
        [PY, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"], timeout=30
    )
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert not result.ok and not result.timed_out and result.error is None
    assert result.first_line() == "err" and 0 < result.duration < 30


def test_timeout_kills_the_whole_group_grandchildren_included(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild"
    script = f"sleep 60 & echo $! > {pidfile}; wait"
    started = time.monotonic()
    result = run_short_command(["sh", "-c", script], timeout=1, label="slow")
    assert time.monotonic() - started < 10
    assert result.timed_out and result.returncode is None
    assert result.error == "slow timed out after 1 s and was killed"
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(grandchild), "the backgrounded sleep must die with its group"


def test_the_command_runs_in_a_session_of_its_own_with_empty_stdin() -> None:
    code = "import os, sys; print(os.getsid(0) == os.getpid(), repr(sys.stdin.read()))"
    assert run_short_command([PY, "-c", code], timeout=30).stdout == "True ''\n"


def test_output_is_bounded_per_stream() -> None:
    code = "import sys; sys.stdout.write('a' * 300000); sys.stderr.write('b' * 10)"
    result = run_short_command([PY, "-c", code], timeout=30, max_output=1000)
    assert result.ok and result.stdout == "a" * 1000 and result.stderr == "b" * 10


def test_undecodable_output_is_replaced_not_raised() -> None:
    result = run_short_command([PY, "-c", "import sys; sys.stdout.buffer.write(b'ok \\xff')"], timeout=30)
    assert result.stdout == "ok \ufffd"


def test_secrets_and_masker_values_are_masked_and_a_cut_secret_does_not_leak() -> None:
    code = (
        "import sys; print('token hunter2-secret and', sys.argv[1]); sys.stdout.write('x' * 90 + 'hunter2-s')"
    )
    result = run_short_command(
        [PY, "-c", code, "other-value"],
        timeout=30,
        secrets=["hunter2-secret"],
        masker=Masker(["other-value"]),
        max_output=134,
    )
    assert result.stdout.startswith("token *** and ***\n")
    assert "hunter2" not in result.stdout and "other-value" not in result.stdout


def test_a_call_secret_overlapping_a_run_secret_is_masked_as_their_union() -> None:
    result = run_short_command(
        [PY, "-c", "print('key=own-1234SHARED5678-run')"],
        timeout=30,
        secrets=["own-1234SHARED"],
        masker=Masker(["SHARED5678-run"]),
    )
    assert result.stdout == "key=***\n"


def test_environment_is_the_callers_plus_extra_and_stdin_carries_input() -> None:
    code = "import os, sys; print(os.environ.get('BASE'), os.environ['TOKEN'], sys.stdin.read())"
    result = run_short_command(
        [PY, "-c", code],
        timeout=30,
        env={"BASE": "b", "PATH": os.environ["PATH"]},
        extra_env={"TOKEN": "from-env"},
        input="from-stdin",
        secrets=["from-stdin"],
    )
    assert result.stdout == "b from-env ***\n"
    inherited = run_short_command([PY, "-c", code], timeout=30, extra_env={"TOKEN": "t"}, input="")
    assert inherited.stdout == f"{os.environ.get('BASE')} t \n"


def test_a_command_that_ignores_a_large_input_does_not_hang() -> None:
    result = run_short_command([PY, "-c", "print('done')"], timeout=30, input="x" * 1_000_000)
    assert result.ok and result.stdout == "done\n"


@pytest.mark.parametrize(
    ("argv", "cwd", "error"),
    [
        (["gryt-no-such-program", "--version"], None, "gryt-no-such-program --version: command not found"),
        (["true"], "/nonexistent/dir", "true: working directory not found: /nonexistent/dir"),
    ],
)
def test_a_command_that_cannot_start_gives_one_line(argv: list[str], cwd: str | None, error: str) -> None:
    result = run_short_command(argv, timeout=30, cwd=cwd)
    assert result == CommandResult(None, "", "", error=error)


def test_a_file_that_is_not_executable_is_permission_denied(tmp_path: Path) -> None:
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\n")
    result = run_short_command([str(script)], timeout=30, label="the script")
    assert result.error == "the script: permission denied"


@pytest.mark.parametrize("pgid", [1, 0, -1])
def test_group_ids_up_to_1_are_never_signalled(pgid: int, monkeypatch: pytest.MonkeyPatch) -> None:
    signalled: list[int] = []
    monkeypatch.setattr(os, "killpg", lambda group, sig: signalled.append(group))
    with pytest.raises(ValueError, match=f"refusing to signal process group {pgid}"):
        command._kill_group(pgid)
    assert signalled == []


def test_a_timeout_with_a_bogus_pid_raises_instead_of_signalling_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Popen reporting pid 1 (mocked): the timeout must not become `kill -9 -1` or a kill of init's group."""
    started: list[int] = []
    signalled: list[int] = []

    class BogusPid(subprocess.Popen[bytes]):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            started.append(self.pid)
            self.pid = 1

    monkeypatch.setattr(subprocess, "Popen", BogusPid)
    monkeypatch.setattr(os, "killpg", lambda group, sig: signalled.append(group))
    try:
        with pytest.raises(ValueError, match="refusing to signal process group 1"):
            run_short_command(["sleep", "30"], timeout=0.2)
        assert signalled == []
    finally:
        monkeypatch.undo()
        os.killpg(started[0], signal.SIGKILL)
        os.waitpid(started[0], 0)
