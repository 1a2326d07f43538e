"""Declared config keys of plugin types: validation, defaults and did-you-mean for TOML and Python."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gryt.errors import ConfigError

_TYPE_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    list: "a list",
    dict: "a table",
}


@dataclass(frozen=True)
class ConfigKey:
    """One config key a type accepts: its name, Python type(s), default and one line of help."""

    name: str
    type: type | tuple[type, ...] = str
    default: Any = None
    help: str = ""
    required: bool = False

    def type_name(self) -> str:
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        if float in types:  # an integer is a number too
            types = tuple(t for t in types if t is not int)
        return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)

    def accepts(self, value: Any) -> bool:
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        if isinstance(value, bool) and bool not in types:
            return False
        if float in types and isinstance(value, int) and not isinstance(value, bool):
            return True
        return isinstance(value, types)


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str:
    """A ' (did you mean "x"?)' suffix for the closest choice, or ''."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def describe(value: Any) -> str:
    """A short rendering of a bad value for an error message."""
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def resolve_config(
    keys: tuple[ConfigKey, ...] | None, values: Mapping[str, Any] | None, where: str = ""
) -> dict[str, Any]:
    """Check `values` against declared `keys` and fill in defaults; `None` keys accept anything.

    Raises ConfigError naming the key path (`where.key`) with a did-you-mean for unknown keys.
    """
    given = dict(values or {})
    if keys is None:
        return given
    prefix = f"{where}." if where else ""
    known = {k.name: k for k in keys}
    for name in given:
        if name not in known:
            accepted = ", ".join(sorted(known)) or "none"
            raise ConfigError(
                f"{prefix}{name}: unknown key{did_you_mean(name, list(known))}; accepted keys: {accepted}"
            )
    resolved: dict[str, Any] = {}
    for key in keys:
        if key.name in given:
            value = given[key.name]
            if value is not None and not key.accepts(value):
                raise ConfigError(f"{prefix}{key.name}: expected {key.type_name()}, got {describe(value)}")
            resolved[key.name] = value
        elif key.required:
            raise ConfigError(f"{prefix}{key.name}: required key is missing")
        else:
            default = key.default
            resolved[key.name] = list(default) if isinstance(default, list) else default
    return resolved
