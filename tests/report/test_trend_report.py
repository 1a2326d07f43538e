"""`gryt report --trend PIPELINE`: per-step durations and failure rate over the last N runs, rendered by
headless Chromium, counting only that pipeline's runs and only the last N."""

from __future__ import annotations

from pathlib import Path

import pytest
from _chromium import Chromium
from _gryt import run_gryt

from .conftest import StepSpec, elements, record_run, text_of, words_of


def _history(db: Path) -> None:
    """Eight runs of `ci` (oldest first): `test/unit` fails in runs 3 and 6 and slows down; `lint/ruff`
    always passes; plus a run of another pipeline that must not count."""
    db.parent.mkdir(parents=True)
    for index in range(8):
        unit: StepSpec = ("unit", "error" if index in (2, 5) else "success", 1.0 + index * 0.5, {})
        runners: dict[str, list[StepSpec]] = {"lint": [("ruff", "success", 0.3, {})], "test": [unit]}
        if index == 7:
            runners["test"].append(("e2e", "skipped", 0.0, {}))
        record_run(db, f"2026-run-{index}", runners, status="error" if index in (2, 5) else "success")
    record_run(db, "2026-other", {"lint": [("ruff", "error", 9.0, {})]}, name="nightly", status="error")


@pytest.fixture(scope="module")
def trend_dom(tmp_path_factory: pytest.TempPathFactory, chromium: Chromium) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("trend")
    _history(root / ".gryt" / "gryt.db")
    done = run_gryt("report", "--trend", "ci", "--last", "5", cwd=root)
    assert done.code == 0, done.stderr
    assert done.stdout.strip() == ".gryt/reports/trend-ci.html"
    return root, chromium.dump_dom(root / done.stdout.strip())


def test_only_the_last_n_runs_of_the_pipeline_count(trend_dom: tuple[Path, str]) -> None:
    found = elements(trend_dom[1])
    runs = [e.attrs["data-run"] for e in found if e.tag == "g" and "run" in e.classes]
    assert runs == [f"2026-run-{i}" for i in range(3, 8)]  # oldest first; the nightly run is not there
    statuses = [e.attrs["data-status"] for e in found if e.tag == "g" and "run" in e.classes]
    assert statuses == ["success", "success", "error", "success", "success"]


def test_failure_rate_per_step(trend_dom: tuple[Path, str]) -> None:
    found = elements(trend_dom[1])
    rates = {e.attrs["data-key"]: e.attrs["data-rate"] for e in found if "failrate" in e.classes}
    assert rates == {"test/unit": "0.200"}  # 1 failure (run 6) in the 5 runs where it ran
    assert "1/5" in "".join(text_of(e) for e in found if "failrate" in e.classes)


def test_every_step_has_a_line_in_the_table(trend_dom: tuple[Path, str]) -> None:
    found = elements(trend_dom[1])
    rows = {words_of(e) for e in found if e.tag == "tr"}
    unit = next(row for row in rows if row.startswith("test/unit"))
    # runs 4..8: 2.5, 3.0, 3.5, 4.0, 4.5 seconds -> median 3.5, newest 4.5 (+29%), range 2.5 - 4.5
    assert unit == "test/unit 3.5s 4.5s +29% 2.5s \u2013 4.5s \u2717 1/5 20%"
    assert any(row.startswith("lint/ruff") and row.endswith("0/5 0%") for row in rows)
    assert any(row.startswith("test/e2e") and row.endswith("0/0 -") for row in rows)
    series = {e.attrs["data-key"] for e in found if e.tag == "g" and "series" in e.classes}
    assert series == {"test/unit", "lint/ruff"}
    assert len([e for e in found if e.tag == "svg" and "spark" in e.classes]) == 3


def test_a_pipeline_without_runs_is_one_line(tmp_path: Path) -> None:
    _history(tmp_path / ".gryt" / "gryt.db")
    done = run_gryt("report", "--trend", "nope", cwd=tmp_path)
    assert done.code == 2
    assert done.stderr.strip() == "gryt: error: no runs of pipeline 'nope'; see `gryt runs list`"
    assert not (tmp_path / ".gryt" / "reports").exists()
