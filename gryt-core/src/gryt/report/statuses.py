"""How each status looks in a report: a CSS class (its colour), a glyph (its shape) and a word.

Colour is never the only cue: every bar and cell also carries the glyph and the word. A status this gryt
does not know (e.g. one written by a newer gryt) is shown with its own word, in neutral grey.
"""

from __future__ import annotations

from typing import NamedTuple

from gryt.status import AUTH_FAILED, CACHED, ERROR, INTERRUPTED, INVALID_ENV, RUNNING, SKIPPED, SUCCESS


class Look(NamedTuple):
    """The CSS class suffix (`s-<css>`), the glyph and the word of one status."""

    css: str
    glyph: str
    word: str


ABANDONED = "abandoned"
"""A `running` run whose process is gone (the history's `abandoned`)."""

_LOOKS = {
    SUCCESS: Look("ok", "\u2713", SUCCESS),
    CACHED: Look("cached", "\u21bb", CACHED),
    ERROR: Look("err", "\u2717", ERROR),
    INVALID_ENV: Look("err", "\u2717", INVALID_ENV),
    AUTH_FAILED: Look("err", "\u2717", AUTH_FAILED),
    SKIPPED: Look("skip", "\u2013", SKIPPED),
    INTERRUPTED: Look("intr", "\u25a0", INTERRUPTED),
    RUNNING: Look("run", "\u2026", RUNNING),
    ABANDONED: Look("intr", "\u2620", ABANDONED),
}
_ALLOWED = Look("allowed", "!", "error (allowed)")

FAILED = frozenset({ERROR, INVALID_ENV, AUTH_FAILED, INTERRUPTED})
"""Statuses whose output tail the run report shows."""


def look(status: str | None, *, allowed: bool = False) -> Look:
    """The look of `status`; an allowed failure has its own; an unknown status keeps its word."""
    if allowed and status == ERROR:
        return _ALLOWED
    known = _LOOKS.get(status or "")
    return known if known is not None else Look("other", "?", status or "unknown")


LEGEND = (
    _LOOKS[SUCCESS],
    _LOOKS[CACHED],
    _LOOKS[ERROR],
    _ALLOWED,
    _LOOKS[SKIPPED],
    _LOOKS[INTERRUPTED],
    _LOOKS[RUNNING],
)
"""The statuses the legend explains, in this order."""
