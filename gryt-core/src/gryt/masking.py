"""Secret masking: every registered secret value is replaced by `***` wherever output is shown or stored."""

from __future__ import annotations

import re
import threading
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 4
"""Values shorter than this are not masked: masking `ab` everywhere would only add noise."""


class Masker:
    """A thread-safe set of secret values with helpers to mask text, bytes and nested results."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for value in secrets or []:
            self.add(value)

    def add(self, value: str | None) -> None:
        """Register `value` (and each of its lines, for multi-line secrets) as secret."""
        if not value:
            return
        parts = {value, *(line.strip() for line in value.splitlines())}
        with self._lock:
            new = {p for p in parts if len(p) >= MIN_SECRET_LENGTH} - self._values
            if not new:
                return
            self._values |= new
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def __bool__(self) -> bool:
        return bool(self._values)

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def mask(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern is not None and text else text

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
        """The compiled alternation of all secrets (longest first), or None: for streaming maskers."""
        return self._pattern

    @property
    def longest(self) -> int:
        """Length of the longest secret: streaming maskers keep this many characters back."""
        return max((len(v) for v in self._values), default=0)
