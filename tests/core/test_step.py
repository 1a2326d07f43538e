"""CommandStep and gryt.process: real subprocesses."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from gryt.context import RunContext
from gryt.errors import ConfigError
from gryt.masking import Masker
from gryt.process import Capture, StreamMasker, run_command
from gryt.step import CommandStep

PY = sys.executable


def run(config: dict[str, Any], context: RunContext | None = None) -> dict[str, Any]:
    step = CommandStep("s", config)
    step.context = context
    return step.run()


def test_success_result_keys() -> None:
    result = run({"cmd": ["sh", "-c", "echo out; echo err >&2"]})
    assert result == {
        "status": "success",
        "returncode": 0,
        "stdout": "out\n",
        "stderr": "err\n",
        "duration": result["duration"],
        "attempts": 1,
        "timed_out": False,
    }


def test_failure_has_error_and_returncode() -> None:
    result = run({"cmd": ["sh", "-c", "exit 3"]})
    assert result["status"] == "error" and result["returncode"] == 3 and result["error"] == "exit code 3"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "cmd: required"),
        ({"cmd": []}, "cmd: the command is empty"),
        ({"cmd": "echo hi"}, "needs shell = true"),
        ({"cmd": "  ", "shell": True}, "empty"),
        ({"cmd": ["true"], "timeout": -1}, "timeout"),
        ({"cmd": ["true"], "timeout": float("nan")}, "timeout"),
        (
            {"cmd": ["true"], "retry_delay": float("inf")},
            "retry_delay: expected a number between 0 and 31536000, got inf",
        ),
        ({"cmd": ["true"], "retry_delay": -0.5}, "retry_delay"),
        ({"cmd": ["true"], "retries": -1}, "retries"),
        ({"cmd": ["true"], "retries": 1000}, "retries: expected an integer between 0 and 100, got 1000"),
        ({"cmd": ["true"], "max_output": 0}, "max_output"),
        ({"cmd": ["true"], "env": {"A": {"b": 1}}}, "env.A"),
        ({"cmd": ["echo", True]}, r"s\.cmd\[1\]: expected a string or a number, got True"),
        ({"cmd": ["true"], "timout": 3}, 'did you mean "timeout"'),
    ],
)
def test_bad_config(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CommandStep("s", config)


def test_shell_string_and_env_merge(tmp_path: Path) -> None:
    ctx = RunContext(env={"EXPORTED": "from-auth", "OVERRIDE": "context"})
    result = run(
        {
            "cmd": 'echo "$HOME|$PATH|$EXPORTED|$OVERRIDE|$N|$FLAG"; pwd',
            "shell": True,
            "env": {"OVERRIDE": "step", "N": 3, "FLAG": True},
            "cwd": str(tmp_path),
        },
        ctx,
    )
    line, cwd = result["stdout"].splitlines()
    assert line == f"{os.environ['HOME']}|{os.environ['PATH']}|from-auth|step|3|true"
    assert Path(cwd).resolve() == tmp_path.resolve()


def test_missing_executable_and_bad_cwd(tmp_path: Path) -> None:
    result = run({"cmd": ["gryt-no-such-tool-xyz"]})
    assert result["status"] == "error" and result["error"] == "executable not found: gryt-no-such-tool-xyz"
    assert result["returncode"] is None
    missing = tmp_path / "nope"
    result = run({"cmd": ["true"], "cwd": str(missing)})
    assert result["status"] == "error" and str(missing) in result["error"]


def test_relative_cwd_resolved_in_runtime_cwd(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    step = CommandStep("s", {"cmd": ["pwd"], "cwd": "sub"})
    step.context = RunContext(cwd=str(tmp_path))
    assert Path(step.run()["stdout"].strip()).resolve() == (tmp_path / "sub").resolve()


def test_timeout_kills_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    started = time.monotonic()
    result = run({"cmd": ["sh", "-c", f"(sleep 5; touch {marker}) & sleep 30"], "timeout": 1})
    elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert result["status"] == "error" and result["timed_out"] is True and "timed out" in result["error"]
    time.sleep(0.2)
    assert not marker.exists()


def test_timeout_escalates_to_sigkill() -> None:
    started = time.monotonic()
    out = run_command(["sh", "-c", "trap '' TERM; sleep 30"], timeout=0.3)
    assert out.timed_out and time.monotonic() - started < 3.0
    assert out.returncode == -9


def test_retries_succeed_on_second_attempt(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    script = (
        f"import pathlib,sys; p=pathlib.Path({str(counter)!r}); n=int(p.read_text()) if p.exists() else 0; "
        "p.write_text(str(n+1)); print('attempt', n+1); sys.exit(0 if n >= 1 else 1)"
    )
    result = run({"cmd": [PY, "-c", script], "retries": 3, "retry_delay": 0.05})
    assert result["status"] == "success" and result["attempts"] == 2 and counter.read_text() == "2"
    assert result["stdout"] == "attempt 2\n"


def test_retries_exhausted() -> None:
    result = run({"cmd": ["false"], "retries": 2, "retry_delay": 0})
    assert result["status"] == "error" and result["attempts"] == 3


def test_lingering_daemon_does_not_hang() -> None:
    started = time.monotonic()
    result = run({"cmd": ["sh", "-c", "sleep 20 & echo started"]})
    assert time.monotonic() - started < 3.0
    assert result["status"] == "success" and result["stdout"] == "started\n"


def test_process_closing_pipes_still_times_out() -> None:
    started = time.monotonic()
    out = run_command(["sh", "-c", "exec >&- 2>&-; sleep 30"], timeout=0.5)
    assert out.timed_out and time.monotonic() - started < 3.0


def test_cancel_interrupts() -> None:
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    out = run_command(["sleep", "30"], cancel=cancel)
    assert out.interrupted and out.error == "interrupted" and time.monotonic() - started < 3.0


def test_invalid_utf8_replaced() -> None:
    out = run_command(
        [
            PY,
            "-c",
            "import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe end \\xc3'); sys.stdout.buffer.write(b'\\xa9')",
        ]
    )
    assert out.stdout == "ok \ufffd\ufffd end \u00e9"


def test_masking_split_across_reads(tmp_path: Path) -> None:
    secret = "hunter2-very-secret"
    ctx = RunContext(log_dir=tmp_path)
    ctx.add_secret(secret)
    code = (
        "import sys,time\n"
        f"s={secret!r}\n"
        "for out in (sys.stdout, sys.stderr):\n"
        "    for part in ('pre ' + s[:5], s[5:12], s[12:] + ' post\\n'):\n"
        "        out.write(part); out.flush(); time.sleep(0.05)\n"
        f"sys.exit('failed with ' + s)\n"
    )
    step = CommandStep("masked", {"cmd": [PY, "-c", code]})
    step.context = ctx
    result = step.run()
    assert result["stdout"] == "pre *** post\n"
    assert result["stderr"].startswith("pre *** post\n") and "failed with ***" in result["stderr"]
    log = (tmp_path / "masked.log").read_text()
    assert secret not in log and "***" in log and step.log_path == tmp_path / "masked.log"


def test_stream_masker_unit() -> None:
    masker = Masker(["abcdef", "abcdefghij"])
    stream = StreamMasker(masker)
    text = "xx abcdefghij yy abcdef zz abc"
    out = "".join(stream.feed(ch) for ch in text) + stream.flush()
    assert out == "xx *** yy *** zz abc"


def test_capture_keeps_head_and_tail() -> None:
    capture = Capture(10)
    for chunk in ("0123", "4567", "89ab", "cdef"):
        capture.add(chunk)
    assert capture.cut == 6 and capture.text() == "01234\n[gryt: 6 characters cut here]\nbcdef"


def test_truncated_output_reported(tmp_path: Path) -> None:
    ctx = RunContext(log_dir=tmp_path)
    step = CommandStep("big", {"cmd": [PY, "-c", "print('x' * 5000)"], "max_output": 1000})
    step.context = ctx
    result = step.run()
    assert result["truncated"] == {"stdout": 4001, "stderr": 0}
    assert len(result["stdout"]) < 1100
    assert (tmp_path / "big.log").read_text() == "x" * 5000 + "\n"


def test_show_streams_with_prefix(capfd: pytest.CaptureFixture[str]) -> None:
    ctx = RunContext(show=True, prefix_output=True, runner_id="r1")
    step = CommandStep("hello", {"cmd": ["sh", "-c", "printf 'a\\nb'; echo oops >&2"]})
    step.context = ctx
    step.run()
    out, err = capfd.readouterr()
    assert out == "r1/hello | a\nr1/hello | b\n"
    assert err == "r1/hello | oops\n"


MEMORY_CHILD = """
import resource, sys
from gryt.context import RunContext
from gryt.step import CommandStep
ctx = RunContext(log_dir=__import__('pathlib').Path(sys.argv[1]))
ctx.add_secret('never-printed-secret')
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
cmd = [sys.executable, '-c', "import sys; b = b'y' * 1023 + b'\\\\n'; w = sys.stdout.buffer.write\\nfor _ in range(50 * 1024): w(b)"]
step = CommandStep('flood', {'cmd': cmd})
step.context = ctx
result = step.run()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(result['status'], result['truncated']['stdout'], len(result['stdout']), baseline, peak)
"""


def test_50mb_output_bounded_memory(tmp_path: Path) -> None:
    import subprocess

    out = subprocess.run(
        [PY, "-c", MEMORY_CHILD, str(tmp_path)], capture_output=True, text=True, check=True, timeout=120
    )
    status, cut, kept, baseline, peak = out.stdout.split()
    assert status == "success"
    assert int(cut) == 50 * 1024 * 1024 - 1024 * 1024
    assert int(kept) < 1024 * 1024 + 100
    assert (int(peak) - int(baseline)) < 100 * 1024  # KiB on Linux
    assert (tmp_path / "flood.log").stat().st_size == 50 * 1024 * 1024
