"""Property-based tests of version parsing, formatting, precedence and bumping (no git involved)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gryt.errors import ConfigError
from gryt.versions import (
    LEVELS,
    PHASES,
    Pep440Version,
    Version,
    bump,
    bump_pep440,
    compare_versions,
    format_version,
    order_key,
    parse_pep440,
    parse_version,
    split_tag,
)

# No example database: nothing is written into the working directory, runs stay independent under xdist.
fast = settings(database=None, deadline=None, max_examples=150)

numbers = st.integers(min_value=0, max_value=10**30)
numeric_ids = numbers.map(str)
alnum_ids = st.from_regex(r"[0-9]*[A-Za-z-][0-9A-Za-z-]*", fullmatch=True).filter(lambda s: len(s) <= 12)
prerelease_ids = st.one_of(numeric_ids, alnum_ids)
build_ids = st.from_regex(r"[0-9A-Za-z-]{1,10}", fullmatch=True)

versions = st.builds(
    Version,
    numbers,
    numbers,
    numbers,
    st.lists(prerelease_ids, max_size=4).map(tuple),
    st.lists(build_ids, max_size=3).map(tuple),
)

# Strings built from semver's own characters hit the valid/invalid boundary far more often than random text.
near_semver = st.text(alphabet="0123456789.-+vrcalphbet\n ", max_size=24)
valid_texts = versions.map(format_version)
# One character inserted into a valid version: mostly invalid, sometimes still valid.
mutated = st.builds(
    lambda text, at, char: text[:at] + char + text[at:],
    valid_texts,
    st.integers(min_value=0, max_value=40),
    st.sampled_from(list("0019.-+aZ v\n\u0663\uff11")),
)
labels = st.one_of(st.none(), st.sampled_from(["rc", "alpha", "beta", "dev", "rc.2", "x-y"]), alnum_ids)


def assert_clean(error: ConfigError) -> None:
    message = str(error)
    assert message
    assert "\n" not in message


@fast
@given(st.one_of(st.text(max_size=40), near_semver, valid_texts, mutated))
@example("1.2.3")
@example("1.2.3-rc.1+build.5")
@example("1.2.3\n")
@example("\uff11.2.3")
@example("1.2.\u0663")
@example("01.2.3")
@example("1.2.3-01")
def test_parse_gives_a_round_tripping_version_or_a_clean_error(text: str) -> None:
    try:
        version = parse_version(text)
    except ConfigError as error:
        assert_clean(error)
        return
    assert format_version(version) == text
    assert parse_version(format_version(version)) == version
    assert text.isascii()


@fast
@given(st.one_of(st.text(max_size=40), near_semver.map(lambda s: "v" + s), mutated.map(lambda s: "v" + s)))
def test_split_tag_round_trips_or_fails_cleanly(tag: str) -> None:
    try:
        prefix, version = split_tag(tag)
    except ConfigError as error:
        assert_clean(error)
        return
    assert prefix in ("", "v")
    assert format_version(version, prefix) == tag


@fast
@given(versions)
def test_format_then_parse_is_identity(version: Version) -> None:
    text = format_version(version)
    assert parse_version(text) == version
    assert split_tag("v" + text) == ("v", version)
    assert str(version) == text


@fast
@given(versions, versions)
def test_comparison_is_a_consistent_total_order(a: Version, b: Version) -> None:
    result = compare_versions(a, b)
    assert result in (-1, 0, 1)
    assert compare_versions(b, a) == -result
    assert (a < b) == (result < 0)
    assert (a > b) == (result > 0)
    assert (a <= b) == (result <= 0)
    assert (a >= b) == (result >= 0)
    assert compare_versions(format_version(a, "v"), format_version(b)) == result
    if a.build != b.build:
        stripped = Version(a.major, a.minor, a.patch, a.prerelease, b.build)
        assert compare_versions(stripped, a) == 0


def test_precedence_matches_the_semver_specification() -> None:
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.1.0",
        "1.10.0",
        "2.0.0",
    ]
    parsed = [parse_version(v) for v in ordered]
    for lower, higher in itertools.pairwise(parsed):
        assert lower < higher
    assert sorted(reversed(parsed)) == parsed


@fast
@given(versions, st.sampled_from(LEVELS), labels)
@example(Version(1, 2, 4, ("rc", "2")), "prerelease", "rc")
@example(Version(1, 2, 4, ("rc",)), "prerelease", "rc")
@example(Version(1, 2, 4, ("beta", "3")), "prerelease", "rc")
@example(Version(1, 2, 4, ("beta", "3")), "prerelease", "alpha")
def test_bumping_is_monotonic(version: Version, level: str, label: str | None) -> None:
    try:
        new = bump(version, level, label)
    except ConfigError as error:
        assert_clean(error)
        # The only refusal: switching to a prerelease label that would sort lower.
        assert level == "prerelease" and label is not None and version.prerelease
        assert Version(version.major, version.minor, version.patch, (*label.split("."), "1")) <= version
        return
    assert new > version
    assert new.build == ()
    assert parse_version(format_version(new)) == new
    if label is not None:
        # The label, then a count: 1, or one more when `prerelease` continues the current label.
        current = version.prerelease
        numbered = bool(current) and current[-1].isdigit()
        base = current[:-1] if numbered else current
        continues = level == "prerelease" and base == tuple(label.split("."))
        count = int(current[-1]) + 1 if continues and numbered else 1
        assert format_version(new).endswith(f"-{label}.{count}")


@fast
@given(versions)
def test_prerelease_counts_up_and_patch_releases_it(version: Version) -> None:
    first = bump(version, "prerelease")
    second = bump(first, "prerelease")
    assert version < first < second
    assert bump(second, "patch") == second.core
    assert second.core > second


@fast
@given(st.text(max_size=20).filter(lambda s: s not in LEVELS), versions)
def test_unknown_levels_are_config_errors(level: str, version: Version) -> None:
    with pytest.raises(ConfigError) as caught:
        bump(version, level)
    assert_clean(caught.value)


@fast
@given(st.text(max_size=20), versions)
def test_any_label_gives_a_higher_version_or_a_clean_error(label: str, version: Version) -> None:
    try:
        new = bump(version, "minor", label)
    except ConfigError as error:
        assert_clean(error)
        return
    assert new > version
    assert new.prerelease[-1] == "1"


@fast
@given(
    st.one_of(st.integers(), st.booleans(), st.text(max_size=3)),
    st.lists(st.text(max_size=4), max_size=2).map(tuple),
)
def test_invalid_fields_are_config_errors(major: object, prerelease: tuple[str, ...]) -> None:
    try:
        version = Version(major, 0, 0, prerelease)  # type: ignore[arg-type]
    except ConfigError as error:
        assert_clean(error)
        return
    assert parse_version(format_version(version)) == version


def test_documented_examples() -> None:
    v123 = parse_version("1.2.3")
    assert format_version(bump(v123, "prerelease")) == "1.2.4-rc.1"
    assert format_version(bump(parse_version("1.2.4-rc.1"), "prerelease")) == "1.2.4-rc.2"
    assert format_version(bump(parse_version("1.2.4-rc.2"), "patch")) == "1.2.4"
    assert format_version(bump(parse_version("2.0.0-rc.1"), "major")) == "2.0.0"
    assert format_version(bump(parse_version("2.0.0-rc.1"), "minor")) == "2.0.0"
    assert format_version(bump(parse_version("2.1.0-rc.1"), "major")) == "3.0.0"
    assert format_version(bump(v123, "minor", "beta")) == "1.3.0-beta.1"
    assert format_version(bump(parse_version("1.2.4-beta.3"), "prerelease")) == "1.2.4-beta.4"
    assert format_version(bump(parse_version("1.2.4-beta.3"), "prerelease", "rc")) == "1.2.4-rc.1"
    assert format_version(bump(parse_version("1.2.4-rc"), "prerelease")) == "1.2.4-rc.1"
    assert format_version(bump(parse_version("1.2.3+build.9"), "patch")) == "1.2.4"
    with pytest.raises(ConfigError, match="would not be higher"):
        bump(parse_version("1.2.4-beta.3"), "prerelease", "alpha")


pep440_versions = st.builds(
    Pep440Version,
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=2, max_size=5).map(tuple),
    st.one_of(st.none(), st.tuples(st.sampled_from(PHASES), st.integers(min_value=0, max_value=99))),
    st.one_of(st.none(), st.integers(min_value=0, max_value=99)),
    st.one_of(st.none(), st.integers(min_value=0, max_value=99)),
)


@fast
@given(
    pep440_versions, st.sampled_from(LEVELS), st.one_of(st.none(), st.sampled_from(["a", "b", "rc", "beta"]))
)
def test_pep440_bumps_are_higher_and_round_trip(
    version: Pep440Version, level: str, label: str | None
) -> None:
    assert parse_pep440(str(version)) == version
    try:
        new = bump_pep440(version, level, label)
    except ConfigError as exc:
        assert level == "prerelease" and "would not be higher" in str(exc)
        return
    assert order_key(new) > order_key(version), (str(version), level, label, str(new))
    assert parse_pep440(str(new)) == new
