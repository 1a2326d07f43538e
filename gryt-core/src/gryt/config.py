"""Declared config keys of plugin types: validation, defaults and did-you-mean for TOML and Python."""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from gryt.errors import ConfigError
from gryt.masking import shorten

_TYPE_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    list: "a list",
    dict: "a table",
}

MAX_SECONDS = 365 * 24 * 3600
"""The upper bound of every duration key (a timeout, a delay): one year. Larger values pass for numbers
but overflow the clocks and waits they reach (`time.sleep(1e300)` raises OverflowError)."""

MAX_NESTING = 64
"""How deeply tables and lists may nest in a pipeline or config. Far beyond any real pipeline, and far
below where Python's recursion limit would stop gryt's own recursive walks (masking, copying, JSON)."""


def too_deep(value: Any, limit: int = MAX_NESTING) -> bool:
    """True when dicts, lists or tuples in `value` nest more than `limit` levels deep (the containers that
    masking, event copies and JSON walk recursively).

    Walks one level at a time without recursion, so any depth is measured (a value nested 100,000 levels
    deep is answered, not a RecursionError); a flat step result costs one pass over its values.
    """
    level = [value]
    for depth in range(limit + 1):
        below: list[Any] = []  # one loop, no comprehensions: this runs for every step result
        found = False
        for item in level:
            if isinstance(item, dict):
                below.extend(item.values())
            elif isinstance(item, (list, tuple)):
                below.extend(item)
            else:
                continue
            found = True
        if not found:
            return False
        if depth == limit:
            return True
        level = below
    return False


Types: TypeAlias = "type | tuple[type, ...]"
"""What `ConfigKey.type` and `ConfigKey.items` take: one Python type or a tuple of them."""


@dataclass(frozen=True)
class ConfigKey:
    """One config key a type accepts: its name, Python type(s), default and one line of help.

    Optional constraints, checked with the same wording for every plugin: `choices` (the value must be
    one of them), `items` (the type(s) of each item of a list, or each value of a table), `non_empty`
    (a string, or each string item, must not be blank), and for numbers `minimum` / `maximum`
    (inclusive) or `positive` (greater than 0); a bounded number must also be finite.
    """

    name: str
    type: type | tuple[type, ...] = str
    default: Any = None
    help: str = ""
    required: bool = False
    choices: tuple[Any, ...] | None = None
    items: Types | None = None
    non_empty: bool = False
    minimum: float | None = None
    maximum: float | None = None
    positive: bool = False

    def type_name(self) -> str:
        return _type_name(self.type)

    def accepts(self, value: Any) -> bool:
        return _accepts(self.type, value)

    def check(self, value: Any, where: str = "") -> None:
        """Raise ConfigError (`where.name: expected ..., got ...`) unless `value` fits this key."""
        path = f"{where}.{self.name}" if where else self.name
        if value is None:
            return
        if not self.accepts(value):
            raise ConfigError(f"{path}: expected {self.type_name()}, got {describe(value)}")
        if self.items is not None and isinstance(value, (list, dict)):
            entries = value.items() if isinstance(value, dict) else enumerate(value)
            for index, item in entries:
                at = f"{path}.{index}" if isinstance(value, dict) else f"{path}[{index}]"
                if not _accepts(self.items, item):
                    raise ConfigError(f"{at}: expected {_type_name(self.items)}, got {describe(item)}")
                self._check_blank(item, at)
        self._check_blank(value, path)
        if self.choices is not None and value not in self.choices:
            shown = ", ".join(describe(choice) for choice in self.choices)
            hint = did_you_mean(value, [str(c) for c in self.choices]) if isinstance(value, str) else ""
            raise ConfigError(f"{path}: expected one of {shown}, got {describe(value)}{hint}")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and self._bounded():
            self._check_bounds(value, path)

    def _check_blank(self, value: Any, path: str) -> None:
        if self.non_empty and isinstance(value, str) and not value.strip():
            raise ConfigError(f"{path}: expected a non-empty string, got {describe(value)}")

    def _bounded(self) -> bool:
        return self.positive or self.minimum is not None or self.maximum is not None

    def _check_bounds(self, value: float, path: str) -> None:
        low, high = self.minimum, self.maximum
        fits = (
            math.isfinite(value)
            and (not self.positive or value > 0)
            and (low is None or value >= low)
            and (high is None or value <= high)
        )
        if fits:
            return
        noun = _type_name(self.type).split(" or ")[-1].removeprefix("an ").removeprefix("a ")
        if self.positive:
            wanted = f"a positive {noun}" + (f" <= {_number(high)}" if high is not None else "")
        elif low is not None and high is not None:
            wanted = f"{_article(noun)} {noun} between {_number(low)} and {_number(high)}"
        elif low is not None:
            wanted = f"{_article(noun)} {noun} >= {_number(low)}"
        else:
            wanted = f"{_article(noun)} {noun} <= {_number(high)}"
        raise ConfigError(f"{path}: expected {wanted}, got {describe(value)}")


def _number(value: float | None) -> str:
    """A bound as a person writes it: `31536000`, not `3.1536e+07`; `0.5` stays `0.5`."""
    if value is not None and float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}"


def _article(noun: str) -> str:
    return "an" if noun[:1] in "aeiou" else "a"


def _type_name(types: Types) -> str:
    kinds = types if isinstance(types, tuple) else (types,)
    if float in kinds:  # an integer is a number too
        kinds = tuple(t for t in kinds if t is not int)
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in kinds)


def _accepts(types: Types, value: Any) -> bool:
    kinds = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool) and bool not in kinds:
        return False
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        return True
    return isinstance(value, kinds)


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str:
    """A ' (did you mean "x"?)' suffix for the closest choice, or ''."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def describe(value: Any) -> str:
    """A short rendering of a bad value for an error message; a long one is cut without leaving the start
    of a token behind (`gryt.masking.shorten`): the value may be a secret gryt does not know yet."""
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    return shorten(text, 40)


def resolve_config(
    keys: tuple[ConfigKey, ...] | None, values: Mapping[str, Any] | None, where: str = ""
) -> dict[str, Any]:
    """Check `values` against declared `keys` and fill in defaults; `None` keys accept anything.

    Raises ConfigError naming the key path (`where.key`) with a did-you-mean for unknown keys, and for
    values nested more than MAX_NESTING levels deep (which would break the recursive walks over a
    step's config: masking, copying, JSON).
    """
    given = dict(values or {})
    if too_deep(given):
        raise ConfigError(
            f"{where or 'config'}: tables and lists nested more than {MAX_NESTING} levels deep;"
            " flatten the structure"
        )
    if keys is None:
        return given
    prefix = f"{where}." if where else ""
    known = {k.name: k for k in keys}
    for name in given:
        if name not in known:
            accepted = ", ".join(sorted(known)) or "none"
            shown = name if name.isprintable() else json.dumps(name)
            raise ConfigError(
                f"{prefix}{shown}: unknown key{did_you_mean(name, list(known))}; accepted keys: {accepted}"
            )
    resolved: dict[str, Any] = {}
    for key in keys:
        if key.name in given:
            value = given[key.name]
            key.check(value, where)
            resolved[key.name] = value
        elif key.required:
            raise ConfigError(f"{prefix}{key.name}: required key is missing")
        else:
            default = key.default
            resolved[key.name] = list(default) if isinstance(default, list) else default
    return resolved
