"""Block-style YAML for the workflow generator, without a YAML library: mappings, lists, strings, booleans
and integers only, every key order kept (so the same data gives the same bytes). A string is written
plain only when no YAML reader can take it for anything else; otherwise double-quoted with escapes."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./+=@-]*(?: [A-Za-z0-9_./+=@-]+)*")
"""Starts with a letter, `_` or `/` (never a number, an indicator or `.inf`), no `:`, `#`, quotes or
brackets, single spaces between words."""
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
"""Plain words YAML 1.1 readers (PyYAML, and GitHub for `on`) take as booleans or null."""
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _printable(char: str) -> bool:
    """Characters YAML allows literally in a double-quoted string (minus line-break look-alikes)."""
    code = ord(char)
    if char in "\x85\u2028\u2029\ufeff":
        return False
    return 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000


def scalar(value: Any) -> str:
    """One scalar as YAML text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"cannot write {type(value).__name__} as YAML")
    if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
        return value
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif _printable(char):
            out.append(char)
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def dump(value: Mapping[str, Any], *, spaced: tuple[str, ...] = ()) -> str:
    """A mapping as a block-style YAML document, a blank line between its entries and between the
    entries of its keys named in `spaced` (e.g. the jobs of a workflow), for readability."""
    lines: list[str] = []
    for index, (key, item) in enumerate(value.items()):
        if index:
            lines.append("")
        if key in spaced and isinstance(item, Mapping) and item:
            lines.append(f"{scalar(key)}:")
            for number, (inner_key, inner) in enumerate(item.items()):
                lines += [""] * (number > 0) + _entry(f"  {scalar(inner_key)}:", inner, 4)
        else:
            lines += _entry(f"{scalar(key)}:", item, 2)
    return "\n".join(lines) + "\n"


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            lines += _entry(f"{pad}{scalar(key)}:", item, indent + 2)
        return lines
    for item in value:
        if isinstance(item, Mapping) and item:
            inner = _lines(item, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines += inner[1:]
        else:
            lines += _entry(f"{pad}-", item, indent + 2)
    return lines


def _entry(head: str, item: Any, indent: int) -> list[str]:
    """`head` (a key with its colon, or a list dash) followed by its value inline or as a nested block."""
    if isinstance(item, Mapping) or (isinstance(item, Sequence) and not isinstance(item, str)):
        if not item:
            return [f"{head} {'{}' if isinstance(item, Mapping) else '[]'}"]
        return [head, *_lines(item, indent)]
    return [f"{head} {scalar(item)}"]
