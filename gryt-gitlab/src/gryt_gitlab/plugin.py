"""Hook implementations of gryt-gitlab: inside GitLab CI (`GITLAB_CI=true`), a collapsible job-log section
per step and a summary when the run ends (`gryt_gitlab.joblog`); nothing elsewhere."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from gryt import hookimpl


@hookimpl
def gryt_observe_run() -> bool:
    """The lifecycle hooks below take part only in runs inside GitLab CI."""
    return os.environ.get("GITLAB_CI") == "true"


@hookimpl
def gryt_step_start(step: Any, context: Any) -> None:
    from gryt_gitlab.joblog import JOB_LOG

    JOB_LOG.step_start(step, context)


@hookimpl
def gryt_step_end(step: Any, result: Mapping[str, Any], context: Any) -> None:
    from gryt_gitlab.joblog import JOB_LOG

    JOB_LOG.step_end(step, result, context)


@hookimpl
def gryt_pipeline_end(result: Mapping[str, Any], context: Any) -> None:
    from gryt_gitlab.joblog import JOB_LOG

    JOB_LOG.pipeline_end(result, context)
