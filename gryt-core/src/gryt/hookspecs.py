"""The whole gryt plugin contract: every hook a plugin may implement.

A plugin is a module (or object) named by an entry point of the `gryt` group; it implements any of these
with `@gryt.hookimpl`, taking only the arguments it needs. The `gryt_` prefix is reserved: a function of
that name that is not one of these hooks marks the plugin `error`.

Registration hooks run once per process, when the plugin manager loads (on first use of the registry).
Lifecycle hooks run during every pipeline run, after the pipeline's own `Hook` object; each plugin's
implementation is called on its own, so one that raises is reported (stderr and `gryt_error`) and never
fails the run or stops the other plugins. Payloads are masked: no secret ever reaches a hook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("gryt")

Register = Callable[[type], None]
"""`register(cls)`: adds `cls` under its `name`; raises PluginError for a bad class (wrong base, no name)."""


@hookspec
def gryt_register_auth(register: Register) -> None:
    """Register Auth subclasses: `register(FlyAuth)` adds the auth type `FlyAuth.name` ("fly").

    Runs once when plugins load. Call only `register`: no I/O, and keep heavy imports inside the
    classes' methods. If this hook raises, nothing the plugin registered is kept and it is marked `error`.
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
    """Register Hook subclasses ("print") that TOML pipelines attach with `[[hooks]] type = ...`.

    Runs once when plugins load. A registered Hook observes only the pipelines that name it; to observe
    every run, implement the lifecycle hooks below instead.
    """


@hookspec
def gryt_pipeline_start(pipeline: Any, context: Any) -> None:
    """A run starts: validators passed, no auth step or runner ran yet.

    Receives the Pipeline and its RunContext (`context.run_id` identifies the run). May read both and
    do its own I/O (notify, log); must not change them.
    """


@hookspec
def gryt_pipeline_end(pipeline: Any, result: dict[str, Any], context: Any) -> None:
    """A run ended with any status (also failed, invalid environment or interrupted).

    `result` is the masked pipeline result dict (`status`, `run_id`, `runners`, ...). Read only.
    """


@hookspec
def gryt_step_start(step: Any, context: Any) -> None:
    """A step is about to run; `context.runner_id` names its runner, `context.run_id` the run. Read only."""


@hookspec
def gryt_step_end(step: Any, result: dict[str, Any], context: Any) -> None:
    """A step finished (success, error or skipped); `result` is its masked result dict. Read only."""


@hookspec
def gryt_error(scope: str, error: str, context: Any) -> None:
    """Something failed outside a step result.

    `scope` says where, e.g. "runner:build", "destination:dist", "hook:print" or "plugin:NAME" (a
    lifecycle hook of plugin NAME raised); `error` is a masked one-line message. Read only.
    """
