"""`gryt.yaml_text`: whatever it writes, a YAML parser reads back as the same data, in either style (the
plain one of `gryt ci github`, the quoted one of `gryt ci gitlab`)."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gryt.yaml_text import dump


@settings(max_examples=150, deadline=None)
@given(st.text(), st.lists(st.text(max_size=5), max_size=3))
def test_any_string_reads_back_as_written(text: str, items: list[str]) -> None:
    document = {"key": text, "list": items, text or "k": {"nested": [text, {"a": text}]}, "on": True}
    assert yaml.safe_load(dump(document)) == document


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text())
keys = st.text(min_size=1)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(keys, values, min_size=1, max_size=5), st.lists(st.text(), max_size=3))
def test_yaml_writer_round_trips_through_a_yaml_parser(
    document: dict[str, object], header: list[str]
) -> None:
    assert yaml.safe_load(dump(document, header=header, plain=False)) == document
    assert yaml.safe_load(dump(document, header=header)) == document
