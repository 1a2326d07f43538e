"""`dump_toml`: pipelines and configs written from dicts, for tests that build them in code.

PYTEST_DONT_REWRITE: test modules import `gryt.testing` before pytest registers it; its checks raise
AssertionError with their own messages and need no assertion rewriting.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_string(text: str) -> str:
    escapes = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
    out = []
    for char in text:
        if char in escapes:
            out.append(escapes[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _toml_value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, os.PathLike):
        return _toml_string(os.fspath(value))
    if isinstance(value, Mapping):
        items = ", ".join(f"{_toml_key(str(k))} = {_toml_value(v, f'{where}.{k}')}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v, f"{where}[{i}]") for i, v in enumerate(value)) + "]"
    raise TypeError(f"{where}: TOML cannot hold {type(value).__name__} values ({value!r})")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _emit_table(lines: list[str], path: list[str], table: Mapping[str, Any], where: str) -> None:
    """Append `table` at header `path`; `where` is its key path for error messages (`runners[0]`)."""
    prefix = f"{where}." if where else ""
    for key, value in table.items():
        if not isinstance(value, Mapping) and not _is_table_array(value):
            lines.append(f"{_toml_key(str(key))} = {_toml_value(value, prefix + str(key))}")
    for key, value in table.items():
        header = ".".join(_toml_key(p) for p in [*path, str(key)])
        if isinstance(value, Mapping):
            lines.extend(["", f"[{header}]"])
            _emit_table(lines, [*path, str(key)], value, prefix + str(key))
        elif _is_table_array(value):
            for index, item in enumerate(value):
                lines.extend(["", f"[[{header}]]"])
                _emit_table(lines, [*path, str(key)], item, f"{prefix}{key}[{index}]")


def dump_toml(data: Mapping[str, Any]) -> str:
    """Render a dict as TOML: nested dicts become tables, lists of dicts arrays of tables.

    Supports str, int, float, bool, paths, lists and dicts; `None` raises TypeError (TOML has no null).
    """
    lines: list[str] = []
    _emit_table(lines, [], data, "")
    return "\n".join(lines).lstrip("\n") + "\n"
