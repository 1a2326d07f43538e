"""Stored run times render as local times in `gryt runs`: Python 3.10's `fromisoformat` rejects a `Z` suffix."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from gryt.cli.runs import short_time
from gryt.history import now_iso


def test_short_time_renders_a_stored_utc_stamp_in_local_time():
    expected = datetime(2026, 11, 27, 9, 6, 15, tzinfo=timezone.utc).astimezone()
    assert short_time("2026-11-27T09:06:15.123Z") == expected.strftime("%Y-%m-%d %H:%M:%S")


def test_short_time_parses_what_history_writes():
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", short_time(now_iso()))


def test_short_time_keeps_what_it_cannot_parse():
    assert short_time("yesterday") == "yesterday"
    assert short_time(None) == "-"
