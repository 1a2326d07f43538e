"""Hook implementations of gryt-postgres: registers history type `postgresql`."""

from __future__ import annotations

from gryt import hookimpl
from gryt.hookspecs import Register


@hookimpl
def gryt_register_histories(register: Register) -> None:
    from gryt_postgres.history import PostgresHistory

    register(PostgresHistory)
