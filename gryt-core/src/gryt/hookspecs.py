"""The whole gryt plugin contract: every hook a plugin may implement.

A plugin is a module registered under the `gryt` entry-point group; it implements any of these with
`@gryt.hookimpl`. Registration hooks run once per process when the plugin manager loads; lifecycle hooks
run during every pipeline run, after the pipeline's own `Hook` object. Exceptions raised by lifecycle
hooks are reported and never fail the run; payloads are masked (no secret ever reaches a hook).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("gryt")

Register = Callable[[type], None]


@hookspec
def gryt_register_auth(register: Register) -> None:
    """Register Auth subclasses: `register(FlyAuth)` adds type `FlyAuth.name` ("fly").

    Runs once when plugins load. Must only call `register`; no I/O, no heavy imports at module level.
    """


@hookspec
def gryt_register_validators(register: Register) -> None:
    """Register Validator subclasses ("env-vars", "tools", ...). Runs once when plugins load."""


@hookspec
def gryt_register_runtimes(register: Register) -> None:
    """Register Runtime subclasses ("local"). Runs once when plugins load."""


@hookspec
def gryt_register_destinations(register: Register) -> None:
    """Register Destination subclasses ("command", "directory"). Runs once when plugins load."""


@hookspec
def gryt_register_steps(register: Register) -> None:
    """Register Step subclasses ("command"). Runs once when plugins load."""


@hookspec
def gryt_register_hooks(register: Register) -> None:
    """Register Hook subclasses ("print") that TOML pipelines can attach with `[[hooks]] type = ...`."""


@hookspec
def gryt_pipeline_start(pipeline: Any, context: Any) -> None:
    """A run starts: validators passed, nothing else ran yet. `context.run_id` identifies the run.

    May read the pipeline and context; must not change them.
    """


@hookspec
def gryt_pipeline_end(pipeline: Any, result: dict[str, Any], context: Any) -> None:
    """A run ended (any status, also interrupted); `result` is the masked pipeline result."""


@hookspec
def gryt_step_start(step: Any, context: Any) -> None:
    """A step is about to run; `context.runner_id` names its runner."""


@hookspec
def gryt_step_end(step: Any, result: dict[str, Any], context: Any) -> None:
    """A step finished; `result` is its masked result dict."""


@hookspec
def gryt_error(scope: str, error: str, context: Any) -> None:
    """Something failed outside a step result: `scope` is e.g. "runner:build", "destination:dist",
    "hook:print"; `error` is a masked one-line message."""
