"""Fixtures for the `gryt report` tests: the browser, runs recorded directly into a SQLite history (for
shapes a pipeline cannot produce quickly: 1,000 steps, `cached`, unknown statuses, many runs), and the
rendered DOM as elements to assert on; `_gryt.run_gryt` runs the real `gryt`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from _chromium import Chromium, chromium_in

from gryt.data import SqliteData
from gryt.history import Recorder


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Chromium:
    return chromium_in(tmp_path_factory.mktemp("chromium"))


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class _Collector(HTMLParser):
    """Every element with its attributes and the text directly or indirectly inside it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if tag not in ("meta", "br", "rect", "circle", "line", "path", "polyline"):
            self.open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index].tag == tag:
                del self.open[index:]
                break

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element.text.append(data)


def elements(dom: str) -> list[Element]:
    collector = _Collector()
    collector.feed(dom)
    return collector.elements


def text_of(element: Element) -> str:
    return "".join(element.text)


def words_of(element: Element) -> str:
    """The element's text nodes joined by single spaces (table cells stay apart)."""
    return " ".join(" ".join(element.text).split())


StepSpec = tuple[str, str, float, Mapping[str, Any]]
"""(step id, status, duration, extra result keys)."""


def record_run(
    db: Path,
    run_id: str,
    runners: Mapping[str, Sequence[StepSpec]],
    *,
    name: str = "ci",
    status: str = "success",
    needs: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Write one finished run into the SQLite history at `db` through the real recorder."""
    data = SqliteData(db)
    try:
        recorder = Recorder(data)
        recorder.run_started(run_id, name, {"name": name})
        for runner, steps in runners.items():
            recorder.runner_started(run_id, runner, runner, (needs or {}).get(runner, ()))
            for step_id, step_status, duration, extra in steps:
                result = {"status": step_status, "duration": duration, "stdout": "", "stderr": "", **extra}
                recorder.step_finished(run_id, runner, step_id, "command", result)
            worst = "error" if any(s[1] == "error" for s in steps) else "success"
            recorder.runner_finished(run_id, runner, worst, duration=sum(s[2] for s in steps))  # type: ignore[arg-type]
        recorder.run_finished(run_id, status, duration=1.0)  # type: ignore[arg-type]
    finally:
        data.close()
