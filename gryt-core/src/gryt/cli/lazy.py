"""What keeps `gryt` quick to start: commands mounted lazily, and Typer's validators built on demand.

`gryt --help` lists plugin commands (`gryt.commands` entry points) from distribution metadata alone; a
command's module is imported only when that command runs (or its own help or completion is asked for).
gryt's own commands and sub-apps are listed by `BuiltinCommand` and `BuiltinGroup` stand-ins and built
by Typer when used. The root Typer app uses a `PluginCommandGroup` as its click group class.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from gryt.errors import PluginError, one_line

if TYPE_CHECKING:
    from gryt.plugins.discovery import EntryPoint

PANEL = "Plugin commands"

_ClickCommand: type[Any] = TyperCommand.__mro__[1]
"""The click `Command` class Typer builds on (Typer may vendor click, so it is taken from Typer)."""


class CommandEntry(NamedTuple):
    """One `gryt.commands` entry point: command name, target and where it comes from."""

    name: str
    value: str
    distribution: str
    version: str
    entry_point: EntryPoint


def plugin_commands(env: Mapping[str, str] | None = None) -> dict[str, CommandEntry]:
    """Installed plugin commands by name, from metadata only, minus those switched off.

    A command is hidden when its name or a `gryt` plugin of its distribution is disabled
    (GRYT_DISABLE_PLUGINS, `disable_plugins`), or when autoload is off and neither is in GRYT_PLUGINS.
    """
    from gryt.plugins import discovery, switches

    environ = os.environ if env is None else env
    found = discovery.scan([discovery.COMMANDS_GROUP, discovery.ENTRY_POINT_GROUP])
    plugin_names: dict[str, set[str]] = {}
    for ep in found[discovery.ENTRY_POINT_GROUP]:
        plugin_names.setdefault(ep.dist.name, set()).add(ep.name)
    disable = switches.configured_disable()
    entries: dict[str, CommandEntry] = {}
    for ep in found[discovery.COMMANDS_GROUP]:
        dist_name = ep.dist.name
        names = {ep.name} | plugin_names.get(dist_name, set())
        if switches.disabled_reason(names, environ, disable) or ep.name in entries:
            continue
        entries[ep.name] = CommandEntry(ep.name, ep.value, dist_name, ep.dist.version, ep)
    return entries


def load_command(entry: CommandEntry) -> Any:
    """Import a plugin command and return it as a click command Typer can run.

    Accepts a Typer app, a click command of Typer's click, or any click-compatible object with a
    `main(args, prog_name, standalone_mode)` method (run as a pass-through). Failures are PluginError.
    """
    from gryt.plugins import switches
    from gryt.plugins.manager import StrictPluginError

    origin = f'plugin command "{entry.name}" ({entry.distribution} {entry.version})'
    try:
        obj = entry.entry_point.load()
    except (Exception, SystemExit) as exc:
        if switches.env_flag(os.environ, switches.ENV_STRICT):
            raise StrictPluginError(f"{origin} failed to load") from exc
        raise PluginError(f"{origin} failed to load: {one_line(exc)}") from exc
    if isinstance(obj, typer.Typer):
        return typer.main.get_command(obj)
    if isinstance(obj, _ClickCommand):
        return obj
    if callable(getattr(obj, "main", None)):
        return PassThroughCommand(entry.name, obj)
    raise PluginError(f"{origin}: {entry.value} is {type(obj).__name__}, not a Typer app or a click command")


_RAW_ARGUMENTS: dict[str, Any] = {"ignore_unknown_options": True, "allow_extra_args": True}
"""Context settings of a command that hands its arguments on untouched to the command behind it."""


class PassThroughCommand(TyperCommand):
    """Runs a click command built on another click (not Typer's) with the raw arguments."""

    def __init__(self, name: str, target: Any) -> None:
        super().__init__(name, add_help_option=False, context_settings=_RAW_ARGUMENTS)
        self.target = target

    def invoke(self, ctx: Any) -> Any:
        return self.target.main(args=list(ctx.args), prog_name=ctx.command_path, standalone_mode=True)


class StandIn(TyperCommand):
    """Stands in for a command in `gryt --help` and completion with its name, help and panel; the real
    command (`real_command()`) is built only when it runs or shows its own help, and parses the arguments."""

    def __init__(self, name: str, help: str | None, panel: str, **extra: Any) -> None:
        super().__init__(
            name,
            help=help,
            rich_help_panel=panel,
            add_help_option=False,
            context_settings=_RAW_ARGUMENTS,
            **extra,
        )
        self.panel = panel

    def real_command(self) -> Any:
        raise NotImplementedError

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        """Build the real command and let it parse the arguments; its context then runs it."""
        return self.real_command().make_context(info_name, args, parent=parent, **extra)


class LazyCommand(StandIn):
    """A plugin command (`gryt.commands` entry point): its module is imported when it runs."""

    def __init__(self, entry: CommandEntry) -> None:
        super().__init__(entry.name, f"Plugin command from {entry.distribution} {entry.version}.", PANEL)
        self.entry = entry

    def real_command(self) -> Any:
        return load_command(self.entry)


class _BuiltIn(StandIn):
    """One of gryt's own commands or sub-apps, built by Typer as the root `app` would build it."""

    def __init__(self, name: str, help: str | None, panel: str, app: typer.Typer) -> None:
        super().__init__(name, help, panel, rich_markup_mode=app.rich_markup_mode)
        self.app = app

    def single_app(self) -> typer.Typer:
        """An app of this one command, with the root app's settings."""
        return typer.Typer(
            add_completion=False,
            pretty_exceptions_short=self.app.pretty_exceptions_short,
            rich_markup_mode=self.app.rich_markup_mode,
        )


class BuiltinCommand(_BuiltIn):
    """One of gryt's own commands, with the help text Typer would give it (the function's docstring);
    Typer reads its parameter annotations only when it is built. `command_class` is the TyperCommand
    subclass to build it with, for a command that parses its arguments in its own way."""

    def __init__(
        self,
        name: str,
        function: Callable[..., Any],
        panel: str,
        app: typer.Typer,
        command_class: type[TyperCommand] = TyperCommand,
    ) -> None:
        super().__init__(name, inspect.getdoc(function), panel, app)
        self.function = function
        self.command_class = command_class

    def real_command(self) -> Any:
        """The command Typer builds for `app.command(name, cls=command_class, rich_help_panel=panel)(function)`."""
        single = self.single_app()
        single.command(self.name, cls=self.command_class, rich_help_panel=self.panel)(self.function)
        return typer.main.get_command(single)


class BuiltinGroup(_BuiltIn):
    """One of gryt's own Typer sub-apps (`gryt runs`, ...): the group and all its commands are built only
    when it is used, not for every other command."""

    def __init__(self, name: str, sub_app: typer.Typer, panel: str, app: typer.Typer) -> None:
        help = sub_app.info.help if isinstance(sub_app.info.help, str) else None
        super().__init__(name, help, panel, app)
        self.sub_app = sub_app

    def real_command(self) -> Any:
        """The group Typer builds for `app.add_typer(sub_app, name=name, rich_help_panel=panel)`."""
        single = self.single_app()
        name = str(self.name)
        single.add_typer(self.sub_app, name=name, rich_help_panel=self.panel)
        return typer.main.get_group(single).commands[name]


class NamespaceGroup(TyperGroup):
    """`gryt NAMESPACE SUB`: the plugin commands whose entry point is named `NAMESPACE.SUB` (e.g.
    `ci.github` and `ci.gitlab` of two distributions make `gryt ci github` and `gryt ci gitlab`)."""

    def __init__(self, name: str, entries: Mapping[str, CommandEntry]) -> None:
        owners = ", ".join(f"{sub} ({e.distribution} {e.version})" for sub, e in sorted(entries.items()))
        super().__init__(name=name, help=f"Plugin commands: {owners}.", rich_help_panel=PANEL)
        self.entries = dict(entries)

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(self.entries)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = self.entries.get(cmd_name)
        if entry is None:
            return None
        command = LazyCommand(entry)
        command.name = cmd_name
        return command


class PluginCommandGroup(TyperGroup):
    """The root group: its own commands first, then `gryt.commands` entry points, mounted lazily.

    A plugin command never shadows a built-in command of the same name. An entry point named
    `NAMESPACE.SUB` becomes `gryt NAMESPACE SUB` (a `NamespaceGroup`), so several distributions can
    share one namespace. `own_commands()` (for a subclass) lists commands that come before those Typer
    built, e.g. `BuiltinCommand` stand-ins.
    """

    _plugin_entries: dict[str, CommandEntry] | None = None

    def __init__(self, *, commands: Any = None, **kwargs: Any) -> None:
        built = {c.name: c for c in commands} if isinstance(commands, Sequence) else dict(commands or {})
        super().__init__(commands={**self.own_commands(), **built}, **kwargs)

    def own_commands(self) -> dict[str, Any]:
        """Commands listed before the ones Typer built from the app; none by default."""
        return {}

    def plugin_entries(self) -> dict[str, CommandEntry]:
        if self._plugin_entries is None:
            self._plugin_entries = plugin_commands()
        return self._plugin_entries

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        plugin = {n.partition(".")[0] for n in self.plugin_entries()}
        return names + sorted(n for n in plugin if n not in self.commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        entries = self.plugin_entries()
        entry = entries.get(cmd_name)
        if entry is not None:
            return LazyCommand(entry)
        prefix = f"{cmd_name}."
        namespace = {n.removeprefix(prefix): e for n, e in entries.items() if n.startswith(prefix)}
        return NamespaceGroup(cmd_name, namespace) if namespace else None
