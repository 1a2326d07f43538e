"""Block-style YAML for the files gryt generates (CI configurations), without a YAML library: mappings,
lists, strings, booleans, integers and None only, every key order kept (the same data gives the same
bytes). A string is written plain only when no YAML reader can take it for anything else (or, with
`plain=False`, never); otherwise double-quoted with escapes."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["dump", "scalar"]

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./+=@-]*(?: [A-Za-z0-9_./+=@-]+)*")
"""Starts with a letter, `_` or `/` (never a number, an indicator or `.inf`), no `:`, `#`, quotes or
brackets, single spaces between words."""
_BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
"""Keys written plain with `plain=False`: identifiers."""
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
"""Plain words YAML 1.1 readers (PyYAML, and GitHub for `on`) take as booleans or null."""
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _printable(char: str) -> bool:
    """Characters YAML allows literally in a double-quoted string (minus line-break look-alikes)."""
    code = ord(char)
    if char in "\x85\u2028\u2029\ufeff":
        return False
    return 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000


def _quote(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif _printable(char):
            out.append(char)
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def scalar(value: Any, *, plain: bool = True) -> str:
    """One scalar as YAML text; with `plain=False` a string is always double-quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"cannot write {type(value).__name__} as YAML")
    if plain and _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
        return value
    return _quote(value)


def dump(
    document: Mapping[str, Any],
    *,
    header: Sequence[str] = (),
    spaced: tuple[str, ...] = (),
    plain: bool = True,
) -> str:
    """`document` as a block-style YAML document, led by `header` as `#` comment lines; a blank line after
    the header, between the document's entries and between the entries of its keys named in `spaced`
    (e.g. the jobs of a workflow). `plain=False` double-quotes every string value, and every key that is
    not an identifier."""
    writer = _Writer(plain)
    lines = ["# {}".format("".join(c if _printable(c) else " " for c in line)).rstrip() for line in header]
    for key, item in document.items():
        if lines:
            lines.append("")
        if key in spaced and isinstance(item, Mapping) and item:
            lines.append(f"{writer.key(key)}:")
            for number, (inner_key, inner) in enumerate(item.items()):
                lines += [""] * (number > 0) + writer.entry(f"  {writer.key(inner_key)}:", inner, 4)
        else:
            lines += writer.entry(f"{writer.key(key)}:", item, 2)
    return "\n".join(lines) + "\n"


class _Writer:
    """The lines of nested values, keys and strings written in one style (`plain` or not)."""

    def __init__(self, plain: bool) -> None:
        self.plain = plain

    def key(self, key: Any) -> str:
        if self.plain or not isinstance(key, str):
            return scalar(key)
        return key if _BARE_KEY.fullmatch(key) and key.lower() not in _RESERVED else _quote(key)

    def lines(self, value: Any, indent: int) -> list[str]:
        pad = " " * indent
        lines: list[str] = []
        if isinstance(value, Mapping):
            for key, item in value.items():
                lines += self.entry(f"{pad}{self.key(key)}:", item, indent + 2)
            return lines
        for item in value:
            if isinstance(item, Mapping) and item:
                inner = self.lines(item, indent + 2)
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines += inner[1:]
            else:
                lines += self.entry(f"{pad}-", item, indent + 2)
        return lines

    def entry(self, head: str, item: Any, indent: int) -> list[str]:
        """`head` (a key with its colon, or a list dash) followed by its value inline or as a nested block."""
        if isinstance(item, Mapping) or (isinstance(item, Sequence) and not isinstance(item, str)):
            if not item:
                return [f"{head} {'{}' if isinstance(item, Mapping) else '[]'}"]
            return [head, *self.lines(item, indent)]
        return [f"{head} {scalar(item, plain=self.plain)}"]
