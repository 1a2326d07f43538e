"""Processes and logs, end to end: each step's log file is its own; a timeout or an interrupt stops the
step's descendants even when they left its process group; `--show` never stretches a timeout nor
holds a long line in memory; Ctrl-C during auth or validation ends the run at once as `interrupted`."""

from __future__ import annotations

import json
from pathlib import Path

from gryt.step import log_name

from .harness import PY, Project


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
