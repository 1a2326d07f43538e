"""The cache key of a step: SHA-256 over everything that decides what the step produces.

Its type and configuration (command, env, cwd, ...), the run's exported environment, its declaration,
the path, content and executable bit of every input file, the `env_inputs` values, the keys of the steps
it depends on, gryt's version and the platform. Values are hashed, never stored: a secret that goes
into a key cannot be read back from it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gryt
from gryt.cache.globs import Tree
from gryt.cache.index import HashIndex

if TYPE_CHECKING:
    from gryt.cache.spec import CacheSpec
    from gryt.context import RunContext
    from gryt.step import Step

KEY_FORMAT = 1


def platform_id() -> list[str]:
    """What a build may depend on besides its inputs: OS, machine and Python (`gryt` runs in it)."""
    return [
        sys.platform,
        platform.machine(),
        sys.implementation.name,
        f"{sys.version_info[0]}.{sys.version_info[1]}",
    ]


def step_key(
    step: Step,
    spec: CacheSpec,
    ctx: RunContext,
    upstream: list[str],
    *,
    tree: Tree,
    index: HashIndex,
) -> str:
    """The step's key (64 hex digits); `upstream` holds the keys of the steps it depends on, in order."""
    digest = hashlib.sha256()

    def add(label: str, value: Any) -> None:
        digest.update(
            json.dumps([label, value], sort_keys=True, default=repr).encode("utf-8", "surrogatepass")
        )
        digest.update(b"\0")

    config: Mapping[str, Any] = step.config
    add("format", KEY_FORMAT)
    add("gryt", gryt.__version__)
    add("platform", platform_id())
    add("type", [step.name, type(step).__module__, type(step).__qualname__])
    add("config", config)
    add("exported", sorted(ctx.env.items()))
    add("cwd", _relative(ctx.cwd, tree))
    add("spec", spec.describe())
    files = tree.match(spec.inputs)
    add("inputs", [[path, index.digest(path, st), bool(st.mode & 0o111)] for path, st in files.items()])
    step_env = config.get("env")
    env = {**os.environ, **ctx.env, **(step_env if isinstance(step_env, dict) else {})}
    add("env_inputs", [[name, env.get(name)] for name in spec.env_inputs])
    add("upstream", upstream)
    return digest.hexdigest()


def _relative(cwd: str | None, tree: Tree) -> str | None:
    """The runtime's working directory relative to the project root when below it (same key anywhere)."""
    if cwd is None:
        return None
    try:
        return os.path.relpath(Path(cwd).absolute(), tree.root)
    except ValueError:
        return cwd
