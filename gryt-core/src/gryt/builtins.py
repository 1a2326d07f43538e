"""gryt-core's built-in types, registered through the `builtins` entry point exactly like a plugin."""

from __future__ import annotations

from gryt.hookspecs import Register
from gryt.plugins import hookimpl


@hookimpl
def gryt_register_runtimes(register: Register) -> None:
    from gryt.runtime import LocalRuntime

    register(LocalRuntime)
