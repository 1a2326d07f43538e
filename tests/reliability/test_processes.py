"""Processes and logs, end to end: each step's log file is its own; a timeout or an interrupt stops the
step's descendants even when they left its process group; `--show` never stretches a timeout nor
holds a long line in memory; Ctrl-C during auth or validation ends the run at once as `interrupted`."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from gryt.command import _kill_group, cancel_on, run_short_command
from gryt.process.control import signal_group, signal_process
from gryt.process.output import LINE_HOLD, Stream
from gryt.step import log_name

from .harness import GRYT, PY, Project, alive, wait_until
from .test_output import MEASURE, RSS_LIMIT_MB


def _echo(text: str) -> str:
    return json.dumps([PY, "-c", f"print({text!r})"], ensure_ascii=False)


def test_every_step_writes_its_own_log_file(project: Project) -> None:
    # (runner, step) pairs whose cleaned names used to be one file: dots across the separator,
    # a slash against an underscore, two ids made only of non-ASCII characters
    pairs = [
        ("a.b", "c"),
        ("a", "b.c"),
        ("r", "x/y"),
        ("r", "x_y"),
        ("r", "é"),
        ("r", "ü"),
        ("build", "test"),
    ]
    runners: dict[str, list[str]] = {}
    for runner, step in pairs:
        runners.setdefault(runner, []).append(step)
    text = '[pipeline]\nname = "logs"\n'
    for runner, steps in runners.items():
        text += f"\n[[runners]]\nid = {json.dumps(runner)}\nsteps = [\n"
        for step in steps:
            text += f"  {{ id = {json.dumps(step, ensure_ascii=False)}, cmd = {_echo(f'out of {runner}/{step}')} }},\n"
        text += "]\n"
    project.write_pipeline("logs.toml", text)

    done = project.run("run", "logs", "--json")

    assert done.returncode == 0, done.stderr.decode(errors="replace")
    steps = project.only_run()["steps"]
    paths = {(s["runner_id"], s["step_id"]): Path(s["log_path"]) for s in steps}
    assert set(paths) == set(pairs)
    assert len(set(paths.values())) == len(pairs), paths
    for (runner, step), path in paths.items():
        log = path if path.is_absolute() else project.root / path
        assert log.read_text() == f"out of {runner}/{step}\n"
    assert paths["build", "test"].name == "build.test.log"  # plain ids stay readable


def test_log_names_are_distinct_for_destinations_too() -> None:
    # destination logs are `destination+NAME.log`: NAME is a step-style name of the destination id
    names = {log_name(None, d) for d in ("x/y", "x_y", "x.y", "é", "ü", "up")}
    assert len(names) == 6
    assert log_name(None, "up") == "up"
    assert "+" not in log_name(None, "destination+up")


ESCAPES = {
    # `timeout` moves itself and its child into a new process group; the `; true` keeps sh waiting
    "timeout-group": "timeout 60 {helper} stubborn {name}; true",
    # a daemon in a session of its own whose parent exited (reparented to a subreaper or init)
    "setsid-daemon": "{helper} daemon {name} setsid; sleep 60",
}


def _escape_cmd(project: Project, kind: str, name: str) -> str:
    return ESCAPES[kind].format(helper=f"{PY} {project.helper}", name=name)


@pytest.mark.parametrize("kind", sorted(ESCAPES))
def test_timeout_stops_descendants_that_left_the_group(project: Project, kind: str) -> None:
    cmd = _escape_cmd(project, kind, "esc")
    project.write_pipeline(
        "esc.toml",
        '[pipeline]\nname = "esc"\n\n[[runners]]\nid = "main"\nsteps = [\n'
        f'  {{ id = "esc", cmd = {json.dumps(cmd)}, shell = true, timeout = 5 }},\n]\n',
    )

    done = project.run("run", "esc", "--json", timeout=60)

    assert done.returncode == 1, done.stderr.decode(errors="replace")
    assert project.file("esc.pid").exists()  # the escaped process did start
    assert not alive(int(project.file("esc.pid").read_text()))
    assert project.leftovers() == []
    step = project.only_run()["steps"][0]
    assert step["status"] == "error" and step["timed_out"], step


LIBRARY_RUN = """\
import sys, threading, time
from pathlib import Path
from gryt import CommandStep, Pipeline, Runner

cmd, mode, pid_file = sys.argv[1], sys.argv[2], Path(sys.argv[3])
timeout = 5 if mode == "timeout" else 0  # ample time to start under load
pipe = Pipeline([Runner([CommandStep("esc", {{"cmd": cmd, "shell": True, "timeout": timeout}})], id="main")])
if mode == "interrupt":
    def stop():
        while not pid_file.exists():
            time.sleep(0.02)
        pipe.interrupt()
    threading.Thread(target=stop, daemon=True).start()
result = pipe.execute()
print(result["status"], result["runners"]["main"]["esc"]["status"])
"""


@pytest.mark.parametrize("mode", ["timeout", "interrupt"])
@pytest.mark.parametrize("kind", sorted(ESCAPES))
def test_library_run_stops_descendants_that_left_the_group(project: Project, kind: str, mode: str) -> None:
    # Pipeline.execute() without the CLI: no subreaper, the escaped process is reparented to init
    script = project.root / "library_run.py"
    script.write_text(LIBRARY_RUN.format())
    cmd = _escape_cmd(project, kind, "lib")

    done = subprocess.run(
        [PY, str(script), cmd, mode, str(project.file("lib.pid"))],
        cwd=project.root,
        env=project.env,
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr.decode(errors="replace")
    expected = "error error" if mode == "timeout" else "interrupted interrupted"
    assert done.stdout.decode().split() == expected.split()
    assert project.file("lib.pid").exists()
    assert not alive(int(project.file("lib.pid").read_text()))
    assert project.leftovers() == []


@pytest.mark.parametrize("target", ["-1", "0", "1", "gryt"])
def test_never_signals_a_group_or_pid_at_most_1_nor_gryt(
    monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    pid = os.getpid() if target == "gryt" else int(target)
    sent: list[tuple[str, int]] = []
    monkeypatch.setattr(os, "kill", lambda p, s: sent.append(("kill", p)))
    monkeypatch.setattr(os, "killpg", lambda p, s: sent.append(("killpg", p)))
    monkeypatch.setattr(signal, "pidfd_send_signal", lambda fd, s: sent.append(("pidfd", fd)))

    signal_process(pid, None, signal.SIGKILL)
    signal_process(pid, 99, signal.SIGKILL)
    if pid <= 1:
        signal_group(pid, signal.SIGKILL)
        with pytest.raises(ValueError):
            _kill_group(pid)
    signal_process(4321, None, signal.SIGTERM)  # an ordinary pid does get the signal

    assert sent == [("kill", 4321)]


SLOW_TOOL = f"""#!{PY}
import sys, time
from pathlib import Path
Path(__file__).with_name("slowtool.started").write_text("")
time.sleep(60)
print("slowtool 1.0")
"""


def _interrupt_while(project: Project, name: str, started: str) -> tuple[int, float]:
    """Run pipeline `name`, SIGINT gryt once `started` exists; gryt's exit code and seconds it took."""
    gryt = project.spawn("run", name)
    project.wait_for_file(started)
    sent = time.monotonic()
    gryt.send_signal(signal.SIGINT)
    code = gryt.wait(timeout=30)
    return code, time.monotonic() - sent


def test_sigint_during_an_auth_token_command(project: Project) -> None:
    # a token_command that would run for its whole 60 s timeout: Ctrl-C must not wait for it
    project.write_pipeline(
        "auth.toml",
        '[pipeline]\nname = "auth"\n\n[[auth]]\ntype = "docker-registry"\nid = "registry"\n'
        'registry = "registry.invalid"\nusername_env_var = "REG_USER"\ntimeout = 60\n'
        f"token_command = {project.toml_cmd('hold', 'token')}\n\n"
        f'[[runners]]\nid = "main"\nsteps = [{{ id = "never", cmd = {_echo("ran")} }}]\n',
    )
    project.env["REG_USER"] = "someone"

    code, took = _interrupt_while(project, "auth", "token.started")

    assert code == 130, project.output(project.spawned[0])
    assert took < 10, f"gryt took {took:.1f}s to stop after SIGINT"  # the command alone runs 60 s
    assert project.leftovers() == []
    run = project.only_run()
    assert run["status"] == "interrupted", run
    assert [a["status"] for a in run["auth"]] == ["interrupted"], run["auth"]


def test_sigint_during_a_validator_version_command(project: Project) -> None:
    tool = project.root / "slowtool"
    tool.write_text(SLOW_TOOL)
    tool.chmod(0o755)
    project.write_pipeline(
        "tools.toml",
        '[pipeline]\nname = "tools"\n\n[[validators]]\ntype = "tools"\n'
        f'tools = [{{ name = {json.dumps(str(tool))}, min_version = "1.0", timeout = 60 }}]\n\n'
        f'[[runners]]\nid = "main"\nsteps = [{{ id = "never", cmd = {_echo("ran")} }}]\n',
    )

    code, took = _interrupt_while(project, "tools", "slowtool.started")

    assert code == 130, project.output(project.spawned[0])
    assert took < 10, f"gryt took {took:.1f}s to stop after SIGINT"
    assert project.leftovers() == []
    run = project.only_run()
    assert run["status"] == "interrupted", run
    assert not run.get("issues"), run  # a check cut short is no finding


def test_short_command_stops_when_the_run_is_interrupted(project: Project) -> None:
    # library path (no signal): Pipeline.interrupt() from another thread sets the event
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    with cancel_on(cancel):
        started = time.monotonic()
        result = run_short_command(project.cmd("parent", "short", "60"), timeout=60)
        took = time.monotonic() - started
        again = run_short_command(project.cmd("touch", "again"), timeout=60)

    assert result.interrupted and result.returncode is None and result.error, result
    assert took < 10, f"the command ran {took:.1f}s after the interrupt"
    assert wait_until(lambda: project.leftovers() == [], 5), project.leftovers()  # grandchild too
    assert again.interrupted and not project.file("again.ran").exists()


FLOOD_THEN_WAIT = """\
import os, sys, time
from pathlib import Path
Path(sys.argv[1] + ".tmp").write_text(str(os.getpid()))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])  # whole or absent: the test reads it as soon as it exists
for _ in range(int(sys.argv[2])):
    sys.stdout.write("y" * 1023 + "\\n")
sys.stdout.flush()
time.sleep(60)
"""


def test_show_with_a_stalled_reader_keeps_the_timeout(project: Project) -> None:
    # gryt's stdout is a pipe nobody reads for a while: the step must still be stopped at its timeout
    script = project.root / "flood_then_wait.py"
    script.write_text(FLOOD_THEN_WAIT)
    cmd = [PY, str(script), str(project.file("flood.pid")), str(16 * 1024)]  # 16 MB, > any buffer
    project.write_pipeline(
        "stall.toml",
        '[pipeline]\nname = "stall"\n\n[[runners]]\nid = "main"\nsteps = [\n'
        f'  {{ id = "flood", cmd = {json.dumps(cmd)}, timeout = 4 }},\n]\n',
    )
    gryt = subprocess.Popen(
        [GRYT, "run", "stall", "--show"],
        cwd=project.root,
        env=project.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    project.spawned.append(gryt)
    project.wait_for_file("flood.pid")
    step = int(project.file("flood.pid").read_text())

    stopped = wait_until(lambda: not alive(step), 12)  # timeout 4 s + grace 1 s, reader still stalled
    shown, _ = gryt.communicate(timeout=60)

    assert stopped, "the step outlived its timeout while gryt's output was not read"
    assert gryt.returncode == 1
    assert b"characters of live output dropped" in shown
    record = project.only_run()["steps"][0]
    assert record["timed_out"] and record["duration"] < 10, record


def test_show_streams_a_100_megabyte_line_in_bounded_memory(project: Project) -> None:
    # parallel runners prefix every shown line: a line without end must not be held whole
    line = [PY, "-c", "import sys\nfor _ in range(100): sys.stdout.write('x' * 1048576)\nprint('END')"]
    project.write_pipeline(
        "line.toml",
        '[pipeline]\nname = "line"\n\n'
        f'[[runners]]\nid = "main"\nsteps = [{{ id = "line", cmd = {json.dumps(line)} }}]\n\n'
        f'[[runners]]\nid = "other"\nsteps = [{{ id = "short", cmd = {_echo("hi")} }}]\n',
    )
    rss_file = project.root / "maxrss"
    measure = project.root / "measure.py"
    measure.write_text(MEASURE)

    done = subprocess.run(
        [PY, str(measure), str(rss_file), GRYT, "run", "line", "--show", "--parallel"],
        cwd=project.root,
        env=project.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr.decode(errors="replace")
    peak_mb = int(rss_file.read_text()) / 1024
    assert peak_mb < RSS_LIMIT_MB, f"gryt peaked at {peak_mb:.0f} MB showing one 100 MB line"


def test_show_splits_a_huge_line_into_prefixed_pieces() -> None:
    shown = io.StringIO()
    stream = Stream("stdout", None, limit=1024, log=None, display=shown, prefix="r/s | ")
    stream.feed(b"x" * (3 * LINE_HOLD + 10))
    stream.feed(b"\nnext\n")
    stream.finish()

    lines = shown.getvalue().split("\n")
    assert lines[-1] == ""
    assert all(line.startswith("r/s | ") for line in lines[:-1]), [line[:20] for line in lines]
    assert "".join(line[6:] for line in lines[:-2]) == "x" * (3 * LINE_HOLD + 10)
    assert max(len(line) for line in lines) <= LINE_HOLD + 6
    assert lines[-2] == "r/s | next"
