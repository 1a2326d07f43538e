"""Hook implementations of gryt-npm: registers destination type `npm`."""

from __future__ import annotations

from gryt import hookimpl
from gryt.hookspecs import Register


@hookimpl
def gryt_register_destinations(register: Register) -> None:
    from gryt_npm.destination import NpmDestination

    register(NpmDestination)
