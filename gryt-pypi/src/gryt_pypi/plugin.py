"""Hook implementations of gryt-pypi: registers destination type `pypi`."""

from __future__ import annotations

from gryt import hookimpl
from gryt.hookspecs import Register


@hookimpl
def gryt_register_destinations(register: Register) -> None:
    from gryt_pypi.destination import PypiDestination

    register(PypiDestination)
