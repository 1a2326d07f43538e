"""What a pipeline needs from the machine that runs it: the plugin types it uses (and the distributions
providing them) and the environment variables its config names. `gryt plan --json` reports both so a CI
job knows what to install and which secrets to pass, without loading the pipeline itself."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gryt.typeinfo import type_name

SECRET_WORDS = ("token", "password", "secret", "key")
"""A config key naming an environment variable holds a secret when its name has one of these words."""


def _objects(pipeline: Any) -> Iterator[tuple[str, str, Any]]:
    """(kind, where, object) for every plugin object of the pipeline, in declaration order."""
    for validator in pipeline.validators:
        yield "validators", f"validator:{type_name(validator)}", validator
    for auth in pipeline.auth_steps:
        yield "auth", f"auth:{auth.id}", auth
    if pipeline.runtime is not None:
        yield "runtimes", f"runtime:{type_name(pipeline.runtime)}", pipeline.runtime
    for runner in pipeline.runners:
        for step in runner.steps:
            yield "steps", f"step:{runner.id}/{step.id}", step
    for destination in pipeline.destinations:
        yield "destinations", f"destination:{destination.id}", destination
    for hook in pipeline.hooks:
        yield "hooks", f"hook:{type_name(hook)}", hook


def plugins_used(pipeline: Any) -> list[dict[str, Any]]:
    """One entry per plugin type the pipeline uses: `kind`, `type`, and the `distribution` and `version`
    registering it (None for a class no plugin registered, e.g. defined in a `.py` pipeline), sorted."""
    from gryt.plugins.manager import get_manager

    registry = get_manager(warn=False).registry
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, _where, obj in _objects(pipeline):
        name = type_name(obj)
        if (kind, name) in found:
            continue
        info = next((i for n, cls, i in registry.items(kind) if n == name and cls is type(obj)), None)
        found[(kind, name)] = {
            "kind": kind,
            "type": name,
            "distribution": info.distribution if info is not None else None,
            "version": info.version if info is not None else None,
        }
    return [found[key] for key in sorted(found)]


def environment(pipeline: Any) -> list[dict[str, Any]]:
    """The environment variables the pipeline reads by name, sorted: `secrets`, and the values of config
    keys ending in `_env_var` (a name) or `_env` (a table of names). Each: `name`, `secret` (listed in
    `secrets`, or named by a key saying token/password/secret/key) and `used_by` (`pipeline`,
    `auth:ID`, `step:RUNNER/ID`, `destination:ID`, ...)."""
    found: dict[str, dict[str, Any]] = {}

    def note(name: Any, secret: bool, where: str) -> None:
        if not isinstance(name, str) or not name.strip():
            return
        entry = found.setdefault(name, {"name": name, "secret": False, "used_by": []})
        entry["secret"] = entry["secret"] or secret
        if where not in entry["used_by"]:
            entry["used_by"].append(where)

    for name in pipeline.secrets:
        note(name, True, "pipeline")
    for _kind, where, obj in _objects(pipeline):
        config = getattr(obj, "config", None)
        if not isinstance(config, Mapping):
            continue
        for key, value in config.items():
            secret = any(word in str(key).lower() for word in SECRET_WORDS)
            if str(key).endswith("_env_var"):
                note(value, secret, where)
            elif str(key).endswith("_env") and isinstance(value, Mapping):
                for variable in value.values():
                    note(variable, True, where)
    for entry in found.values():
        entry["used_by"].sort()
    return [found[name] for name in sorted(found)]
