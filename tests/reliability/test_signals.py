"""Signals and crashes, end to end: SIGINT/SIGTERM stop the whole step process group, start nothing more,
run teardown and auth cleanup, record `interrupted` and exit 130/143; a daemon that left its step's session
is stopped too; a second SIGINT skips the grace period; a SIGKILLed run stays `running` and is listed as
`abandoned`."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from .harness import PY, Project, alive, wait_until

GRANDCHILD_DELAY = 1.5
"""Seconds after which a step's grandchild writes its marker, unless it was killed with its group."""

PIPELINE = """\
from pathlib import Path

from gryt import Auth, CommandStep, Pipeline, Runner, Runtime

ROOT = Path({root!r})


class MarkRuntime(Runtime):
    name = "mark-runtime"

    def provision(self):
        (ROOT / "provisioned").write_text("yes")

    def teardown(self):
        (ROOT / "teardown").write_text("yes")


class MarkAuth(Auth):
    name = "mark-auth"

    def authenticate(self):
        return {{"status": "success"}}

    def cleanup(self):
        (ROOT / "cleanup").write_text("yes")


{prelude}

RUNNERS = {runners!r}
NEEDS = {needs!r}


def build():
    runners = [
        Runner(
            [CommandStep(step_id, {{"cmd": cmd}}) for step_id, cmd in steps],
            id=runner_id,
            needs=NEEDS.get(runner_id, ()),
        )
        for runner_id, steps in RUNNERS
    ]
    return Pipeline(runners, runtime=MarkRuntime(), auth_steps=[MarkAuth("mark")], name="signals")
"""


ESCAPE = """\
\"\"\"`escape.py NAME MODE`: start a daemon that leaves the step's session (double fork + setsid), then
wait like a long step. The daemon would write NAME.marker after 30 s; MODE `stubborn` ignores SIGTERM.\"\"\"
import os
import signal
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
name, mode = sys.argv[1], sys.argv[2]


def note(suffix, text=""):
    tmp = HERE / f"{name}.{suffix}.tmp"
    tmp.write_text(text)
    tmp.replace(HERE / f"{name}.{suffix}")


if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        if mode == "stubborn":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        note("daemon.pid", str(os.getpid()))
        time.sleep(30)
        note("marker", "the daemon outlived the interrupted run")
    os._exit(0)
os.wait()
while not (HERE / f"{name}.daemon.pid").exists():
    time.sleep(0.01)
note("pid", str(os.getpid()))
note("started")
time.sleep(120)
"""


def write_pipeline(
    project: Project,
    runners: list[tuple[str, list[tuple[str, list[str]]]]],
    prelude: str = "",
    needs: dict[str, list[str]] | None = None,
) -> None:
    project.write_pipeline(
        "signals.py",
        PIPELINE.format(root=str(project.root), runners=runners, prelude=prelude, needs=needs or {}),
    )


def pid_of(project: Project, name: str) -> int:
    return int(project.file(name).read_text())


def assert_group_gone(project: Project, names: list[str], started_at: float) -> None:
    """Each step's main process and grandchild are dead, and no marker appears after the grandchild's delay."""
    for name in names:
        for pid_file in (f"{name}.pid", f"{name}.gc.pid"):
            pid = pid_of(project, pid_file)
            assert wait_until(lambda pid=pid: not alive(pid), 5), f"{pid_file} ({pid}) is still running"
    time.sleep(max(0.0, started_at + GRANDCHILD_DELAY + 0.5 - time.monotonic()))
    for name in names:
        assert not project.file(f"{name}.marker").exists(), f"the grandchild of {name} kept running"
    assert project.leftovers() == []


def assert_recorded_interrupted(
    project: Project, running: list[str], not_started: list[str], runner_ids: list[str]
) -> None:
    """The run, its runners, the steps that were running and those that never started: all `interrupted`."""
    run = project.only_run()
    assert run["status"] == "interrupted", run
    assert not run["abandoned"]
    steps = {step["step_id"]: step for step in run["steps"]}
    for step_id in running:
        assert step_id in steps, f"step {step_id} not recorded: {sorted(steps)}"
        assert steps[step_id]["status"] == "interrupted", steps[step_id]
        assert steps[step_id]["output"]["error"] == "interrupted", steps[step_id]
    for step_id in not_started:
        assert step_id in steps, f"step {step_id} not recorded: {sorted(steps)}"
        assert steps[step_id]["status"] == "interrupted", steps[step_id]
    runners = {runner["runner_id"]: runner for runner in run["runners"]}
    for runner_id in runner_ids:
        assert runners[runner_id]["status"] == "interrupted", runners[runner_id]


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_signal_stops_the_step_group_and_records_interrupted(
    project: Project, sig: signal.Signals, code: int
) -> None:
    write_pipeline(
        project,
        [
            (
                "main",
                [
                    ("work", project.cmd("parent", "work", str(GRANDCHILD_DELAY))),
                    ("after", project.cmd("touch", "after")),
                ],
            )
        ],
    )
    gryt = project.spawn("run", "signals")
    project.wait_for_file("work.started")
    started_at = time.monotonic()

    gryt.send_signal(sig)
    assert gryt.wait(timeout=30) == code, project.output(gryt)

    assert_group_gone(project, ["work"], started_at)
    assert not project.file("after.ran").exists(), "a step started after the interrupt"
    assert project.file("teardown").exists(), "runtime teardown did not run"
    assert project.file("cleanup").exists(), "auth cleanup did not run"
    assert_recorded_interrupted(project, ["work"], ["after"], ["main"])
    stdout, stderr = project.output(gryt)
    assert "Traceback" not in stdout + stderr


def test_sigint_stops_parallel_runners(project: Project) -> None:
    write_pipeline(
        project,
        [
            (
                runner,
                [
                    (f"{runner}-work", project.cmd("parent", runner, str(GRANDCHILD_DELAY))),
                    (f"{runner}-after", project.cmd("touch", f"{runner}-after")),
                ],
            )
            for runner in ("left", "right")
        ]
        + [("later", [("later-step", project.cmd("touch", "later"))])],
        needs={"later": ["left"]},
    )
    gryt = project.spawn("run", "signals", "--parallel")
    project.wait_for_file("left.started")
    project.wait_for_file("right.started")
    started_at = time.monotonic()

    gryt.send_signal(signal.SIGINT)
    assert gryt.wait(timeout=30) == 130, project.output(gryt)

    assert_group_gone(project, ["left", "right"], started_at)
    assert not project.file("left-after.ran").exists()
    assert not project.file("right-after.ran").exists()
    assert not project.file("later.ran").exists(), "a runner waiting on an interrupted one started"
    assert project.file("teardown").exists()
    assert project.file("cleanup").exists()
    assert_recorded_interrupted(
        project,
        ["left-work", "right-work"],
        ["left-after", "right-after", "later-step"],
        ["left", "right", "later"],
    )


def test_steps_running_at_the_interrupt_are_recorded_interrupted(project: Project) -> None:
    runners = ["r1", "r2", "r3", "r4"]
    write_pipeline(project, [(r, [(f"{r}-work", project.cmd("parent", r, "60"))]) for r in runners])
    gryt = project.spawn("run", "signals", "--parallel")
    for r in runners:
        project.wait_for_file(f"{r}.started")

    gryt.send_signal(signal.SIGINT)
    assert gryt.wait(timeout=30) == 130, project.output(gryt)

    steps = {step["step_id"]: step for step in project.only_run()["steps"]}
    for r in runners:
        output = steps[f"{r}-work"]["output"]
        assert steps[f"{r}-work"]["status"] == "interrupted", output
        assert output["error"] == "interrupted", output


def test_second_sigint_skips_the_grace_period(project: Project) -> None:
    # A long grace makes "killed at once" distinguishable from "killed after the grace" without tight timing.
    write_pipeline(
        project,
        [
            (
                "main",
                [("stubborn", project.cmd("stubborn", "stubborn")), ("after", project.cmd("touch", "after"))],
            )
        ],
        prelude="import gryt.process.control\n\ngryt.process.control.KILL_GRACE = 60.0\n",
    )
    gryt = project.spawn("run", "signals")
    project.wait_for_file("stubborn.started")
    step = pid_of(project, "stubborn.pid")

    gryt.send_signal(signal.SIGINT)
    time.sleep(1.0)
    assert alive(step), "the step ignores SIGTERM and must survive the first SIGINT during the grace period"
    assert gryt.poll() is None, "gryt must wait for the grace period after the first SIGINT"

    second = time.monotonic()
    gryt.send_signal(signal.SIGINT)
    assert gryt.wait(timeout=20) == 130, project.output(gryt)
    assert time.monotonic() - second < 20
    assert wait_until(lambda: not alive(step), 5)
    assert not project.file("after.ran").exists()
    assert project.file("teardown").exists()
    assert project.file("cleanup").exists()
    assert_recorded_interrupted(project, ["stubborn"], ["after"], ["main"])


def test_sigkill_leaves_a_running_run_listed_as_abandoned(project: Project) -> None:
    write_pipeline(project, [("main", [("work", project.cmd("parent", "work", "60"))])])
    gryt = project.spawn("run", "signals")
    project.wait_for_file("work.started")

    os.kill(gryt.pid, signal.SIGKILL)
    gryt.wait(timeout=10)
    for pid in project.leftovers():
        os.kill(pid, signal.SIGKILL)

    runs = project.runs()
    assert len(runs) == 1
    assert runs[0]["status"] == "running"
    assert runs[0]["abandoned"] is True
    assert runs[0]["pid"] == gryt.pid
    listed = project.run("runs", "list")
    assert listed.returncode == 0
    assert b"abandoned" in listed.stdout
    shown = project.run("runs", "show", runs[0]["run_id"])
    assert shown.returncode == 0
    assert b"abandoned" in shown.stdout


linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="gryt becomes a child subreaper on Linux only"
)


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@linux_only
@pytest.mark.parametrize("mode", ["polite", "stubborn"])
def test_sigint_also_stops_a_daemon_that_left_the_step_session(project: Project, mode: str) -> None:
    escape = project.file("escape.py")
    escape.write_text(ESCAPE)
    write_pipeline(project, [("main", [("serve", [PY, str(escape), "serve", mode])])])
    gryt = project.spawn("run", "signals")
    project.wait_for_file("serve.started")
    daemon = pid_of(project, "serve.daemon.pid")
    step = pid_of(project, "serve.pid")
    assert os.getsid(daemon) != os.getsid(step), "the daemon must be in a session of its own"
    assert parent_of(daemon) == gryt.pid, "the orphaned daemon must be reparented to gryt (child subreaper)"

    gryt.send_signal(signal.SIGINT)
    assert gryt.wait(timeout=30) == 130, project.output(gryt)

    assert wait_until(lambda: not alive(daemon), 3), f"the daemon ({daemon}) is still running"
    assert not project.file("serve.marker").exists()
    assert project.leftovers() == []
    assert project.file("teardown").exists()
    assert_recorded_interrupted(project, ["serve"], [], ["main"])


@linux_only
def test_second_sigint_skips_the_grace_of_an_escaped_daemon(project: Project) -> None:
    escape = project.file("escape.py")
    escape.write_text(ESCAPE)
    write_pipeline(
        project,
        [("main", [("serve", [PY, str(escape), "serve", "stubborn"])])],
        prelude="import gryt.process.control\nimport gryt.reaper\n\n"
        "gryt.reaper.GRACE = 60.0\ngryt.process.control.KILL_GRACE = 60.0\n",
    )
    gryt = project.spawn("run", "signals")
    project.wait_for_file("serve.started")
    daemon = pid_of(project, "serve.daemon.pid")
    step = pid_of(project, "serve.pid")

    gryt.send_signal(signal.SIGINT)
    # the step's own process stops at once; the daemon that left its session gets the grace periods
    # (60 s here) of the step (gryt.process.tree) and of the run (gryt.reaper)
    assert wait_until(lambda: not alive(step), 10), "the step's own process must stop at the first SIGINT"
    time.sleep(0.5)
    assert alive(daemon), (
        "the daemon ignores SIGTERM and must survive the first SIGINT during the grace period"
    )
    assert gryt.poll() is None, "gryt must wait for the daemon's grace period after the first SIGINT"

    second = time.monotonic()
    gryt.send_signal(signal.SIGINT)
    assert gryt.wait(timeout=20) == 130, project.output(gryt)
    assert time.monotonic() - second < 20
    assert wait_until(lambda: not alive(daemon), 3), f"the daemon ({daemon}) is still running"
    assert not project.file("serve.marker").exists()
    assert project.leftovers() == []
