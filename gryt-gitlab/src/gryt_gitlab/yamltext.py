"""A small YAML writer for generated CI files: block mappings and sequences, every string double-quoted
as JSON quotes it (a JSON string is a valid YAML double-quoted scalar), so no value can change type or
meaning (`on`, `1.0`, `*x`, `: `, `#`). Keys are written bare only when they are plain identifiers."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")
"""Characters YAML does not allow raw, or reads as line breaks, inside a quoted scalar: escaped."""


def _quote(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _quote(value)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _key(key: str) -> str:
    if _BARE_KEY.fullmatch(key) and key.lower() not in _RESERVED:
        return key
    return _quote(key)


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, (Mapping, list, tuple)) and item:
                out.append(f"{pad}{_key(str(key))}:")
                out += _lines(item, indent + 2)
            else:
                out.append(f"{pad}{_key(str(key))}: {_empty(item)}")
        return out
    for item in value:
        if isinstance(item, (Mapping, list, tuple)) and item:
            nested = _lines(item, indent + 2)
            out.append(f"{pad}- {nested[0].lstrip()}")
            out += nested[1:]
        else:
            out.append(f"{pad}- {_empty(item)}")
    return out


def _empty(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[]"
    return _scalar(value)


def dump(document: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """`document` as YAML text, led by `header` as `#` comment lines; blank lines between top-level keys."""
    out = [f"# {_UNPRINTABLE.sub(' ', _CONTROL.sub(' ', line))}".rstrip() for line in header]
    for key, value in document.items():
        if out:
            out.append("")
        out += _lines({key: value}, 0)
    return "\n".join(out) + "\n"
