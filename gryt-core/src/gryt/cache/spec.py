"""What a step declares for the cache: `inputs`, `outputs` and `env_inputs` (keys of any step type)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gryt.config import ConfigKey, resolve_config
from gryt.errors import ConfigError

STEP_CACHE_KEYS = (
    ConfigKey(
        "inputs",
        list,
        None,
        "Globs of the files the step reads, relative to the project root: the step gets a cache key",
        items=str,
        non_empty=True,
    ),
    ConfigKey(
        "outputs",
        list,
        [],
        "Globs of the files and folders the step writes: stored on a miss, restored on a hit",
        items=str,
        non_empty=True,
    ),
    ConfigKey(
        "env_inputs",
        list,
        [],
        "Environment variable names whose values go into the key",
        items=str,
        non_empty=True,
    ),
)
"""The cache keys every step table accepts, whatever its type (checked like a type's own keys)."""


@dataclass(frozen=True)
class CacheSpec:
    """A step's cache declaration: only a step with `inputs` (even an empty list) is cached."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...] = ()
    env_inputs: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """What a run's `config_json` records about the declaration."""
        return {
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "env_inputs": list(self.env_inputs),
        }


def parse_cache_spec(
    inputs: Any = None, outputs: Any = None, env_inputs: Any = None, where: str = ""
) -> CacheSpec | None:
    """The declaration of a step (`where` names it in errors), or None when it declares no `inputs`.

    `outputs` or `env_inputs` without `inputs` is a ConfigError: they would silently do nothing.
    """
    given = {
        name: value
        for name, value in (("inputs", inputs), ("outputs", outputs), ("env_inputs", env_inputs))
        if value is not None
    }
    values = resolve_config(STEP_CACHE_KEYS, given, where=where)
    prefix = f"{where}." if where else ""
    if values["inputs"] is None:
        extra = [name for name in ("outputs", "env_inputs") if values[name]]
        if extra:
            raise ConfigError(
                f"{prefix}{extra[0]}: only a step with `inputs` is cached; add inputs = [...] (may be empty)"
            )
        return None
    for name in ("inputs", "outputs"):
        for index, pattern in enumerate(values[name]):
            problem = pattern_problem(pattern)
            if problem:
                raise ConfigError(f"{prefix}{name}[{index}]: {problem}, got {pattern!r}")
    return CacheSpec(tuple(values["inputs"]), tuple(values["outputs"]), tuple(values["env_inputs"]))


def pattern_problem(pattern: str) -> str:
    """Why a glob cannot name files below the project root ("" when it can)."""
    if pattern.startswith("/") or "\\" in pattern:
        return "expected a glob relative to the project root (forward slashes)"
    if any(part == ".." for part in pattern.split("/")):
        return "a glob must stay below the project root (no `..`)"
    return ""
