"""A 1,000-step run (10 runners of 100 steps) renders completely: every lane and every step is in the DOM
Chromium builds. How fast it renders is measured by bench/report.py, not asserted here."""

from __future__ import annotations

from pathlib import Path

from _chromium import Chromium
from _gryt import run_gryt

from .conftest import StepSpec, elements, record_run

RUNNERS, STEPS = 10, 100


def test_a_thousand_step_run_is_complete(tmp_path: Path, chromium: Chromium) -> None:
    db = tmp_path / ".gryt" / "gryt.db"
    db.parent.mkdir()
    runners: dict[str, list[StepSpec]] = {
        f"runner-{r}": [
            (f"step-{s}", "error" if (r, s) == (3, 50) else "success", 0.01 * s, {"stderr": f"out {r}/{s}"})
            for s in range(STEPS)
        ]
        for r in range(RUNNERS)
    }
    record_run(db, "big", runners, status="error")
    done = run_gryt("report", "big", cwd=tmp_path)
    assert done.code == 0, done.stderr
    found = elements(chromium.dump_dom(tmp_path / done.stdout.strip()))
    steps = {
        e.attrs["data-key"]: e.attrs["data-status"] for e in found if e.tag == "g" and "step" in e.classes
    }
    assert len(steps) == RUNNERS * STEPS
    assert steps["runner-3/step-50"] == "error"
    assert sum(status == "success" for status in steps.values()) == RUNNERS * STEPS - 1
    lanes = [e.attrs["data-lane"] for e in found if e.tag == "g" and "lane" in e.classes]
    assert sorted(lanes) == [f"runner-{r}" for r in range(RUNNERS)]
    failures = [e.attrs["data-key"] for e in found if "failure" in e.classes]
    assert failures == ["runner-3/step-50"]
