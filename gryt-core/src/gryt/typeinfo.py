"""What every registrable type (auth, validator, runtime, destination, step, hook) declares about itself."""

from __future__ import annotations

from typing import ClassVar

from gryt.config import ConfigKey


class Registrable:
    """Mixin for plugin types: `name` is the type name used in TOML, `summary` one line for listings.

    `config_keys` declares the accepted keys; `None` accepts any key without checking.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    config_keys: ClassVar[tuple[ConfigKey, ...] | None] = None


def type_name(obj: object) -> str:
    """The registered type name of a plugin object (`env-vars`), else its class name: how runs name it."""
    return getattr(type(obj), "name", "") or type(obj).__name__
