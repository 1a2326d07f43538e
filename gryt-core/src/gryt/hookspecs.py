"""The whole gryt plugin contract: the markers, the `Register` type and every hook.

A plugin is a module (or object) named by an entry point of the `gryt` group. It implements any of the
hooks below with `@gryt.hookimpl`, taking only the arguments it needs; `tryfirst=True`/`trylast=True`
order it among the other plugins exactly as in pluggy (otherwise the last registered is called first).
Wrappers (`hookwrapper=True`, `wrapper=True`) are refused: the plugin is marked `error`. The `gryt_`
prefix is reserved: a function of that name that is not a hook below marks the plugin `error` too.

Registration hooks run once per process, when the plugin manager loads (`gryt.plugins.kinds` names the
base class each one's classes must subclass). Lifecycle hooks run during every pipeline run (unless the
plugin's `gryt_observe_run` declines it), after the pipeline's own `Hook` objects. They observe: each
gets its own copy of a result, so changing it changes nothing. One that raises is reported (stderr and
`gryt_error`) and never fails the run or stops the other plugins. Results, error messages and every
other payload dict are masked copies. What is not masked, because a plugin may need the real values to
run its own tools: `context.env`, the run's environment as exported by auth steps and the runtime
(secrets included), and the live `step`, `pipeline` and `destination` objects (a step's `config` holds
its `env` as written). A plugin that sends any of those anywhere masks it first with
`context.masker.mask(text)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from gryt.context import RunContext
    from gryt.destination import Destination
    from gryt.pipeline import Pipeline
    from gryt.step import Step

hookspec = pluggy.HookspecMarker("gryt")
hookimpl = pluggy.HookimplMarker("gryt")

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
    """Register Hook subclasses ("print"): observer objects TOML pipelines attach with `[[hooks]] type`.

    Runs once when plugins load. A registered Hook observes only the pipelines that name it; to observe
    every run, implement the lifecycle hooks below instead.
    """


@hookspec
def gryt_register_histories(register: Register) -> None:
    """Register History subclasses ("sqlite"): run-history backends, selected by the URL scheme of the
    project's `history` setting or `GRYT_HISTORY_URL` (`PostgresHistory.name` "postgresql").

    Runs once when plugins load. Import the database driver inside the class's methods, not here.
    """


@hookspec
def gryt_register_caches(register: Register) -> None:
    """Register Cache subclasses (`gryt.cache.base`): step cache stores ("local").

    Runs once when plugins load. Call only `register`: no I/O (a store connects when gryt builds it
    for a run, from the project config's `cache` and `cache_options`). The project config names one
    store; gryt computes keys, restores and stores outputs, and passes the store only masked entries.
    """


@hookspec
def gryt_observe_run(context: RunContext) -> bool | None:
    """Whether this plugin's lifecycle hooks (all those below) take part in the run that starts.

    Asked once per run, before its first lifecycle hook. Return False to skip them for the whole run,
    e.g. a CI integration outside its CI service, so that the run does not call them for every step;
    True or None (or not implementing this hook): they are called. One that raises is reported like
    any lifecycle hook, and the plugin's hooks are called.
    """


@hookspec
def gryt_pipeline_start(pipeline: Pipeline, context: RunContext) -> None:
    """A run starts: validators passed, no auth step or runner ran yet.

    `context.run_id` identifies the run. May read both and do its own I/O (notify, log); must not
    change them.
    """


@hookspec
def gryt_pipeline_end(pipeline: Pipeline, result: Mapping[str, Any], context: RunContext) -> None:
    """A run ended with any status (also failed, invalid environment or interrupted).

    `result` is a copy of the masked pipeline result (`status`, `run_id`, `runners`, ...).
    """


@hookspec
def gryt_step_start(step: Step, context: RunContext) -> None:
    """A step is about to run; `context.runner_id` names its runner, `context.run_id` the run."""


@hookspec
def gryt_step_end(step: Step, result: Mapping[str, Any], context: RunContext) -> None:
    """A step finished (success, error, skipped or interrupted); `result` is a copy of its masked result."""


@hookspec
def gryt_destination_start(destination: Destination, context: RunContext) -> None:
    """A destination is about to publish: every runner succeeded and its artifacts are resolved."""


@hookspec
def gryt_destination_end(destination: Destination, result: Mapping[str, Any], context: RunContext) -> None:
    """A destination finished, or was `skipped` because the run did not deliver (no start event then).

    `result` is a copy of its masked outcome: `status` (success, error, skipped), `type`, `duration`,
    `artifacts` (paths it was given), `log_path`, `error` unless it succeeded, and `results` (one dict
    per artifact, as `publish()` returned them).
    """


@hookspec
def gryt_error(scope: str, error: str, context: RunContext) -> None:
    """Something failed outside a step result.

    `scope` says where, e.g. "runner:build", "destination:dist", "hook:print" or "plugin:NAME" (a
    lifecycle hook of plugin NAME raised); `error` is a masked one-line message.
    """
