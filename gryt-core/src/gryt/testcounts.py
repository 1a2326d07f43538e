"""Test counts in a step result: the `tests` key any step type may set (the `pytest` step of gryt-python
does), which gryt shows in the run summary ("412 passed, 1 failed"), in a failed step's tail (the failing
test ids), in `gryt runs show`, and nests in `--junit` output as the step's own test cases.

    result["tests"] = {
        "passed": 412, "failed": 1, "skipped": 3, "errors": 0,
        "failing": ["tests/test_api.py::test_login"],
        "cases": [{"id": "tests/test_api.py::test_login", "status": "failed", "duration": 0.12,
                   "message": "assert 401 == 200"}, ...],
    }

Every key is optional; counts are non-negative integers, a case's `status` is one of `CASE_STATUSES`.
Readers go through `tally_of`, which ignores what does not fit, so a malformed `tests` never breaks a summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

COUNTS = ("passed", "failed", "errors", "skipped")
CASE_STATUSES = ("passed", "failed", "error", "skipped")
FAILING_SHOWN = 20
"""Failing test ids listed in a failed step's tail; the rest are counted."""


class CaseOutcome(TypedDict, total=False):
    """One test case: its id, `status` (passed, failed, error, skipped), seconds and a one-line message."""

    id: str
    status: str
    duration: float
    message: str


class Tally(TypedDict, total=False):
    """The `tests` key of a step result."""

    passed: int
    failed: int
    errors: int
    skipped: int
    failing: list[str]
    cases: list[CaseOutcome]


def tally_of(result: Mapping[str, Any] | None) -> Tally | None:
    """The well-formed part of `result["tests"]`, or None when the step reported no tests."""
    raw = result.get("tests") if isinstance(result, Mapping) else None
    if not isinstance(raw, Mapping):
        return None
    tally: Tally = {}
    for key in COUNTS:
        value = raw.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            tally[key] = value  # type: ignore[literal-required]
    failing = raw.get("failing")
    if isinstance(failing, list):
        tally["failing"] = [str(item) for item in failing]
    cases = raw.get("cases")
    if isinstance(cases, list):
        tally["cases"] = [_case(case) for case in cases if isinstance(case, Mapping) and case.get("id")]
    return tally


def _case(raw: Mapping[str, Any]) -> CaseOutcome:
    case: CaseOutcome = {"id": str(raw["id"])}
    status = raw.get("status")
    case["status"] = status if status in CASE_STATUSES else "error"
    duration = raw.get("duration")
    if isinstance(duration, (int, float)) and not isinstance(duration, bool):
        case["duration"] = float(duration)
    if raw.get("message"):
        case["message"] = str(raw["message"])
    return case


def describe(tally: Tally) -> str:
    """ "412 passed, 1 failed, 3 skipped": the non-zero counts, or "no tests"."""
    parts = [f"{tally.get(key, 0)} {key}" for key in COUNTS if tally.get(key, 0)]
    return ", ".join(parts) if parts else "no tests"


def failing_lines(tally: Tally, limit: int = FAILING_SHOWN) -> list[str]:
    """`failing tests:` and the ids (at most `limit`, then how many more), or nothing when none failed."""
    failing = tally.get("failing") or []
    if not failing:
        return []
    lines = ["failing tests:", *(f"  {test_id}" for test_id in failing[:limit])]
    if len(failing) > limit:
        lines.append(f"  ... and {len(failing) - limit} more")
    return lines


def counts_suffix(result: Mapping[str, Any] | None) -> str:
    """` (412 passed, 1 failed)` for a step that reported tests, else ""."""
    tally = tally_of(result)
    return f" ({describe(tally)})" if tally is not None else ""


def failing_of(result: Mapping[str, Any] | None) -> list[str]:
    """`failing_lines` of a step result (nothing when it reported no failing tests)."""
    tally = tally_of(result)
    return failing_lines(tally) if tally is not None else []
