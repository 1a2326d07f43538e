"""Hook implementations of gryt-github: the destination type `github-release`, and the GitHub Actions
integration of every run (`GITHUB_ACTIONS=true`): log groups, error annotations, job summary, outputs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gryt import hookimpl
from gryt.hookspecs import Register

if TYPE_CHECKING:
    from gryt.context import RunContext
    from gryt.destination import Destination
    from gryt.pipeline import Pipeline
    from gryt.step import Step


@hookimpl
def gryt_register_destinations(register: Register) -> None:
    from gryt_github.release import GithubReleaseDestination

    register(GithubReleaseDestination)


@hookimpl
def gryt_observe_run() -> bool:
    """The lifecycle hooks below take part only in runs inside a GitHub Actions job."""
    return os.environ.get("GITHUB_ACTIONS") == "true"


@hookimpl
def gryt_step_start(step: Step, context: RunContext) -> None:
    """Open the step's log group."""
    from gryt_github import actions

    actions.step_start(step, context)


@hookimpl
def gryt_step_end(step: Step, result: Mapping[str, Any], context: RunContext) -> None:
    """Close the step's log group; a failed step becomes an error annotation."""
    from gryt_github import actions

    actions.step_end(step, result, context)


@hookimpl
def gryt_destination_end(destination: Destination, result: Mapping[str, Any], context: RunContext) -> None:
    """A failed destination becomes an error annotation."""
    from gryt_github import actions

    actions.destination_end(destination, result, context)


@hookimpl
def gryt_pipeline_end(pipeline: Pipeline, result: Mapping[str, Any], context: RunContext) -> None:
    """Write the job summary and the `run-id` and `status` outputs."""
    from gryt_github import actions

    actions.pipeline_end(pipeline, result, context)
