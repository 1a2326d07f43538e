"""The `gryt` command line (Typer). Sub-commands live in one module each; Typer builds them when used."""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext
from typing import Any

import typer
from typer.core import TyperCommand

from gryt import __version__
from gryt.cli import cache, db, env_validate, failed, init, new, plan, report, run, runs, validate, version
from gryt.cli import plugins as plugins_cli
from gryt.cli.lazy import BuiltinCommand, BuiltinGroup, PluginCommandGroup
from gryt.errors import GrytError

COMMANDS = (
    ("run", run.run, "Pipelines"),
    ("validate", validate.validate, "Pipelines"),
    ("plan", plan.plan, "Pipelines"),
    ("env-validate", env_validate.env_validate, "Pipelines"),
    ("new", new.new, "Pipelines"),
    ("report", report.report, "History"),
    ("init", init.init, "Project"),
)
"""gryt-core's own commands (name, function, help panel), listed first; their modules import nothing heavy
at module level, and Typer builds each one only when it is used."""

COMMAND_CLASSES = {"run": failed.RunCommand}
"""The commands that parse their arguments in their own way (`gryt run --failed` takes an optional value)."""

GROUPS = (
    ("plugins", plugins_cli.app, "Plugins"),
    ("db", db.app, "History"),
    ("runs", runs.app, "History"),
    ("cache", cache.app, "History"),
    ("version", version.app, "Project"),
)
"""gryt-core's own sub-apps (name, Typer app, help panel), listed after the commands; built when used."""


class RootGroup(PluginCommandGroup):
    """`gryt`: the commands above, then the sub-apps (`plugins`, `db`, `runs`, `cache`, `version`), then
    plugin commands."""

    def own_commands(self) -> dict[str, Any]:
        commands: dict[str, Any] = {
            name: BuiltinCommand(name, function, panel, app, COMMAND_CLASSES.get(name, TyperCommand))
            for name, function, panel in COMMANDS
        }
        commands.update((name, BuiltinGroup(name, sub_app, panel, app)) for name, sub_app, panel in GROUPS)
        return commands


app = typer.Typer(
    name="gryt",
    help="Local-first CI/CD pipelines in Python or TOML.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    cls=RootGroup,
)


def _version_callback(value: bool) -> None:
    if value:
        from gryt.plugins.discovery import installed_plugin_versions

        typer.echo(f"gryt-core {__version__}")
        typer.echo(f"plugins: {', '.join(installed_plugin_versions()) or 'none'}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Local-first CI/CD pipelines in Python or TOML."""
    if ctx.invoked_subcommand != "run":  # `gryt run` resumes when the pipeline starts (cli/run.py)
        from gryt import startup

        startup.resume()


def main() -> None:
    """Console entry point: gryt errors become one line on stderr and their exit code."""
    from gryt.cli.sinks import guard_streams, json_document
    from gryt.interrupts import track_signals

    guard_streams()
    track_signals()
    debug = "--debug" in sys.argv or os.environ.get("GRYT_DEBUG") == "1"
    args = sys.argv[1:]
    args = args[: args.index("--")] if "--" in args else args
    try:
        with json_document() if "--json" in args else nullcontext():
            app()
    except GrytError as exc:
        if debug:
            raise
        typer.echo(f"gryt: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("gryt: interrupted", err=True)
        sys.exit(130)
