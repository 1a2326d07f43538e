"""Secret masking: every registered secret value is replaced by `***` wherever output is shown or stored.

Each secret is registered in several forms, because a secret reaches output in more than its own
spelling: each of its lines; the text its bytes become when they are not valid UTF-8 (a value from
`os.environ` holds such bytes as surrogate escapes, and output is decoded with U+FFFD replacements);
and, for values of at least `ENCODED_MIN_LENGTH` characters, its base64 (standard and URL-safe, at each
of the three byte alignments, so `base64("user:" + token)` is caught too) and URL-encoded forms. Where
matches overlap (`abcdef` and `defghi` in `abcdefghi`), the union of their spans is masked. UTF-16 and
other encodings are not masked.
"""

from __future__ import annotations

import binascii
import re
import threading
import urllib.parse
from collections.abc import Iterable
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 4
"""Values shorter than this are not masked: masking `ab` everywhere would only add noise."""
ENCODED_MIN_LENGTH = 8
"""Secrets at least this long are also masked in their base64 and URL-encoded forms (shorter ones would
make encoded fragments of a few characters that match ordinary text)."""


def _raw(value: str) -> bytes:
    """The bytes of `value`, surrogate escapes (how `os.environ` holds bytes that are not UTF-8) restored."""
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace")


def _base64_forms(raw: bytes) -> set[str]:
    """The base64 text that encodes `raw` wherever it sits in a longer byte string: for each of the three
    alignments, the characters that depend on `raw` alone (plus the whole padded encoding of `raw`).
    `binascii` is what `base64.b64encode` calls; the `base64` module would add `struct` to every start-up."""
    forms = {binascii.b2a_base64(raw, newline=False).decode("ascii")}
    for offset in range(3):
        encoded = binascii.b2a_base64(b"\0" * offset + raw, newline=False).decode("ascii").rstrip("=")
        if (offset + len(raw)) % 3:
            encoded = encoded[:-1]  # the last character also holds bits of whatever follows
        forms.add(encoded[(offset * 4 + 2) // 3 :])  # the first ones hold bits of what precedes
    return forms | {form.replace("+", "-").replace("/", "_") for form in forms}


def _forms(value: str) -> set[str]:
    """Every spelling of `value` that is masked (see the module docstring)."""
    parts = {value, *(line.strip() for line in value.splitlines())}
    forms = {p for p in parts if len(p) >= MIN_SECRET_LENGTH}
    for part in list(forms):
        raw = _raw(part)
        forms.add(raw.decode("utf-8", "replace"))  # how its bytes look in decoded output
        if len(part) >= ENCODED_MIN_LENGTH:
            forms |= _base64_forms(raw)
            forms.add(urllib.parse.quote(raw, safe=""))
            forms.add(urllib.parse.quote_plus(raw, safe=""))
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


class Masker:
    """A thread-safe set of secret values with helpers to mask text, bytes and nested results."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._longest = 0
        for value in secrets or []:
            self.add(value)

    def add(self, value: str | None) -> None:
        """Register `value` (with its lines and encoded forms, see the module docstring) as secret."""
        if not value:
            return
        with self._lock:
            if value in self._secrets:
                return
            self._secrets.add(value)
            new = _forms(value) - self._values
            if not new:
                return
            self._values |= new
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
            self._longest = len(ordered[0])

    def with_secrets(self, values: Iterable[str]) -> Masker:
        """A new masker with this one's secrets and `values`, matched together (overlaps as a union)."""
        with self._lock:
            own = list(self._secrets)
        return Masker([*own, *values])

    def __bool__(self) -> bool:
        return bool(self._values)

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def spans(self, text: str) -> list[tuple[int, int]]:
        """The (start, end) ranges of `text` covered by secrets, overlapping matches merged, in order."""
        pattern = self._pattern
        merged: list[tuple[int, int]] = []
        if pattern is None or not text:
            return merged
        match = pattern.search(text)
        while match is not None:
            start, end = match.span()
            # The next match may start inside this span (an overlapping secret): the union is masked.
            following = pattern.search(text, start + 1)
            while following is not None and following.start() < end:
                end = max(end, following.end())
                following = pattern.search(text, following.start() + 1)
            merged.append((start, end))
            match = following
        return merged

    def mask(self, text: str) -> str:
        """`text` with every secret span replaced by `***`."""
        spans = self.spans(text)
        if not spans:
            return text
        parts: list[str] = []
        pos = 0
        for start, end in spans:
            parts.append(text[pos:start])
            parts.append(MASK)
            pos = end
        parts.append(text[pos:])
        return "".join(parts)

    def mask_obj(self, obj: Any) -> Any:
        """Mask every string inside dicts, lists and tuples (keys included); other values pass through."""
        if self._pattern is None:
            return obj
        if isinstance(obj, str):
            return self.mask(obj)
        if isinstance(obj, dict):
            return {self.mask_obj(k): self.mask_obj(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return type(obj)(self.mask_obj(v) for v in obj)
        return obj

    @property
    def pattern(self) -> re.Pattern[str] | None:
        """The compiled matcher of all secret forms, or None while there is none; a new object whenever
        a secret is added (so a caller can tell that secrets were declared since it last looked)."""
        return self._pattern

    @property
    def longest(self) -> int:
        """Length of the longest secret form: streaming maskers keep this many characters back."""
        return self._longest


def shorten(text: str, limit: int, masker: Masker | None = None) -> str:
    """`text` cut to about `limit` characters for a message: masked first (with `masker`), then cut.

    A cut never leaves the start of a secret behind: when it falls inside a run of characters that
    tokens are made of (letters, digits, `-_.+/=~%:@`), that whole run is dropped too, since it may be
    a secret gryt does not know, only its end having been cut off.
    """
    if masker is not None:
        text = masker.mask(text)
    if len(text) <= limit:
        return text
    head = text[: max(limit - 3, 0)]
    if _TOKEN_CHAR.match(text[len(head) : len(head) + 1]):
        head = _TOKEN_TAIL.sub("", head)
    return head + "..."


_TOKEN_CHAR = re.compile(r"[\w\-.+/=~%:@]")
_TOKEN_TAIL = re.compile(r"[\w\-.+/=~%:@]+\Z")
