"""gryt-core's built-in types, registered through the `builtins` entry point exactly like a plugin."""

from __future__ import annotations

from gryt.hookspecs import Register, hookimpl


@hookimpl
def gryt_register_runtimes(register: Register) -> None:
    from gryt.runtime import LocalRuntime

    register(LocalRuntime)


@hookimpl
def gryt_register_steps(register: Register) -> None:
    from gryt.step import CommandStep

    register(CommandStep)


@hookimpl
def gryt_register_destinations(register: Register) -> None:
    from gryt.destination import CommandDestination, DirectoryDestination

    register(CommandDestination)
    register(DirectoryDestination)


@hookimpl
def gryt_register_caches(register: Register) -> None:
    from gryt.cache.local import LocalCache

    register(LocalCache)


@hookimpl
def gryt_register_hooks(register: Register) -> None:
    from gryt.hook import PrintHook
    from gryt.http_hook import HttpHook

    register(PrintHook)
    register(HttpHook)


@hookimpl
def gryt_register_histories(register: Register) -> None:
    from gryt.histories.sqlite import SqliteHistory

    register(SqliteHistory)
