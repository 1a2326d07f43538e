"""Reading the JUnit XML report pytest writes (`--junitxml`, `junit_family=xunit1`) into gryt's `tests`
convention (`gryt.testcounts`): counts, failing test ids as pytest names them, and every case."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gryt.testcounts import CaseOutcome, Tally

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

MAX_CASES = 5000
"""Cases kept in a step result (and so in the database); the counts always cover every test."""
MESSAGE_LIMIT = 300


class ReportError(Exception):
    """The report is missing or not JUnit XML."""


def test_id(case: ET.Element) -> str:
    """pytest's id of a case, `tests/test_api.py::TestLogin::test_ok`, rebuilt from its file and classname
    (xunit1 reports have `file`); a case without a file (a collection error) keeps its classname."""
    name = case.get("name", "?")
    classname = case.get("classname", "")
    path = case.get("file")
    if not path:
        return f"{classname}::{name}" if classname else name
    module = path.removesuffix(".py").replace("/", ".").replace("\\", ".")
    inner = classname[len(module) :].lstrip(".") if classname.startswith(module) else ""
    return "::".join(part for part in (path, *inner.split("."), name) if part)


def _message(element: ET.Element) -> str:
    text = element.get("message") or (element.text or "").strip()
    first = text.splitlines()[0] if text else ""
    return first[:MESSAGE_LIMIT]


def read_report(path: Path) -> Tally:
    """The counts, failing ids and cases of a pytest JUnit report."""
    from xml.etree import ElementTree  # pyexpat: only for a run that reads a report

    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError) as exc:
        raise ReportError(f"cannot read the JUnit report {path.name}: {exc}") from None
    tally: Tally = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0, "failing": [], "cases": []}
    failing: list[str] = []
    cases: list[CaseOutcome] = []
    for element in root.iter("testcase"):
        case_id = test_id(element)
        status, message = "passed", ""
        for child, name in (("error", "error"), ("failure", "failed"), ("skipped", "skipped")):
            found = element.find(child)
            if found is not None:
                status, message = name, _message(found)
                break
        key = {"passed": "passed", "failed": "failed", "error": "errors", "skipped": "skipped"}[status]
        tally[key] += 1  # type: ignore[literal-required]
        if status in ("failed", "error"):
            failing.append(case_id)
        if len(cases) < MAX_CASES:
            case: CaseOutcome = {"id": case_id, "status": status, "duration": float(element.get("time") or 0)}
            if message:
                case["message"] = message
            cases.append(case)
    tally["failing"] = failing
    tally["cases"] = cases
    return tally
