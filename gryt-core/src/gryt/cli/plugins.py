"""`gryt plugins`: what is installed, what each plugin provides, and why a plugin is not loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from gryt.plugins import PluginInfo, PluginManager

app = typer.Typer(name="plugins", help="Inspect installed gryt plugins.", no_args_is_help=True)

_STATUS_STYLES = {"ok": "green", "disabled": "yellow", "error": "red", "incompatible": "red"}


@app.command("list")
def list_plugins(
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON."),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Also show entry points, locations, hooks and config keys."
    ),
) -> None:
    """List every plugin: distribution, version, status and the types it provides."""
    from gryt.cli._common import open_project, print_json, reporting
    from gryt.plugins import get_manager

    with reporting():
        open_project()  # applies the project's disable_plugins
    manager = get_manager(warn=False)
    infos = list(manager.plugins.values())
    if as_json:
        rows = [_json_row(manager, info, verbose) for info in infos]
        print_json(rows)
        return
    from rich.console import Console

    console = Console(highlight=False)
    _print_table(console, infos)
    if verbose:
        for info in infos:
            _print_details(console, manager, info)


@app.command("new")
def new_plugin(
    name: str = typer.Argument(
        ..., metavar="NAME", help="Distribution name, e.g. gryt-slack (module gryt_slack, type slack)."
    ),
    kind: str = typer.Option(..., "--kind", help="auth, destination, validator, runtime, step or hooks."),
    path: str = typer.Option(".", "--path", help="Folder in which the project folder NAME is created."),
) -> None:
    """Create a ready-to-publish plugin project PATH/NAME with a working type of KIND and its tests."""
    from gryt.scaffold import create_plugin

    typer.echo(create_plugin(name, kind, path).report())


def _provides_text(info: PluginInfo) -> str:
    return "; ".join(f"{kind}: {', '.join(names)}" for kind, names in info.provides.items() if names)


def _print_table(console: Console, infos: list[PluginInfo]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=False, header_style="bold")
    for column in ("Name", "Distribution", "Version", "Status", "Provides"):
        table.add_column(column, overflow="fold")
    for info in infos:
        provides = Text(_provides_text(info) or "-")
        if info.error:
            provides.append("\n")
            provides.append(info.error, style=_STATUS_STYLES.get(info.status, ""))
        table.add_row(
            Text(info.name),
            Text(info.distribution),
            Text(info.version),
            Text(info.status, style=_STATUS_STYLES.get(info.status, "")),
            provides,
        )
    console.print(table)


def _types(manager: PluginManager, info: PluginInfo) -> dict[str, list[dict[str, Any]]]:
    types: dict[str, list[dict[str, Any]]] = {}
    for kind, names in info.provides.items():
        for name in names:
            cls = manager.registry.get(kind, name)
            keys = getattr(cls, "config_keys", None)
            types.setdefault(kind, []).append(
                {
                    "name": name,
                    "class": f"{cls.__module__}.{cls.__qualname__}",
                    "summary": getattr(cls, "summary", "") or "",
                    "config_keys": None
                    if keys is None
                    else [
                        {
                            "name": key.name,
                            "type": key.type_name(),
                            "default": key.default,
                            "required": key.required,
                            "help": key.help,
                        }
                        for key in keys
                    ],
                }
            )
    return types


def _commands_of(info: PluginInfo) -> list[str]:
    from gryt.cli.lazy import plugin_commands

    return sorted(e.name for e in plugin_commands().values() if e.distribution == info.distribution)


def _json_row(manager: PluginManager, info: PluginInfo, verbose: bool) -> dict[str, Any]:
    row = info.to_dict()
    if verbose:
        row["entry_point"] = info.entry_point
        row["location"] = info.location
        row["types"] = _types(manager, info)
        row["commands"] = _commands_of(info)
    return row


def _print_details(console: Console, manager: PluginManager, info: PluginInfo) -> None:
    import json

    from rich.text import Text

    from gryt.plugins.kinds import KINDS

    def line(text: str, style: str = "") -> None:
        console.print(Text(text, style=style), soft_wrap=True)

    line("")
    line(f"{info.name} ({info.distribution} {info.version}, {info.status})", "bold")
    line(f"  entry point: {info.entry_point or '-'}")
    line(f"  location: {info.location or '-'}")
    line(f"  hooks: {', '.join(info.implements) or '-'}")
    if info.error:
        line(f"  error: {info.error}", _STATUS_STYLES.get(info.status, ""))
    commands = _commands_of(info)
    if commands:
        line(f"  commands: {', '.join(f'gryt {c}' for c in commands)}")
    for kind, types in _types(manager, info).items():
        for spec in types:
            summary = f": {spec['summary']}" if spec["summary"] else ""
            line(f"  {KINDS[kind].label} type {spec['name']} ({spec['class']}){summary}")
            keys = spec["config_keys"]
            if keys is None:
                line("    config keys: not declared (any key accepted)")
                continue
            if not keys:
                line("    config keys: none")
            for key in keys:
                default = (
                    "required" if key["required"] else f"default {json.dumps(key['default'], default=str)}"
                )
                help_text = f"  {key['help']}" if key["help"] else ""
                line(f"    {key['name']}: {key['type']}, {default}{help_text}")
