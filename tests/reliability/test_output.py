"""Output, end to end: 100 MB from one step with bounded memory, the end kept and the full log on disk;
non-UTF-8 bytes; a step that closes its output early; a step that leaves a process holding the pipe."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from .harness import GRYT, PY, Project, alive

MEGABYTES = 100
RSS_LIMIT_MB = 120
"""Generous: gryt itself peaks near 50 MB; keeping the output in memory would need 100 MB more."""

MEASURE = """\
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def one_step(project: Project, name: str, cmd: list[str], extra: str = "") -> None:
    project.write_pipeline(
        f"{name}.toml",
        f'[pipeline]\nname = "{name}"\n\n[[runners]]\nid = "main"\nsteps = [\n'
        f'  {{ id = "{name}", cmd = {json.dumps(cmd)} }},\n{extra}]\n',
    )


def step_record(project: Project, run_id: str, step_id: str) -> dict[str, Any]:
    run = project.show(run_id)
    assert run["status"] == "success", run
    return next(step for step in run["steps"] if step["step_id"] == step_id)


@pytest.mark.slow
def test_100_megabytes_from_one_step(project: Project) -> None:
    one_step(project, "flood", project.cmd("flood", str(MEGABYTES)))
    rss_file = project.root / "maxrss"
    measure = project.root / "measure.py"
    measure.write_text(MEASURE)

    done = subprocess.run(
        [PY, str(measure), str(rss_file), GRYT, "run", "flood", "--json"],
        cwd=project.root,
        env=project.env,
        capture_output=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr.decode(errors="replace")
    peak_mb = int(rss_file.read_text()) / 1024
    assert peak_mb < RSS_LIMIT_MB, f"gryt peaked at {peak_mb:.0f} MB for {MEGABYTES} MB of output"
    assert len(done.stdout) < 10 * 1024 * 1024, "the JSON result holds the whole output"
    result = json.loads(done.stdout)
    kept = result["runners"]["main"]["flood"]["stdout"]
    assert kept.endswith("THE-END\n"), kept[-200:]
    assert len(kept) < 10 * 1024 * 1024

    step = step_record(project, result["run_id"], "flood")
    assert step["output"]["stdout"].endswith("THE-END\n")
    log = Path(step["log_path"])
    if not log.is_absolute():
        log = project.root / log
    try:
        assert log.stat().st_size >= MEGABYTES * 1024 * 1024
        with log.open("rb") as fh:
            fh.seek(-200, 2)
            assert fh.read().endswith(b"THE-END\n")
    finally:
        log.unlink()


def test_non_utf8_output(project: Project) -> None:
    script = (
        "import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe\\x80 bad\\n');"
        " sys.stderr.buffer.write(b'\\xc3( err \\xed\\xa0\\x80\\n')"
    )
    one_step(project, "bytes", [PY, "-c", script])

    shown = project.run("run", "bytes", "--show")
    assert shown.returncode == 0, shown.stderr
    assert b"ok " in shown.stdout
    done = project.run("run", "bytes", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    step = result["runners"]["main"]["bytes"]
    assert step["stdout"] == "ok \ufffd\ufffd\ufffd bad\n"
    assert step["stderr"].startswith("\ufffd( err ")

    record = step_record(project, result["run_id"], "bytes")
    assert record["output"]["stdout"] == step["stdout"]
    dump = project.run("db")
    assert dump.returncode == 0
    json.loads(dump.stdout)
    listed = project.run("runs", "show", result["run_id"])
    assert listed.returncode == 0
    if record.get("log_path"):
        log = Path(record["log_path"])
        (log if log.is_absolute() else project.root / log).read_text(encoding="utf-8")


def test_step_that_closes_its_output_early(project: Project) -> None:
    one_step(
        project,
        "closer",
        project.cmd("close", "closer", "1.0"),
        extra=f'  {{ id = "next", cmd = {json.dumps(project.cmd("touch", "next"))} }},\n',
    )

    done = project.run("run", "closer", "--json", timeout=60)

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    step = result["runners"]["main"]["closer"]
    assert step["status"] == "success"
    assert step["stdout"] == "before close\n"
    assert step["duration"] >= 1.0, "gryt must wait for the process, not only for the end of its output"
    assert project.file("closer.closed-finished").exists()
    assert project.file("next.ran").exists()


@pytest.mark.parametrize("group", ["same-group", "setsid"])
def test_background_process_holding_the_pipe_does_not_hang_gryt(project: Project, group: str) -> None:
    one_step(
        project,
        "daemon",
        project.cmd("daemon", "daemon", "setsid" if group == "setsid" else "same"),
        extra=f'  {{ id = "next", cmd = {json.dumps(project.cmd("touch", "next"))} }},\n',
    )

    started = time.monotonic()
    done = project.run("run", "daemon", "--json", timeout=60)
    elapsed = time.monotonic() - started

    assert done.returncode == 0, done.stderr
    assert elapsed < 20, f"gryt waited {elapsed:.1f}s for a background process holding its pipe"
    result = json.loads(done.stdout)
    step = result["runners"]["main"]["daemon"]
    assert step["status"] == "success"
    assert "parent done" in step["stdout"]
    assert step["duration"] < 10
    assert project.file("next.ran").exists()
    assert project.file("daemon.pid").exists()
    if group == "setsid":
        # Out of the step's process group nothing stops it: it still held the pipe when gryt returned.
        assert alive(int(project.file("daemon.pid").read_text()))
