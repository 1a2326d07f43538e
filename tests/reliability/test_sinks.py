"""Output sinks, end to end: a reader that goes away, a closed stdout, a full device, an unwritable --junit.

Where gryt's output goes must never change what a run does: the steps keep running, the run keeps its own
exit code, and nothing like "Exception ignored ... BrokenPipeError" or a traceback appears at exit.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .harness import GRYT, Project

CHATTY = (
    "import sys, time\n"
    "for i in range(300):\n"
    "    print('line', i, flush=True)\n"
    "    time.sleep(0.002)\n"
    "open(sys.argv[1], 'w').close()\n"
)


def chatty_pipeline(project: Project, name: str, last: list[str]) -> None:
    """`name`: a step that prints 300 lines over about a second and then writes `name.printed`, then `last`."""
    printer = [sys.executable, "-c", CHATTY, str(project.root / f"{name}.printed")]
    project.write_pipeline(
        f"{name}.toml",
        f'[pipeline]\nname = "{name}"\n\n[[runners]]\nid = "main"\nsteps = [\n'
        f'  {{ id = "chatty", cmd = {json.dumps(printer)} }},\n'
        f'  {{ id = "last", cmd = {json.dumps(last)} }},\n]\n',
    )


OUTCOMES = [("ok", ["true"], 0, "success"), ("failing", ["false"], 1, "error")]


def assert_quiet_exit(stderr: bytes) -> None:
    text = stderr.decode(errors="replace")
    assert "Traceback" not in text, text
    assert "Exception ignored" not in text, text
    assert "BrokenPipeError" not in text, text


@pytest.mark.parametrize(("name", "last", "code", "status"), OUTCOMES, ids=[o[0] for o in OUTCOMES])
def test_reader_that_goes_away_changes_nothing(
    project: Project, name: str, last: list[str], code: int, status: str
) -> None:
    """`gryt run NAME --show | head -n2`: a real pipe whose reader leaves after two lines."""
    chatty_pipeline(project, name, last)
    proc = subprocess.Popen(
        [GRYT, "run", name, "--show"],
        cwd=project.root,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    head = [proc.stdout.readline(), proc.stdout.readline()]
    proc.stdout.close()  # the reader goes away while the step still prints
    stderr = proc.stderr.read()
    proc.wait(timeout=60)

    assert all(head), head
    assert proc.returncode == code, stderr.decode(errors="replace")
    assert_quiet_exit(stderr)
    assert project.file(f"{name}.printed").exists()  # the step was not killed by the closed pipe
    run = project.only_run()
    assert run["status"] == status
    assert [step["status"] for step in run["steps"]] == ["success", status]


def shell(project: Project, script: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run `script` with /bin/sh (`$@` = args), the way a user's shell would redirect gryt's output."""
    return subprocess.run(
        ["/bin/sh", "-c", script, "sh", GRYT, *args],
        cwd=project.root,
        env=project.env,
        capture_output=True,
        timeout=120,
        check=False,
    )


SINKS = {"closed": 'exec "$@" >&-', "full": 'exec "$@" > /dev/full'}
COMMANDS = [["run", "{name}", "--show"], ["run", "{name}"], ["run", "{name}", "--json"]]


@pytest.mark.parametrize("sink", list(SINKS))
@pytest.mark.parametrize(("name", "last", "code", "status"), OUTCOMES, ids=[o[0] for o in OUTCOMES])
def test_closed_or_full_stdout_keeps_the_runs_exit_code(
    project: Project, sink: str, name: str, last: list[str], code: int, status: str
) -> None:
    chatty_pipeline(project, name, last)

    for command in COMMANDS:
        done = shell(project, SINKS[sink], *(part.format(name=name) for part in command))
        assert done.returncode == code, (command, done.stderr.decode(errors="replace"))
        assert_quiet_exit(done.stderr)
    runs = project.runs()
    assert [run["status"] for run in runs] == [status] * len(COMMANDS)

    for command in (["runs", "list"], ["runs", "list", "--json"], ["plugins", "list"]):
        done = shell(project, SINKS[sink], *command)
        assert done.returncode == 0, (command, done.stderr.decode(errors="replace"))
        assert_quiet_exit(done.stderr)


def test_unwritable_junit_path_fails_before_anything_runs(project: Project) -> None:
    project.write_pipeline(
        "touch.toml",
        '[pipeline]\nname = "touch"\n\n[[runners]]\nid = "main"\n'
        f'steps = [{{ id = "touch", cmd = {project.toml_cmd("touch", "touched")} }}]\n',
    )
    (project.root / "notes.txt").write_text("a file, not a folder\n")

    for target, reason in (("notes.txt/junit.xml", "is not a folder"), (".gryt", "Is a directory")):
        done = project.run("run", "touch", "--junit", target)

        lines = done.stderr.decode().splitlines()
        assert done.returncode == 2, done.stderr.decode()
        assert len(lines) == 1, lines
        assert lines[0].startswith("gryt: error: --junit ") and reason in lines[0], lines
        assert not project.file("touched.ran").exists()  # nothing ran
        assert not project.db.exists()  # and nothing was recorded

    done = project.run("run", "touch", "--junit", "reports/junit.xml")  # a folder to create is fine
    assert done.returncode == 0, done.stderr.decode()
    assert (project.root / "reports" / "junit.xml").read_text().startswith("<?xml")


def test_json_document_is_the_only_thing_on_stdout(project: Project) -> None:
    """`--json` with a step that prints and `--show`: the output goes to stderr, stdout is the document."""
    chatty_pipeline(project, "ok", ["true"])

    done = project.run("run", "ok", "--json", "--show")

    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["status"] == "success"
    assert b"line 299" in done.stderr
