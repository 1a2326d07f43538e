"""Hook implementations of gryt-auth-fly: registers the `fly` auth type."""

from __future__ import annotations

from gryt import hookimpl
from gryt.hookspecs import Register


@hookimpl
def gryt_register_auth(register: Register) -> None:
    from gryt_auth_fly.auth import FlyAuth

    register(FlyAuth)
