"""`gryt plugins list`, `gryt --version`, `gryt --help` and lazily mounted plugin commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gryt import plugins
from gryt.cli import app

DRIVER = """
import atexit, json, os, sys
atexit.register(lambda: open(os.environ["MODULES_OUT"], "w").write(json.dumps(sorted(sys.modules))))
sys.argv[0] = "gryt"
from gryt.cli import main
main()
"""

HEAVY = ("sqlite3", "gryt.data", "gryt.pipeline", "gryt.runner", "gryt.builtins", "pydantic", "packaging")


def run_gryt(
    site, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the real `gryt` entry point in a fresh interpreter with the fake site on PYTHONPATH."""
    out = site.root.parent / f"modules-{len(list(site.root.parent.glob('modules-*')))}.json"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GRYT_")}
    full_env.update({"PYTHONPATH": str(site.root), "MODULES_OUT": str(out), "COLUMNS": "200", **(env or {})})
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
        cwd=cwd or site.root.parent,
    )
    return proc, set(json.loads(out.read_text()))


def command_plugin(site) -> tuple[str, str]:
    """A distribution with one `gryt` plugin and two commands: `hello` (Typer) and `kaput` (raises)."""
    plugin = site.step_plugin("gryt-hello", "hello")
    cli = site.module(
        site.mod("hello_cli"),
        """
        import typer

        app = typer.Typer()

        @app.command()
        def hello(name: str = typer.Option("world", help="Who to greet")):
            \"\"\"Greet someone.\"\"\"
            typer.echo(f"hello {name}")
        """,
    )
    kaput = site.module(site.mod("kaput_cli"), "raise RuntimeError('cannot start')\n")
    site.dist("gryt-hello-cli", "0.3.0", commands={"hello": f"{cli}:app", "kaput": f"{kaput}:app"})
    return plugin, cli


def test_plugins_list_json_has_the_design_shape(site):
    site.step_plugin("gryt-hello", "hello")
    bad = site.module(site.mod("bad"), "raise ImportError('nope')\n")
    site.dist("gryt-bad", "0.2", plugins={"bad": bad})
    plugins.reset_manager(site.manager(warn=False))

    result = CliRunner().invoke(app, ["plugins", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {"builtins", "hello", "bad"}
    assert rows["hello"] == {
        "name": "hello",
        "distribution": "gryt-hello",
        "version": "1.0.0",
        "status": "ok",
        "provides": {
            "auth": [],
            "validators": [],
            "runtimes": [],
            "destinations": [],
            "steps": ["hello"],
            "hooks": [],
            "histories": [],
            "caches": [],
        },
        "implements": ["gryt_register_steps"],
        "error": None,
    }
    assert rows["bad"]["status"] == "error"
    assert rows["bad"]["error"] == "import failed: ImportError: nope"
    assert "runtimes" in rows["builtins"]["provides"] and "local" in rows["builtins"]["provides"]["runtimes"]


def test_plugins_list_table_shows_errors_on_a_second_line(site):
    site.step_plugin("gryt-hello", "hello")
    bad = site.module(site.mod("bad"), "raise ImportError('nope')\n")
    site.dist("gryt-bad", "0.2", plugins={"bad": bad})
    plugins.reset_manager(site.manager(warn=False))

    result = CliRunner().invoke(app, ["plugins", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "Name" in line)
    for column in ("Distribution", "Version", "Status", "Provides"):
        assert column in header
    hello = next(line for line in lines if " hello " in line)
    assert "gryt-hello" in hello and "1.0.0" in hello and " ok " in hello and "steps: hello" in hello
    bad_index = next(i for i, line in enumerate(lines) if " bad " in line)
    assert " error " in lines[bad_index]
    assert "import failed: ImportError: nope" in lines[bad_index + 1]
    assert "warning" not in result.output


def test_plugins_list_verbose_shows_entry_point_location_hooks_and_config_keys(site):
    mod = site.step_plugin("gryt-hello", "hello")
    plugins.reset_manager(site.manager(warn=False))

    result = CliRunner().invoke(app, ["plugins", "list", "-v"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"entry point: {mod}" in out
    assert f"location: {site.root / mod}.py" in out
    assert "hooks: gryt_register_steps" in out
    assert f"step type hello ({mod}.HelloStep): Say hello" in out
    assert 'greeting: a string, default "hi"  What to say' in out
    assert "runtime type local (gryt.runtime.LocalRuntime)" in out

    as_json = CliRunner().invoke(app, ["plugins", "list", "--json", "-v"])
    row = next(r for r in json.loads(as_json.stdout) if r["name"] == "hello")
    assert row["entry_point"] == mod
    assert row["types"]["steps"][0]["config_keys"] == [
        {"name": "greeting", "type": "a string", "default": "hi", "required": False, "help": "What to say"}
    ]


def test_version_lists_plugins_from_metadata_without_importing_them(site):
    plugin, cli = command_plugin(site)
    proc, modules = run_gryt(site, "--version")
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.splitlines()
    assert first == f"gryt-core {plugins.core_version()}"
    assert second.startswith("plugins: ") and "hello-1.0.0" in second.split(": ", 1)[1].split(", ")
    assert "builtins" not in second
    assert plugin not in modules and cli not in modules
    assert not {m for m in modules if m.startswith(("gryt_auth", "gryt_validators"))}
    assert not {*HEAVY, "rich"} & modules


def test_help_lists_plugin_commands_with_their_distribution_without_importing_them(site):
    plugin, cli = command_plugin(site)
    proc, modules = run_gryt(site, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "Plugin commands" in proc.stdout
    hello = next(line for line in proc.stdout.splitlines() if " hello " in line)
    assert "Plugin command from gryt-hello-cli 0.3.0." in hello
    assert " kaput " in proc.stdout
    assert plugin not in modules and cli not in modules
    assert not set(HEAVY) & modules


def test_plugin_command_is_imported_and_run_on_demand(site):
    _plugin, _cli = command_plugin(site)
    proc, _modules = run_gryt(site, "hello", "--name", "gryt")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "hello gryt\n", "")
    proc, _modules = run_gryt(site, "hello", "--help")
    assert proc.returncode == 0 and "Who to greet" in proc.stdout


def test_broken_plugin_command_gives_one_error_line(site):
    command_plugin(site)
    proc, _modules = run_gryt(site, "kaput")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        'gryt: error: plugin command "kaput" (gryt-hello-cli 0.3.0) failed to load: RuntimeError: cannot start'
    ]


def test_disabled_plugin_commands_are_hidden(site):
    command_plugin(site)
    proc, _modules = run_gryt(site, "--help", env={"GRYT_DISABLE_PLUGINS": "kaput"})
    assert " hello " in proc.stdout and " kaput " not in proc.stdout
    proc, _modules = run_gryt(
        site, "--help", env={"GRYT_DISABLE_PLUGIN_AUTOLOAD": "1", "GRYT_PLUGINS": "hello"}
    )
    assert " hello " in proc.stdout and " kaput " not in proc.stdout
    proc, _modules = run_gryt(site, "kaput", env={"GRYT_DISABLE_PLUGINS": "kaput"})
    assert proc.returncode == 2 and "No such command" in proc.stderr


def test_dotted_plugin_commands_from_two_distributions_share_one_group(site):
    modules = {}
    for sub in ("alpha", "beta"):
        modules[sub] = site.module(
            site.mod(f"{sub}_cli"),
            f"""
            import typer

            app = typer.Typer()

            @app.command()
            def main(name: str = typer.Option("world")):
                \"\"\"Say {sub}.\"\"\"
                typer.echo(f"{sub} {{name}}")
            """,
        )
        site.dist(f"gryt-{sub}-cli", "1.0", commands={f"ci.{sub}": f"{modules[sub]}:app"})
    proc, loaded = run_gryt(site, "--help")
    assert proc.returncode == 0, proc.stderr
    assert " ci " in proc.stdout and "ci.alpha" not in proc.stdout
    assert not {modules["alpha"], modules["beta"]} & loaded
    proc, _loaded = run_gryt(site, "ci", "--help")
    assert proc.returncode == 0 and " alpha " in proc.stdout and " beta " in proc.stdout
    proc, loaded = run_gryt(site, "ci", "beta", "--name", "gryt")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "beta gryt\n", "")
    assert modules["alpha"] not in loaded
    proc, _loaded = run_gryt(site, "ci", "gamma")
    assert proc.returncode == 2 and "No such command" in proc.stderr


def test_foreign_click_command_runs_as_a_pass_through(site):
    shim = site.module(
        site.mod("shim_cli"),
        """
        class Command:
            def main(self, args, prog_name, standalone_mode):
                print(prog_name, args)
                raise SystemExit(3)

        cmd = Command()
        """,
    )
    site.dist("gryt-shim", "1.0", commands={"shim": f"{shim}:cmd"})
    proc, _modules = run_gryt(site, "shim", "--flag", "x")
    assert (proc.returncode, proc.stdout) == (3, "gryt shim ['--flag', 'x']\n")


@pytest.mark.parametrize("value", ["1", "true"])
def test_strict_plugins_fail_hard_with_a_traceback(site, value: str):
    bad = site.module(site.mod("bad"), "raise ImportError('nope')\n")
    site.dist("gryt-bad", "0.2", plugins={"bad": bad})
    proc, _modules = run_gryt(site, "plugins", "list", env={"GRYT_STRICT_PLUGINS": value})
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert "ImportError: nope" in proc.stderr
    assert 'StrictPluginError: plugin "bad" of gryt-bad 0.2 failed to load' in proc.stderr


def test_list_warnings_are_suppressed_but_other_commands_warn(site):
    bad = site.module(site.mod("bad"), "raise ImportError('nope')\n")
    site.dist("gryt-bad", "0.2", plugins={"bad": bad})
    proc, _modules = run_gryt(site, "plugins", "list", "--json")
    assert proc.returncode == 0 and proc.stderr == ""
    code = "from gryt.plugins import get_manager; get_manager(); get_manager()"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRYT_")}
    env["PYTHONPATH"] = str(site.root)
    warned = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert warned.stderr.splitlines() == [
        'gryt: warning: plugin "bad" of gryt-bad 0.2 failed to load: import failed: ImportError: nope; see `gryt plugins list`'
    ]


def test_plugins_list_honours_the_project_config(site, tmp_path):
    site.step_plugin("gryt-hello", "hello")
    project = tmp_path / "project"
    (project / ".gryt").mkdir(parents=True)
    (project / ".gryt" / "config.toml").write_text('disable_plugins = ["hello"]\n')
    proc, _modules = run_gryt(site, "plugins", "list", "--json", cwd=project)
    assert proc.returncode == 0, proc.stderr
    row = next(r for r in json.loads(proc.stdout) if r["name"] == "hello")
    assert (row["status"], row["error"]) == ("disabled", "disabled by disable_plugins in the project config")


def test_pipeline_using_a_type_of_a_failed_plugin_exits_2_naming_the_distribution(site, tmp_path):
    mod = site.module(
        site.mod("boomer"),
        """
        from gryt import hookimpl
        from gryt.step import Step

        class BoomStep(Step):
            name = "boom"
            def run(self):
                return {"status": "success"}

        @hookimpl
        def gryt_register_steps(register):
            register(BoomStep)
            raise RuntimeError("registry on fire")
        """,
    )
    site.dist("gryt-boomer", plugins={"boomer": mod})
    pipeline = tmp_path / "boom.toml"
    pipeline.write_text('[[runners]]\nsteps = [{ id = "b", type = "boom" }]\n')
    proc, _modules = run_gryt(site, "validate", str(pipeline))
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert lines[0] == (
        'gryt: warning: plugin "boomer" of gryt-boomer 1.0.0 failed to load: gryt_register_steps raised '
        "RuntimeError: registry on fire; see `gryt plugins list`"
    )
    assert len(lines) == 2 and lines[1].startswith("gryt: error: ")
    assert lines[1].endswith(
        'step type "boom" is provided by plugin "boomer" of gryt-boomer 1.0.0, which failed to load: '
        "gryt_register_steps raised RuntimeError: registry on fire"
    )
