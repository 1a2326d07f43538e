"""The axis and the numbers the report's charts print."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from gryt.report.svg import esc, seconds, tick_label, ticks


@given(st.floats(min_value=0, max_value=10 * 24 * 3600, allow_nan=False))
def test_ticks_cover_the_span_in_round_steps(span: float) -> None:
    end, marks = ticks(span)
    assert end >= span
    assert marks[0] == 0 and marks[-1] == end
    assert 2 <= len(marks) <= 13
    steps = {round(b - a, 9) for a, b in pairwise(marks)}
    assert len(steps) == 1
    if end >= 600:
        assert steps.pop() % 60 == 0  # whole minutes on long runs


def test_numbers_read_like_durations() -> None:
    assert [seconds(v) for v in (None, 0.25, 12.34, 75, 4000)] == ["-", "0.25s", "12.3s", "1m15s", "1h06m"]
    assert [tick_label(v) for v in (0, 0.5, 30, 120, 90)] == ["0", "0.5s", "30s", "2m", "1m30s"]


def test_escaping_covers_attributes() -> None:
    assert esc('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
