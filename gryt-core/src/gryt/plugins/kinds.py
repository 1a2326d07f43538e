"""The kinds of types plugins register: one record each, with its registration hook and base class."""

from __future__ import annotations

from dataclasses import dataclass

from gryt.auth import Auth
from gryt.cache.base import Cache
from gryt.destination import Destination
from gryt.histories import History
from gryt.hook import Hook
from gryt.runtime import Runtime
from gryt.step import Step
from gryt.validators import Validator


@dataclass(frozen=True)
class Kind:
    """A kind of type plugins register: its key in listings, its registration hook, its base, its word."""

    name: str
    hook: str
    base: type
    label: str


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("auth", "gryt_register_auth", Auth, "auth"),
        Kind("validators", "gryt_register_validators", Validator, "validator"),
        Kind("runtimes", "gryt_register_runtimes", Runtime, "runtime"),
        Kind("destinations", "gryt_register_destinations", Destination, "destination"),
        Kind("steps", "gryt_register_steps", Step, "step"),
        Kind("hooks", "gryt_register_hooks", Hook, "hook"),
        Kind("histories", "gryt_register_histories", History, "history"),
        Kind("caches", "gryt_register_caches", Cache, "cache"),
    )
}
"""Every kind by name (the keys of `provides` in `gryt plugins list --json`)."""
