"""`gryt.plugins.discovery` finds what `importlib.metadata` finds, and the start-up shortcuts decide as before."""

from __future__ import annotations

import email
import importlib.metadata
import inspect
import os
import re
import sys
import textwrap
import types
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from gryt import plugins
from gryt.plugins import checks, discovery

GROUPS = ["gryt", "gryt.commands", "console_scripts"]


def write_dist(
    root: Path,
    folder: str,
    metadata: str | None,
    entry_points: str | None = None,
    files: dict[str, str] | None = None,
) -> None:
    info = root / folder
    info.mkdir(parents=True)
    if metadata is not None:
        (info / "METADATA").write_text(textwrap.dedent(metadata).lstrip())
    if entry_points is not None:
        (info / "entry_points.txt").write_text(textwrap.dedent(entry_points).lstrip())
    for name, text in (files or {}).items():
        (info / name).write_text(text)


def field(dist: importlib.metadata.Distribution, name: str) -> str | None:
    """A METADATA field or None, read without the DeprecationWarning `dist.metadata[name]` gives on 3.12+."""
    values = dist.metadata.get_all(name)
    return str(values[0]) if values else None


def reference_scan(groups: list[str], path: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    """What `importlib.metadata` says: first distribution of each name wins, entry points of `groups` of
    those with a Name and a Version."""
    found: dict[str, list[tuple[Any, ...]]] = {g: [] for g in groups}
    seen = set()
    for dist in importlib.metadata.distributions(path=path):
        name = getattr(dist, "_normalized_name", None) or field(dist, "Name")
        if name is None:
            continue
        key = discovery.canonical_name(name)
        if key in seen:
            continue
        seen.add(key)
        eps = [ep for ep in dist.entry_points if ep.group in found]
        if not eps or not field(dist, "Name") or not field(dist, "Version"):
            continue
        for ep in eps:
            found[ep.group].append(describe(ep))
    return {g: sorted(v) for g, v in found.items()}


def describe(ep: Any) -> tuple[Any, ...]:
    dist = ep.dist
    return (ep.name, ep.value, dist.name, dist.version, dist.requires, str(dist.locate_file("x")))


@pytest.mark.filterwarnings("error::DeprecationWarning")
def test_scan_finds_what_importlib_metadata_finds(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_dist(
        first,
        "gryt_alpha-1.0.dist-info",
        """
        Metadata-Version: 2.1
        Name: gryt-alpha
        Version: 1.0
        Summary: folded
          summary line
        Requires-Dist: gryt-core>=0.1
        Requires-Dist: requests ; extra == "http"

        Body text: not a header
        """,
        """
        # a comment
        stray = before.any.section

        [gryt]
        alpha = gryt_alpha.plugin
          spaced   =   gryt_alpha.other : thing [extra]
        [gryt.commands]
        alpha-cmd = gryt_alpha.cli:app
        [console_scripts]
        alpha = gryt_alpha.cli:main
        """,
    )
    write_dist(
        second,
        "Gryt.Alpha-2.0.dist-info",
        "Name: Gryt.Alpha\nVersion: 2.0\n",
        "[gryt]\nshadowed = nowhere\n",
    )
    write_dist(
        second,
        "gryt_beta-0.3.egg-info",
        "Metadata-Version: 1.0\nName: gryt_beta\nVersion: 0.3\n",
        "[gryt]\nbeta = gryt_beta\n",
        {"requires.txt": "gryt-core>=0.1\n\n[docs]\nsphinx\n"},
    )
    write_dist(
        second,
        "folded-1.0.dist-info",
        "Name: folded\nVersion: 1.0\nRequires-Dist: gryt-core\n  >=0.1\n",
        "[gryt]\nfolded = folded\n",
    )
    write_dist(second, "nameless-1.0.dist-info", "Version: 1.0\n", "[gryt]\nnameless = x\n")
    write_dist(second, "versionless-1.0.dist-info", "Name: versionless\n", "[gryt]\nversionless = x\n")
    write_dist(second, "bare-1.0.dist-info", None, "[gryt]\nbare = x\n")
    write_dist(
        second, "UPPER-1.0.DIST-INFO", "Name: upper\nVersion: 1.0\n", "[gryt.commands]\nup = upper:app\n"
    )
    write_dist(
        second,
        "pkginfo-1.0.dist-info",
        None,
        "[gryt]\npkginfo = p\n",
        {"PKG-INFO": "Name: pkginfo\nVersion: 1\n"},
    )
    with zipfile.ZipFile(tmp_path / "zipped.zip", "w") as archive:
        archive.writestr("zipped-1.0.dist-info/METADATA", "Name: zipped\nVersion: 1.0\n")
        archive.writestr("zipped-1.0.dist-info/entry_points.txt", "[gryt]\nzipped = zipped\n")
    path = [str(first), str(second), str(tmp_path / "zipped.zip"), str(tmp_path / "missing")]

    found = discovery.scan(GROUPS, path)
    assert {g: sorted(describe(ep) for ep in eps) for g, eps in found.items()} == reference_scan(GROUPS, path)
    names = [ep.name for ep in found["gryt"]]
    assert names == sorted(names)
    assert not {"shadowed", "nameless", "versionless", "bare"} & set(names)
    assert {"alpha", "spaced", "beta", "folded", "pkginfo", "zipped"} <= set(names)


@pytest.mark.filterwarnings("error::DeprecationWarning")
def test_scan_asks_a_custom_distribution_finder(tmp_path: Path, monkeypatch: Any) -> None:
    write_dist(tmp_path, "custom-1.0.dist-info", "Name: custom\nVersion: 1.0\n", "[gryt]\ncustom = custom\n")
    write_dist(tmp_path, "anonymous-1.0.dist-info", "Version: 1.0\n", "[gryt]\nanonymous = anonymous\n")

    class Finder:
        @staticmethod
        def find_spec(*args: Any) -> None:
            return None

        @staticmethod
        def find_distributions(context: Any = None) -> list[Any]:
            return [
                importlib.metadata.Distribution.at(tmp_path / name) for name in sorted(os.listdir(tmp_path))
            ]

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
    found = discovery.scan(["gryt"], [str(tmp_path / "empty")])
    assert [(ep.name, ep.dist.name, ep.dist.version) for ep in found["gryt"]] == [("custom", "custom", "1.0")]


def test_entry_point_load_follows_the_value(tmp_path: Path) -> None:
    dist = discovery.Distribution(tmp_path / "x-1.dist-info")
    assert discovery.EntryPoint("a", "os.path", "g", dist).load() is sys.modules["os.path"]
    assert discovery.EntryPoint("b", "os.path : join", "g", dist).load() is sys.modules["os.path"].join
    assert discovery.EntryPoint("c", "email.message:Message.get_all [x]", "g", dist).load() is (
        email.message.Message.get_all
    )


HEADER_LINES = st.one_of(
    st.sampled_from(["Name", "Version", "Requires-Dist", "Summary", "name", "VERSION", "Name ", ""]).flatmap(
        lambda field: st.text(" \tab0.-;=<>\"'", max_size=8).map(lambda value: f"{field}:{value}")
    ),
    st.text(" \tx", min_size=1, max_size=4),
    st.sampled_from(["", "From someone", "no colon here", ":starts with colon", "  folded"]),
)


OUT_OF_THE_ORDINARY = re.compile(
    r"^From |^(?:name|version|requires-dist):.*\n[ \t]", re.MULTILINE | re.IGNORECASE
)


@settings(max_examples=300, deadline=None)
@given(st.lists(HEADER_LINES, max_size=8), st.sampled_from(["", "\n", "\n\nbody: here\n"]))
def test_simple_header_reading_agrees_with_the_email_parser(lines: list[str], tail: str) -> None:
    text = "\n".join(lines) + tail
    found = discovery._simple_headers(text)
    if found is None:
        # None (the email parser decides) is only for the out-of-the-ordinary: a `From ` line, a
        # carriage return, or a folded Name, Version or Requires-Dist value.
        assert "\r" in text or OUT_OF_THE_ORDINARY.search(text), f"{text!r} is plain enough to read"
        return
    message = email.message_from_string(text)
    for field in ("name", "version", "requires-dist"):
        assert found.get(field) == message.get_all(field)


SPECIFIERS = st.one_of(
    st.tuples(
        st.sampled_from(["<", "<=", "==", "!=", ">=", ">", "~=", "==="]),
        st.from_regex(r"\d{1,2}(\.\d{1,2}){0,3}", fullmatch=True),
    ).map("".join),
    st.sampled_from(["==0.1.*", ">=0.1rc1", "<1.0.post1", ">0.1+local", "@junk"]),
)
REQUIREMENTS = st.one_of(
    st.tuples(
        st.sampled_from(["gryt-core", "Gryt_Core", "gryt.core", "gryt-core[x]", "other", "gryt-core-extra"]),
        st.lists(SPECIFIERS, max_size=3).map(",".join),
        st.sampled_from(["", " ; python_version >= '3'", " ; extra == 'x'", ";;"]),
    ).map("".join),
    st.sampled_from(["gryt-core (>=0.1)", "  gryt-core>=0.1", "gryt-core >= 0.1 , < 9", "", "!!"]),
)


def packaging_incompatibility(requires: list[str], running_text: str) -> str | None:
    """The check as it was before the fast path: every requirement through `packaging`."""
    try:
        running = Version(running_text)
    except InvalidVersion:
        return None
    for text in requires:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if discovery.canonical_name(req.name) != "gryt-core":
            continue
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        if not req.specifier.contains(running, prereleases=True):
            return f"requires gryt-core{req.specifier} (running {running})"
    return None


@settings(max_examples=400, deadline=None)
@given(
    st.lists(REQUIREMENTS, max_size=3),
    st.one_of(
        st.from_regex(r"\d{1,2}(\.\d{1,2}){0,3}", fullmatch=True), st.sampled_from(["0.2.0rc1", "1!0.1"])
    ),
)
def test_incompatibility_decides_as_packaging_does(requires: list[str], running: str) -> None:
    dist = types.SimpleNamespace(requires=requires)
    with mock.patch.object(checks, "core_version", lambda: running):
        assert checks.incompatibility(dist) == packaging_incompatibility(requires, running)  # type: ignore[arg-type]


def test_module_members_are_read_as_getattr_static_reads_them() -> None:
    odd = types.ModuleType("odd")
    odd.__annotations__ = {"x": int}
    odd.value = 1  # type: ignore[attr-defined]
    custom_dir = types.ModuleType("custom_dir")
    custom_dir.__dir__ = lambda: ["shown"]  # type: ignore[method-assign]
    custom_dir.shown = 2  # type: ignore[attr-defined]
    custom_dir.hidden = 3  # type: ignore[attr-defined]

    class Instance:
        gryt_register_steps = staticmethod(lambda register: None)

        @property
        def prop(self) -> int:
            raise AssertionError("never evaluated")

    candidates = [odd, custom_dir, Instance(), plugins, checks, discovery, re, email, zipfile]
    for obj in candidates:
        expected = []
        for attr in sorted(dir(obj)):
            try:
                expected.append((attr, inspect.getattr_static(obj, attr)))
            except AttributeError:
                continue
        got = list(checks._static_members(obj))
        assert [a for a, _ in got] == [a for a, _ in expected], obj
        assert all(x is y for (_, x), (_, y) in zip(got, expected, strict=True)), obj
