"""The engine's fast paths behave exactly like the general ones: spawning, raw output, batched history."""

from __future__ import annotations

import calendar
import os
import re
import stat
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gryt import CommandStep, Pipeline, Runner, SqliteData
from gryt.context import RunContext
from gryt.data import MAX_VARIABLES
from gryt.history import BATCH_DELAY, Recorder, get_run, now_iso
from gryt.masking import Masker
from gryt.process import Capture, LazyLog, run_command

PY = sys.executable
CHILD_STATE = "import os, sys; print(os.getsid(0) == os.getpid(), sys.stdin.read() == '')"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize("cwd", [None, "."], ids=["posix_spawn", "popen"])
def test_child_gets_default_signals_own_session_and_empty_stdin(cwd: str | None) -> None:
    status = run_command(["cat", "/proc/self/status"], cwd=cwd)
    ignored = int(re.search(r"^SigIgn:\s*([0-9a-f]+)$", status.stdout, re.M).group(1), 16)  # type: ignore[union-attr]
    for number in (13, 25):  # SIGPIPE and SIGXFSZ, which Python itself ignores
        assert not ignored & (1 << (number - 1)), f"signal {number} is ignored in the child"
    out = run_command([PY, "-c", CHILD_STATE], cwd=cwd)
    assert out.ok and out.stdout == "True True\n", out


@pytest.mark.parametrize("cwd", [None, "."], ids=["posix_spawn", "popen"])
def test_start_errors_name_the_problem(tmp_path: Path, cwd: str | None) -> None:
    missing = run_command(["gryt-no-such-tool-xyz"], cwd=cwd)
    assert missing.returncode is None and missing.error == "executable not found: gryt-no-such-tool-xyz"
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\necho hi\n")
    denied = run_command([str(script)], cwd=cwd)
    assert denied.returncode is None and denied.error == f"permission denied: {script}"
    assert run_command([], cwd=cwd).error == "cannot start: the command is empty"


def test_step_env_and_path_reach_the_command(tmp_path: Path) -> None:
    tool = tmp_path / "gryt-test-tool"
    tool.write_text('#!/bin/sh\necho "tool $GREETING"\n')
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    env = {"PATH": f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}", "GREETING": "hello"}
    step = CommandStep("s", {"cmd": ["gryt-test-tool"], "env": env})
    step.context = RunContext(env={"GREETING": "overridden by the step"})
    assert step.run()["stdout"] == "tool hello\n"

    exported = CommandStep("e", {"cmd": ["sh", "-c", "echo $FROM_RUN-$FROM_STEP"], "env": {"FROM_STEP": "2"}})
    exported.context = RunContext(env={"FROM_RUN": "1"})
    assert exported.run()["stdout"] == "1-2\n"
    assert "FROM_RUN" not in os.environ


def test_environment_override_in_a_subclass_is_honoured() -> None:
    class Custom(CommandStep):
        def environment(self, context: RunContext) -> dict[str, str] | None:
            return {"PATH": os.environ.get("PATH", ""), "ONLY": "this"}

    step = Custom("c", {"cmd": ["sh", "-c", "echo ${ONLY}-${HOME:-nohome}"]})
    step.context = RunContext()
    assert step.run()["stdout"] == "this-nohome\n"


def test_command_override_in_a_subclass_runs_instead_of_cmd_which_stays_as_written() -> None:
    class Wrapped(CommandStep):
        def command(self, context: RunContext) -> list[str] | str:
            return ["sh", "-c", "echo wrapped", *self.config["cmd"]]

    step = Wrapped("w", {"cmd": ["echo", "written"], "retries": 1})
    step.context = RunContext()
    assert step.run()["stdout"] == "wrapped\n"
    assert step.config["cmd"] == ["echo", "written"]


MIXED = (
    "import sys, time\n"
    "w = sys.stdout.buffer.write\n"
    "for chunk in (b'plain ascii ' * 40, b'caf\\xc3', b'\\xa9 ok ', b'bad \\xff\\xfe ', 'é' .encode() * 300,"
    " b'x' * 5000, b'\\xe2\\x82', b'\\xac end\\n'):\n"
    "    w(chunk); sys.stdout.flush(); time.sleep(0.01)\n"
)


def test_raw_and_decoded_output_paths_agree(tmp_path: Path) -> None:
    """ASCII reads skip decoding only when nothing is masked: the result and log are the same either way.

    (stdout only: a masker holds back a few characters per stream, which may move them after the other
    stream's text in the interleaved log.)"""
    results = []
    for name, masker in (("raw", None), ("decoded", Masker(["an-unrelated-secret"]))):
        log = LazyLog(tmp_path / f"{name}.log")
        out = run_command([PY, "-c", MIXED], max_output=700, masker=masker, log=log)
        log.close()
        results.append((out.stdout, out.stderr, out.truncated, (tmp_path / f"{name}.log").read_bytes()))
    assert results[0] == results[1]
    stdout, _, truncated, log_bytes = results[0]
    assert truncated["stdout"] > 0 and stdout.endswith("€ end\n")
    log_bytes.decode("utf-8")  # invalid input bytes were replaced, never copied raw
    assert "\ufffd" in log_bytes.decode("utf-8")


def test_masking_turns_on_for_a_secret_added_while_the_command_runs(tmp_path: Path) -> None:
    masker = Masker()
    code = "import sys, time\nfor _ in range(30):\n    print('token=sekrit-value-123', flush=True); time.sleep(0.02)\n"
    threading.Timer(0.1, masker.add, args=("sekrit-value-123",)).start()
    log = LazyLog(tmp_path / "late.log")
    out = run_command([PY, "-c", code], masker=masker, log=log)
    log.close()
    assert out.stdout.endswith("token=***\n")
    assert (tmp_path / "late.log").read_text().endswith("token=***\n")


def _reference(pieces: list[str], limit: int) -> tuple[str, int]:
    text = "".join(pieces)
    head, tail = limit // 2, limit - limit // 2
    if len(text) <= limit:
        return text, 0
    cut = len(text) - head - tail
    return f"{text[:head]}\n[gryt: {cut} characters cut here]\n{text[len(text) - tail :]}", cut


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(
        st.one_of(st.text(max_size=30), st.text(alphabet="abcxyz\n", max_size=40).map(str.encode)),
        max_size=25,
    ),
    limit=st.integers(min_value=1, max_value=60),
)
def test_capture_of_text_and_ascii_bytes_matches_the_plain_definition(
    pieces: list[str | bytes], limit: int
) -> None:
    capture = Capture(limit)
    for piece in pieces:
        capture.add(piece)
    expected, cut = _reference([p if isinstance(p, str) else p.decode() for p in pieces], limit)
    assert capture.cut == cut
    assert capture.text() == expected
    assert capture.cut == cut


def test_insert_many_keeps_order_across_column_sets(tmp_path: Path) -> None:
    with SqliteData(tmp_path / "g.db") as data:
        data.create_table("t", {"a": "TEXT", "b": "TEXT"})
        data.insert_many("t", [{"a": "1"}, {"a": "2", "b": {"x": 1}}, {"a": "3", "b": None}, {"b": "4"}])
        rows = data.query("SELECT a, b FROM t ORDER BY rowid")
    assert rows == [
        {"a": "1", "b": None},
        {"a": "2", "b": '{"x": 1}'},
        {"a": "3", "b": None},
        {"a": None, "b": "4"},
    ]


def test_insert_many_splits_statements_at_the_parameter_limit(tmp_path: Path) -> None:
    rows = [{"a": str(i), "b": str(i % 7)} for i in range(MAX_VARIABLES + 5)]
    with SqliteData(tmp_path / "g.db") as data:
        data.create_table("t", {"a": "TEXT", "b": "TEXT"})
        data.insert_many("t", rows)
        stored = data.query("SELECT a, b FROM t ORDER BY rowid")
    assert stored == rows


def _step_rows(path: Path, run_id: str) -> list[dict[str, Any]]:
    with SqliteData(path) as data:
        return data.query("SELECT step_id FROM step_runs WHERE pipeline_id = ? ORDER BY id", (run_id,))


def test_background_rows_appear_while_the_run_goes_and_close_waits_for_all(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    with SqliteData(path) as data:
        recorder = Recorder(data, background=True)
        recorder.run_started("r1", "ci")
        recorder.step_finished("r1", "main", "first", "command", {"status": "success"})
        deadline = time.monotonic() + 10
        while not _step_rows(path, "r1") and time.monotonic() < deadline:
            time.sleep(BATCH_DELAY / 5)
        assert _step_rows(path, "r1") == [{"step_id": "first"}], "a queued row is written without close()"
        for i in range(50):
            recorder.step_finished("r1", "main", f"s{i}", "command", {"status": "success"})
        recorder.run_finished("r1", "success")
        assert len(_step_rows(path, "r1")) == 51
        assert recorder.errors == []


def test_parallel_recorders_on_two_databases_keep_their_rows_apart(tmp_path: Path) -> None:
    failures: dict[str, BaseException] = {}

    def run(name: str) -> None:
        try:
            with SqliteData(tmp_path / f"{name}.db") as data:
                steps = [CommandStep(f"{name}{i}", {"cmd": ["true"]}) for i in range(15)]
                result = Pipeline([Runner(steps, id="r")], data=data, name=name).execute()
                assert result["status"] == "success"
                run_row = get_run(data, result["run_id"])
                assert run_row is not None
                assert [s["step_id"] for s in run_row["steps"]] == [f"{name}{i}" for i in range(15)]
        except BaseException as exc:  # an assertion in a thread only warns: hand it to the test's thread
            failures[name] = exc

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a pipeline thread did not finish within 60 s"
    for exc in failures.values():
        raise exc
    for name in ("a", "b"):
        with SqliteData(tmp_path / f"{name}.db") as data:
            assert data.query("SELECT COUNT(*) AS n FROM step_runs") == [{"n": 15}]


def test_background_write_errors_are_reported_not_raised(tmp_path: Path) -> None:
    data = SqliteData(tmp_path / "g.db")
    recorder = Recorder(data, background=True)
    recorder.run_started("r1", "ci")
    data.close()
    recorder.step_finished("r1", "main", "s", "command", {"status": "success"})
    recorder.step_finished("r1", "main", "t", "command", {"status": "success"})
    recorder.close()
    # both rows failed alike: one line for the user, not one per row
    assert len(recorder.errors) == 1 and "database is closed" in recorder.errors[0]


def test_now_iso_format_and_order() -> None:
    before = time.time()
    stamps = [now_iso() for _ in range(2000)]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", s) for s in stamps)
    assert stamps == sorted(stamps)
    first = calendar.timegm(time.strptime(stamps[0][:19], "%Y-%m-%dT%H:%M:%S"))
    assert abs(first + int(stamps[0][20:23]) / 1000 - before) < 5


def test_quick_exit_wait_respects_a_shorter_timeout_and_big_early_output() -> None:
    started = time.monotonic()
    out = run_command(["sleep", "5"], timeout=0.002)
    assert out.timed_out and time.monotonic() - started < 3
    big = run_command([PY, "-c", "import sys; sys.stdout.write('y' * 300_000)"], max_output=10)
    assert big.ok and big.truncated == {"stdout": 300_000 - 10, "stderr": 0}
