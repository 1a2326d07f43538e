"""`gryt run` options end to end through the real executable: --json, --junit, --runner, --parallel,
--max-parallel, --db, --in-memory, --show, secrets, the project root as working directory, signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from _gryt import GRYT, base_env

from .conftest import pipeline, write

SECRET = "s3cr3t-value-never-shown"

MIXED = """\
[pipeline]
name = "mixed"
secrets = ["GRYT_TEST_SECRET"]

[[runners]]
id = "unit"
steps = [
  { id = "ok", cmd = ["sh", "-c", "echo fine; echo token=$GRYT_TEST_SECRET"] },
  { id = "boom", cmd = ["sh", "-c", "echo partial; echo failed with $GRYT_TEST_SECRET >&2; exit 2"] },
  { id = "never", cmd = ["true"] },
]

[[runners]]
id = "lint"
steps = [{ id = "style", cmd = ["echo", "clean"] }]
"""


@pytest.fixture
def mixed(project: Path) -> Path:
    pipeline(project, "mixed.toml", MIXED)
    return project


def test_json_prints_only_the_masked_result(gryt, mixed: Path) -> None:
    done = gryt("run", "mixed", "--json", cwd=mixed, env={"GRYT_TEST_SECRET": SECRET})
    assert done.code == 1
    result = json.loads(done.stdout)
    assert result["status"] == "error"
    assert set(result) >= {"status", "run_id", "runners", "auth", "issues", "destinations", "warnings"}
    unit = result["runners"]["unit"]
    assert unit["ok"]["stdout"] == "fine\ntoken=***\n"
    assert unit["boom"]["status"] == "error" and unit["boom"]["returncode"] == 2
    assert unit["never"]["status"] == "skipped"
    assert result["runners"]["lint"]["style"]["status"] == "success"
    assert SECRET not in done.stdout + done.stderr

    dump = gryt("db", cwd=mixed)
    assert dump.code == 0 and SECRET not in dump.stdout
    shown = gryt("runs", "show", result["run_id"], cwd=mixed)
    assert shown.code == 0 and SECRET not in shown.stdout


def test_plain_output_masks_secrets_in_the_failure_tail(gryt, mixed: Path) -> None:
    done = gryt("run", "mixed", cwd=mixed, env={"GRYT_TEST_SECRET": SECRET})
    assert done.code == 1
    assert "--- unit/boom stderr (last 20 lines) ---\nfailed with ***\n" in done.stdout
    assert SECRET not in done.stdout + done.stderr


def test_junit_has_a_suite_per_runner_and_a_case_per_step(gryt, mixed: Path, tmp_path: Path) -> None:
    report = tmp_path / "reports" / "junit.xml"
    done = gryt("run", "mixed", "--junit", str(report), cwd=mixed, env={"GRYT_TEST_SECRET": SECRET})
    assert done.code == 1
    raw = report.read_text(encoding="utf-8")
    assert SECRET not in raw
    suites = ET.fromstring(raw)
    assert suites.tag == "testsuites"
    assert (suites.get("tests"), suites.get("failures"), suites.get("skipped")) == ("4", "1", "1")
    by_name = {s.get("name"): s for s in suites.findall("testsuite")}
    assert set(by_name) == {"unit", "lint"}
    cases = {c.get("name"): c for c in by_name["unit"].findall("testcase")}
    assert list(cases) == ["ok", "boom", "never"]
    assert cases["ok"].find("failure") is None
    assert cases["ok"].findtext("system-out") == "fine\ntoken=***\n"
    failure = cases["boom"].find("failure")
    assert failure is not None and "returncode: 2" in (failure.text or "")
    assert cases["boom"].findtext("system-err") == "failed with ***\n"
    assert cases["never"].find("skipped") is not None
    assert cases["boom"].get("classname") == "mixed.unit"


def test_runner_selection(gryt, project: Path) -> None:
    pipeline(
        project,
        "pick.toml",
        '[[runners]]\nid = "build"\nsteps = [{ id = "b", cmd = ["touch", "built"] }]\n\n'
        '[[runners]]\nid = "test"\nneeds = ["build"]\nsteps = [{ id = "t", cmd = ["touch", "tested"] }]\n\n'
        '[[runners]]\nid = "docs"\nsteps = [{ id = "d", cmd = ["touch", "documented"] }]\n',
    )
    done = gryt("run", "pick", "--runner", "test", "--json", cwd=project)
    assert done.code == 0, done.stderr
    assert list(json.loads(done.stdout)["runners"]) == ["test"]
    assert (project / "tested").exists()
    assert not (project / "built").exists() and not (project / "documented").exists()

    both = gryt("run", "pick", "-r", "docs", "-r", "build", "--json", cwd=project)
    assert both.code == 0
    assert sorted(json.loads(both.stdout)["runners"]) == ["build", "docs"]

    bad = gryt("run", "pick", "--runner", "tset", cwd=project)
    assert bad.code == 2
    assert bad.error_lines == [
        'gryt: error: --runner: unknown runner "tset" (did you mean "test"?); runners: build, test, docs'
    ]


def test_parallel_settings_precedence(gryt, project: Path) -> None:
    write(project / ".gryt" / "config.toml", "parallel = true\nmax_parallel = 3\n")
    pipeline(
        project,
        "p.toml",
        '[[runners]]\nsteps = [{ cmd = ["true"] }]\n[[runners]]\nsteps = [{ cmd = ["true"] }]\n',
    )
    pipeline(
        project,
        "q.toml",
        '[pipeline]\nparallel = false\nmax_parallel = 2\n[[runners]]\nsteps = [{ cmd = ["true"] }]\n',
    )

    def config_of(*args: str) -> dict[str, Any]:
        done = gryt("run", *args, "--json", cwd=project)
        assert done.code == 0, done.stderr
        shown = gryt("runs", "show", json.loads(done.stdout)["run_id"], "--json", cwd=project)
        config: dict[str, Any] = json.loads(shown.stdout)["config"]
        return config

    from_project, from_pipeline = config_of("p"), config_of("q")
    assert (from_project["parallel"], from_project["max_parallel"]) == (True, 3)
    assert (from_pipeline["parallel"], from_pipeline["max_parallel"]) == (False, 2)
    flags = config_of("q", "--parallel", "--max-parallel", "1")
    assert (flags["parallel"], flags["max_parallel"]) == (True, 1)
    assert config_of("p", "--sequential")["parallel"] is False

    zero = gryt("run", "p", "--max-parallel", "0", cwd=project)
    assert zero.code == 2 and "--max-parallel: must be at least 1, got 0" in zero.stderr


def test_database_choice(gryt, project: Path, tmp_path: Path) -> None:
    pipeline(project, "one.toml", '[[runners]]\nsteps = [{ id = "a", cmd = ["true"] }]\n')
    memory = gryt("run", "one", "--in-memory", "--json", cwd=project)
    assert memory.code == 0, memory.stderr
    assert not (project / ".gryt" / "gryt.db").exists()

    other = tmp_path / "elsewhere" / "runs.db"
    elsewhere = gryt("run", "one", "--db", str(other), "--json", cwd=project)
    assert elsewhere.code == 0, elsewhere.stderr
    listed = gryt("runs", "list", "--db", str(other), "--json", cwd=project)
    assert [r["run_id"] for r in json.loads(listed.stdout)] == [json.loads(elsewhere.stdout)["run_id"]]
    assert not (project / ".gryt" / "gryt.db").exists()

    both = gryt("run", "one", "--db", str(other), "--in-memory", cwd=project)
    assert both.code == 2 and "exclude each other" in both.stderr


def test_steps_run_in_the_project_root_from_any_subfolder(gryt, project: Path) -> None:
    (project / "src" / "deep").mkdir(parents=True)
    (project / "tools").mkdir()
    write(project / "tools" / "marker.txt", "found me\n")
    pipeline(
        project,
        "where.toml",
        '[[runners]]\nsteps = [\n  { id = "pwd", cmd = ["pwd"] },\n'
        '  { id = "rel", cmd = ["cat", "marker.txt"], cwd = "tools" },\n]\n\n'
        '[[destinations]]\ntype = "directory"\npath = "published"\n\n'
        '[artifacts]\npaths = ["tools/*.txt"]\n',
    )
    done = gryt("run", "where", "--json", cwd=project / "src" / "deep")
    assert done.code == 0, done.stderr
    result = json.loads(done.stdout)
    steps = result["runners"]["runner_0"]
    assert steps["pwd"]["stdout"].strip() == str(project.resolve())
    assert steps["rel"]["stdout"] == "found me\n"
    assert (project / "published" / "marker.txt").read_text() == "found me\n"
    assert [d["status"] for d in result["destinations"]["directory"]] == ["success"]
    assert (project / ".gryt" / "gryt.db").exists()


def test_show_streams_step_output(gryt, project: Path) -> None:
    pipeline(
        project, "loud.toml", '[[runners]]\nsteps = [{ id = "talk", cmd = ["echo", "streamed-line"] }]\n'
    )
    done = gryt("run", "loud", "--show", cwd=project)
    assert done.code == 0, done.stderr
    assert "streamed-line" in done.stdout


def test_live_view_on_a_terminal(project: Path) -> None:
    import pty

    pipeline(project, "tty.toml", MIXED)
    controller, terminal = pty.openpty()
    env = {**base_env(project), "TERM": "xterm", "COLUMNS": "120", "LINES": "40", "GRYT_TEST_SECRET": SECRET}
    env.pop("NO_COLOR")
    proc = subprocess.Popen(
        [GRYT, "run", "tty"], cwd=project, env=env, stdin=terminal, stdout=terminal, stderr=terminal
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            data = os.read(controller, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(controller)
    assert proc.wait(timeout=60) == 1
    out = b"".join(chunks).decode(errors="replace")
    assert "\x1b[" in out  # a real terminal gets the live view
    for header in ("runner", "step", "status", "duration", "attempts"):
        assert header in out
    assert "unit/boom" in out and "failed with ***" in out
    assert SECRET not in out


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"])
def test_signals_exit_130_and_143_and_record_the_run(gryt, project: Path, sig: int, code: int) -> None:
    pipeline(
        project,
        "slow.toml",
        '[[runners]]\nid = "main"\nsteps = [\n  { id = "wait", cmd = ["sh", "-c", "touch started; sleep 30"] },\n'
        '  { id = "after", cmd = ["touch", "after.ran"] },\n]\n',
    )
    proc = subprocess.Popen(
        [GRYT, "run", "slow"],
        cwd=project,
        env=base_env(project),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while not (project / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert b"Traceback" not in out + err
    assert not (project / "after.ran").exists()
    runs = json.loads(gryt("runs", "list", "--json", cwd=project).stdout)
    assert [r["status"] for r in runs] == ["interrupted"]


def test_auth_failure_exits_1_and_runs_nothing(gryt, project: Path) -> None:
    pipeline(
        project,
        "deploy.toml",
        '[[auth]]\ntype = "docker-registry"\nregistry = "127.0.0.1:9"\nusername = "me"\n'
        'token_env_var = "GRYT_TEST_NO_SUCH_TOKEN"\n\n'
        '[[runners]]\nsteps = [{ id = "never", cmd = ["touch", "never.ran"] }]\n',
    )
    done = gryt("run", "deploy", cwd=project)
    assert done.code == 1, done.stdout + done.stderr
    assert "auth docker-registry failed" in done.stdout and "GRYT_TEST_NO_SUCH_TOKEN" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].split()[2] == "auth_failed"
    assert not (project / "never.ran").exists()
