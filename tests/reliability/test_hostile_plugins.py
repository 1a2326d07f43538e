"""Hostile plugins, end to end: fake distributions on PYTHONPATH, driven through the real `gryt` command.

A broken `entry_points.txt` in some installed distribution, one plugin distribution installed twice, a
plugin that calls `sys.exit()` or raises KeyboardInterrupt in a hook or in a method of its types, and a
plugin that prints while `--json` output is asked for.
"""

from __future__ import annotations

import json
import signal
import textwrap
from pathlib import Path
from typing import Any

import pytest

from .harness import Project

ECHO_STEP = '{ id = "hello", cmd = ["true"] }'
FAIL_STEP = '{ id = "boom", cmd = ["false"] }'


def pipeline(project: Project, name: str, steps: str = ECHO_STEP) -> None:
    project.write_pipeline(
        f"{name}.toml", f'[pipeline]\nname = "{name}"\n\n[[runners]]\nid = "main"\nsteps = [{steps}]\n'
    )


def distribution(site: Path, name: str, version: str, entry_points: str | bytes) -> Path:
    """Write `name-version.dist-info` in `site` with METADATA and the given entry_points.txt."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    text = entry_points.encode() if isinstance(entry_points, str) else entry_points
    (info / "entry_points.txt").write_bytes(text)
    return info


def plugin(site: Path, name: str, source: str, version: str = "1.0.0") -> Path:
    """A distribution `gryt-<name>` whose `gryt` entry point `<name>` is module `gryt_<name>`."""
    module = f"gryt_{name.replace('-', '_')}"
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    return distribution(site, f"gryt-{name}", version, f"[gryt]\n{name} = {module}\n")


def env_for(*sites: Path) -> dict[str, str]:
    return {"PYTHONPATH": ":".join(str(site) for site in sites)}


def listed(project: Project, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """`gryt plugins list --json` by plugin name."""
    done = project.run("plugins", "list", "--json", env=env)
    assert done.returncode == 0, done.stderr.decode()
    return {row["name"]: row for row in json.loads(done.stdout)}


def assert_clean(stderr: bytes) -> None:
    assert b"Traceback" not in stderr, stderr.decode(errors="replace")
    assert b"Exception ignored" not in stderr, stderr.decode(errors="replace")


BROKEN_ENTRY_POINTS: dict[str, bytes] = {
    "bad-section-header": b"[gryt\nbroken = gryt_broken\n",
    "line-without-equals": b"[gryt]\nthis line has no equals sign\n",
    "bad-value-syntax": b"[gryt]\nbroken = not a module!\n",
    "binary-garbage": b"\x89PNG\r\n\x1a\n\xff\xfe\x00gryt\x00\x80\x81",
}


@pytest.mark.parametrize("content", list(BROKEN_ENTRY_POINTS.values()), ids=list(BROKEN_ENTRY_POINTS))
def test_malformed_entry_points_of_one_distribution(project: Project, tmp_path: Path, content: bytes) -> None:
    site = tmp_path / "site"
    plugin(site, "good", "from gryt import hookimpl\n")
    broken = distribution(site, "gryt-broken", "6.6.6", content)
    env = env_for(site)

    for args in (["--help"], ["--version"], ["plugins", "list"], ["plugins", "list", "--json"]):
        done = project.run(*args, env=env)
        stderr = done.stderr.decode()
        assert done.returncode == 0, (args, stderr)
        assert_clean(done.stderr)
        warnings = [line for line in stderr.splitlines() if "entry_points.txt" in line]
        assert len(warnings) == 1, (args, stderr)
        assert str(broken) in warnings[0]
        assert warnings[0].startswith("gryt: warning: ")
    assert b"good-1.0.0" in project.run("--version", env=env).stdout
    rows = listed(project, env)
    assert rows["good"]["status"] == "ok"
    assert "broken" not in rows


def test_unreadable_entry_points_file(project: Project, tmp_path: Path) -> None:
    site = tmp_path / "site"
    plugin(site, "good", "from gryt import hookimpl\n")
    broken = distribution(site, "gryt-broken", "1.0.0", "")
    (broken / "entry_points.txt").unlink()
    (broken / "entry_points.txt").symlink_to("/proc/self/mem")  # exists, and reading it fails (EIO)

    done = project.run("plugins", "list", env=env_for(site))

    assert done.returncode == 0, done.stderr.decode()
    assert_clean(done.stderr)
    assert f"{broken}: cannot read entry_points.txt" in done.stderr.decode()
    assert b"good" in done.stdout


TWICE = "from gryt import hookimpl\n"


def test_one_plugin_installed_twice_says_which_one_won(project: Project, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    winner = plugin(first, "twice", TWICE, version="1.0.0")
    loser = plugin(second, "twice", TWICE, version="2.0.0")
    env = env_for(first, second)

    for args in (["plugins", "list"], ["--version"]):
        done = project.run(*args, env=env)
        assert done.returncode == 0, done.stderr.decode()
        assert_clean(done.stderr)
        warnings = [line for line in done.stderr.decode().splitlines() if "installed twice" in line]
        assert warnings == [
            f"gryt: warning: gryt-twice is installed twice: version 1.0.0 at {winner} is used,"
            f" version 2.0.0 at {loser} is ignored"
        ]
    rows = listed(project, env)
    assert rows["twice"]["version"] == "1.0.0"


def test_two_versions_in_one_folder_name_the_one_plugins_list_shows(project: Project, tmp_path: Path) -> None:
    site = tmp_path / "site"
    plugin(site, "twice", TWICE, version="1.0.0")
    distribution(site, "gryt-twice", "2.0.0", "[gryt]\ntwice = gryt_twice\n")
    env = env_for(site)

    rows = listed(project, env)
    done = project.run("plugins", "list", env=env)

    used = rows["twice"]["version"]
    other = "2.0.0" if used == "1.0.0" else "1.0.0"
    expected = (
        f"gryt: warning: gryt-twice is installed twice: version {used} at {site}/gryt_twice-{used}.dist-info"
        f" is used, version {other} at {site}/gryt_twice-{other}.dist-info is ignored"
    )
    assert expected in done.stderr.decode().splitlines()


EXITING_HOOKS = """
    import sys
    from pathlib import Path

    from gryt import hookimpl


    @hookimpl
    def gryt_pipeline_start(pipeline, context):
        raise KeyboardInterrupt  # plugin code, not a Ctrl-C


    @hookimpl
    def gryt_step_end(step, result, context):
        sys.exit(3)


    @hookimpl
    def gryt_pipeline_end(pipeline, result, context):
        sys.exit(0)


    @hookimpl
    def gryt_error(scope, error, context):
        with open(Path.cwd() / "errors.txt", "a") as out:
            out.write(f"{scope} {error}\\n")
"""

EXITING_REGISTRATION = """
    import sys

    from gryt import hookimpl


    @hookimpl
    def gryt_register_steps(register):
        sys.exit("bye from registration")
"""


def test_sys_exit_and_keyboard_interrupt_in_plugin_hooks_are_plugin_errors(
    project: Project, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    plugin(site, "exiting", EXITING_HOOKS)
    plugin(site, "quitter", EXITING_REGISTRATION)
    pipeline(project, "ok")
    pipeline(project, "bad", FAIL_STEP)
    env = env_for(site)

    done = project.run("run", "ok", env=env)

    stderr = done.stderr.decode()
    assert done.returncode == 0, stderr
    assert_clean(done.stderr)
    assert "plugin exiting failed in gryt_step_end: SystemExit: 3" in stderr
    assert "plugin exiting failed in gryt_pipeline_start: KeyboardInterrupt" in stderr
    assert "plugin exiting failed in gryt_pipeline_end: SystemExit" in stderr
    assert "bye from registration" in stderr  # the registration hook's SystemExit: one warning
    errors = (project.root / "errors.txt").read_text()
    assert "plugin:exiting plugin exiting failed in gryt_step_end: SystemExit: 3" in errors
    assert project.only_run()["status"] == "success"

    failed = project.run("run", "bad", "--in-memory", env=env)  # sys.exit(0) cannot hide a failure
    assert failed.returncode == 1, failed.stderr.decode()
    assert_clean(failed.stderr)

    rows = listed(project, env)
    assert rows["quitter"]["status"] == "error"
    assert "SystemExit: bye from registration" in rows["quitter"]["error"]
    assert rows["exiting"]["status"] == "ok"


SLOW_REGISTRATION = """
    import time
    from pathlib import Path

    from gryt import hookimpl


    @hookimpl
    def gryt_register_steps(register):
        (Path.cwd() / "registering").write_text("")
        time.sleep(60)
"""


def test_real_ctrl_c_while_a_plugin_registers_still_interrupts(project: Project, tmp_path: Path) -> None:
    site = tmp_path / "site"
    plugin(site, "slow", SLOW_REGISTRATION)

    proc = project.spawn("plugins", "list", env=env_for(site))
    project.wait_for_file("registering")
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)

    out, err = project.output(proc)
    assert proc.returncode == 130, err  # a plugin's own KeyboardInterrupt would have listed the plugins
    assert out == ""
    assert "Traceback" not in err


EXITING_STEP_TYPES = """
    import sys

    from gryt import hookimpl
    from gryt.step import Step


    class ExitStep(Step):
        name = "exit"

        def run(self):
            sys.exit(7)


    class InterruptStep(Step):
        name = "interrupt"

        def validate(self):
            raise KeyboardInterrupt  # plugin code, not a Ctrl-C

        def run(self):
            return {"status": "success"}


    @hookimpl
    def gryt_register_steps(register):
        register(ExitStep)
        register(InterruptStep)
"""


def test_sys_exit_in_a_plugin_step_type_is_a_failed_step(project: Project, tmp_path: Path) -> None:
    site = tmp_path / "site"
    plugin(site, "exittypes", EXITING_STEP_TYPES)
    project.write_pipeline(
        "types.toml",
        '[pipeline]\nname = "types"\n\n'
        '[[runners]]\nid = "a"\nsteps = [{ id = "exits", type = "exit" }]\n\n'
        '[[runners]]\nid = "b"\nsteps = [{ id = "interrupts", type = "interrupt" }]\n',
    )

    done = project.run("run", "types", env=env_for(site))

    assert done.returncode == 1, done.stderr.decode()
    assert_clean(done.stderr)
    run = project.only_run()
    assert run["status"] == "error"
    assert {step["step_id"]: step["status"] for step in run["steps"]} == {
        "exits": "error",
        "interrupts": "error",
    }
    stdout = done.stdout.decode()
    assert "a/exits error" in stdout and "- run() raised SystemExit: 7" in stdout, stdout
    assert "b/interrupts error" in stdout and "- validate() raised KeyboardInterrupt" in stdout, stdout


PRINTING_PLUGIN = """
    import os
    import subprocess

    from gryt import hookimpl

    print("hello from import")
    os.write(1, b"raw bytes from import\\n")


    @hookimpl
    def gryt_register_steps(register):
        print("hello from registration")


    @hookimpl
    def gryt_step_end(step, result, context):
        print("hello from a hook")
        subprocess.run(["echo", "hello from a hook's child"], check=True)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["run", "ok", "--json"],
        ["plugins", "list", "--json"],
        ["plugins", "list", "--json", "--verbose"],
        ["env-validate", "ok", "--json"],
    ],
    ids=" ".join,
)
def test_a_printing_plugin_cannot_break_json_output(
    project: Project, tmp_path: Path, args: list[str]
) -> None:
    site = tmp_path / "site"
    plugin(site, "chatty", PRINTING_PLUGIN)
    pipeline(project, "ok")
    env = env_for(site)

    done = project.run(*args, env=env)

    assert done.returncode == 0, done.stderr.decode()
    assert_clean(done.stderr)
    json.loads(done.stdout)
    assert b"hello from" not in done.stdout
    assert b"hello from import" in done.stderr  # moved, not lost
    if args[0] == "run":
        assert b"hello from a hook's child" in done.stderr
