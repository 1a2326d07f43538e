"""`gryt --help` and `gryt --version` stay cheap: no pipeline engine, database, TOML parser or plugin."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

DRIVER = """
import json, sys
sys.argv = ["gryt", *sys.argv[1:]]
from gryt.cli import main
try:
    main()
finally:
    print("MODULES=" + json.dumps(sorted(sys.modules)), file=sys.stderr)
"""

NEVER = (
    "sqlite3",
    "tomllib",
    "tomli",
    "gryt.pipeline",
    "gryt.runner",
    "gryt.data",
    "gryt.history",
    "gryt.loader",
    "gryt.project",
    "gryt.junit",
    "gryt.cli.progress",
    "gryt.report",
    "gryt.builtins",
    "gryt_validators",
    "gryt_auth_fly",
    "gryt_auth_docker",
)


def modules_after(tmp_path: Path, *args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stderr.splitlines() if line.startswith("MODULES="))
    return set(json.loads(line.removeprefix("MODULES=")))


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_startup_imports_nothing_heavy(tmp_path: Path, flag: str) -> None:
    loaded = modules_after(tmp_path, flag)
    assert "gryt.cli.run" in loaded  # the command modules are imported, their heavy imports are not
    heavy = {m for m in loaded if m in NEVER or m.split(".")[0] in NEVER}
    assert heavy == set()
    if flag == "--version":
        assert not any(m == "rich" or m.startswith("rich.") for m in loaded)


def test_help_is_grouped(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "gryt"), "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"COLUMNS": "120", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for panel in ("Pipelines", "History", "Project"):
        assert panel in out
    assert out.index("Pipelines") < out.index(" run ") < out.index("History") < out.index(" runs ")
    assert len(out.splitlines()) < 45


def test_shell_completion_of_commands_and_pipeline_names(tmp_path: Path) -> None:
    pipelines = tmp_path / ".gryt" / "pipelines"
    pipelines.mkdir(parents=True)
    (pipelines / "release.toml").write_text("")
    (pipelines / "review.py").write_text("")
    (pipelines / "build.toml").write_text("")

    def complete(words: str, index: int) -> list[str]:
        env = {
            "PATH": "/usr/bin:/bin",
            "_GRYT_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(index),
        }
        done = subprocess.run(
            [str(Path(sys.executable).parent / "gryt")],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("gryt ru", 1) == ["run", "runs"]
    assert complete("gryt run re", 2) == ["release", "review"]
    assert complete("gryt validate b", 2) == ["build"]
    assert complete("gryt runs ", 2) == ["list", "show"]  # a sub-app stand-in completes as its group
    assert complete("gryt version b", 2) == ["bump"]


GC_DRIVER = """
import gc, json, sys
sys.argv = ["gryt", *sys.argv[1:]]
import gryt.pipeline_run as engine
seen = []
execute = engine.PipelineRun.execute
def spy(self):
    seen.append(gc.isenabled())
    return execute(self)
engine.PipelineRun.execute = spy
from gryt.entry import main
try:
    main()
finally:
    print("GC=" + json.dumps({"run": seen, "end": gc.isenabled(), "frozen": gc.get_freeze_count() > 0}), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["run", "one"], ["run", "two"], ["runs", "list"], ["--version"]])
def test_the_console_script_collects_garbage_again_once_the_command_starts(tmp_path: Path, args: list[str]):
    """`gryt.entry` pauses the collector for start-up only: a pipeline executes with it running, and a
    Python pipeline's own code runs with it too."""
    (tmp_path / ".gryt" / "pipelines").mkdir(parents=True)
    (tmp_path / ".gryt" / "pipelines" / "one.toml").write_text(
        '[pipeline]\nname = "one"\n\n[[runners]]\nid = "r"\nsteps = [{ id = "s", cmd = ["true"] }]\n'
    )
    (tmp_path / ".gryt" / "pipelines" / "two.py").write_text(
        "import gc, sys\n"
        "from gryt import CommandStep, Pipeline, Runner\n"
        "print(f'LOADED_WITH_GC={gc.isenabled()}', file=sys.stderr)\n"
        "PIPELINE = Pipeline([Runner([CommandStep('s', {'cmd': ['true']})])])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", GC_DRIVER, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    state = json.loads(next(line for line in done.stderr.splitlines() if line.startswith("GC="))[3:])
    assert state["end"] is True
    assert state["run"] == ([True] if args[0] == "run" else [])
    if args[1:] == ["two"]:
        assert "LOADED_WITH_GC=True" in done.stderr
    if args[0] != "--version":  # --version exits while its options are parsed, before any command
        assert state["frozen"] is True


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"FORCE_COLOR": "1"}, True),
        ({"FORCE_COLOR": ""}, False),
        ({"TTY_COMPATIBLE": "1"}, True),
    ],
)
def test_terminal_check_without_rich_agrees_with_rich(monkeypatch: pytest.MonkeyPatch, env, expected) -> None:
    """Off a TTY, `gryt run` answers "no terminal" without importing Rich only when Rich would say so too."""
    from rich.console import Console

    from gryt.cli.run import _is_terminal

    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # not a TTY
    console = Console()
    assert (console.is_terminal and not console.is_dumb_terminal) is expected
    assert _is_terminal() is expected


def test_a_run_without_inputs_loads_no_step_cache_code(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.gryt]\n")
    (tmp_path / "p.toml").write_text(
        '[pipeline]\nname = "p"\n[[runners]]\nid = "r"\nsteps = [{ id = "s", cmd = ["true"] }]\n'
    )
    loaded = modules_after(tmp_path, "run", "p.toml")
    assert "gryt.runner" in loaded
    assert {"gryt.cache.spec", "gryt.cache.engine", "gryt.cache.key", "gryt.cache.globs"} & loaded == set()
