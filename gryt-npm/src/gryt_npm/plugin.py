"""Hook implementations of gryt-npm: registers destination type `npm`, and masks the tokens of a run's
`npm` destinations from its start (destinations only run at its end, after every step printed)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from gryt import hookimpl
from gryt.hookspecs import Register

if TYPE_CHECKING:
    from gryt.context import RunContext
    from gryt.pipeline import Pipeline


@hookimpl
def gryt_register_destinations(register: Register) -> None:
    from gryt_npm.destination import NpmDestination

    register(NpmDestination)


@hookimpl
def gryt_pipeline_start(pipeline: Pipeline, context: RunContext) -> None:
    """Declare the token each `npm` destination will read a run secret before any step runs."""
    from gryt_npm.destination import NpmDestination

    env = {**os.environ, **context.env}
    for destination in pipeline.destinations:
        if isinstance(destination, NpmDestination):
            context.add_secret(destination.token(env))
