"""JUnit XML for CI UIs: a testsuite per runner (a testcase per step) and per step that reported its tests,
plus environment issues, auth steps and destinations, each with failure/skipped and its output. An allowed failure is `skipped`, its message
starting `allowed failure:`."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gryt.status import CACHED, PASSED, SKIPPED, SUCCESS
from gryt.testcounts import CaseOutcome, tally_of

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
OUTPUT_LIMIT = 64 * 1024
"""Characters of stdout/stderr kept per testcase (the tail: that is where failures show)."""


def _clean(text: Any, limit: int | None = None) -> str:
    value = "" if text is None else str(text)
    if limit is not None and len(value) > limit:
        value = f"[... {len(value) - limit} characters cut ...]\n" + value[-limit:]
    return _INVALID_XML.sub("\ufffd", value)


def _seconds(value: Any) -> str:
    return (
        f"{float(value):.3f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "0.000"
    )


Case = tuple[str, Mapping[str, Any]]


def _issue_case(index: int, issue: Any) -> Case:
    issue = issue if isinstance(issue, Mapping) else {"message": str(issue)}
    name = str(issue.get("name") or f"issue_{index}")
    return name, {"status": "invalid_env", "error": issue.get("message") or "environment issue"}


def _delivery_case(destination_id: str, outcome: Mapping[str, Any], items: Any) -> Case:
    """A destination as one test case: its outcome with the output of its artifacts in that status, led
    on success by `ARTIFACT -> WHERE` for each artifact that says where it went."""
    from gryt.destination import went

    same = [i for i in items or [] if isinstance(i, Mapping) and i.get("status") == outcome.get("status")]
    case = dict(outcome)
    published = [line for i in same if (line := went(i.get("artifact"), i)) is not None]
    for stream in ("stdout", "stderr"):
        texts = list(dict.fromkeys(str(i[stream]) for i in same if i.get(stream)))
        if stream == "stdout" and outcome.get("status") == SUCCESS:
            texts = published + texts
        if texts:
            case[stream] = "\n".join(texts)
    return destination_id, case


def _test_case(case: CaseOutcome) -> Case:
    """A test a step reported (`gryt.testcounts`) as a case of the step's own suite."""
    status = case.get("status", "error")
    outcome = {"status": {"passed": SUCCESS, "skipped": SKIPPED}.get(status, status)}
    return case.get("id", "?"), {**outcome, "duration": case.get("duration"), "error": case.get("message")}


def build_junit(result: Mapping[str, Any], pipeline_name: str = "gryt") -> ET.Element:
    """The `<testsuites>` element for a pipeline result (as `Pipeline.execute()` returns it, masked).

    Suites, in run order: `environment` (one failing case per issue), `auth` (one case per auth step),
    one per runner (a case per step) followed by one per step that reported test cases (`RUNNER/STEP`, a case
    per test, see `gryt.testcounts`), `deliver` (a case per destination; `skipped` when it did not run).
    """
    suites = ET.Element("testsuites", name=_clean(pipeline_name))
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    groups: list[tuple[str, list[Case]]] = []
    issues = result.get("issues") or []
    if issues:
        groups.append(("environment", [_issue_case(i, issue) for i, issue in enumerate(issues)]))
    auth = result.get("auth") or {}
    if auth:
        groups.append(("auth", [(str(k), v if isinstance(v, Mapping) else {}) for k, v in auth.items()]))
    for runner_id, steps in (result.get("runners") or {}).items():
        cases = [
            (str(sid), raw if isinstance(raw, Mapping) else {"status": str(raw)})
            for sid, raw in (steps or {}).items()
        ]
        groups.append((str(runner_id), cases))
        for step_id, raw in (steps or {}).items():
            tally = tally_of(raw) if isinstance(raw, Mapping) else None
            if tally is not None and tally.get("cases"):
                groups.append((f"{runner_id}/{step_id}", [_test_case(c) for c in tally.get("cases", [])]))
    delivery = result.get("delivery") or {}
    if delivery:
        items = result.get("destinations") or {}
        cases = [
            _delivery_case(str(did), outcome if isinstance(outcome, Mapping) else {}, items.get(did))
            for did, outcome in delivery.items()
        ]
        groups.append(("deliver", cases))
    total_time = 0.0
    for suite_name, cases in groups:
        counts, suite_time = _suite(suites, pipeline_name, suite_name, cases)
        for key, value in counts.items():
            totals[key] += value
        total_time += suite_time
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("time", f"{total_time:.3f}")
    return suites


def _suite(
    parent: ET.Element, pipeline_name: str, name: str, cases: list[Case]
) -> tuple[dict[str, int], float]:
    """One `<testsuite>`: a `<testcase>` per entry, `<failure>` or `<skipped>` where it did not succeed."""
    suite = ET.SubElement(parent, "testsuite", name=_clean(name))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    suite_time = 0.0
    for case_name, step in cases:
        duration = step.get("duration")
        suite_time += float(duration) if isinstance(duration, (int, float)) else 0.0
        case = ET.SubElement(
            suite,
            "testcase",
            name=_clean(case_name),
            classname=_clean(f"{pipeline_name}.{name}"),
            time=_seconds(duration),
        )
        counts["tests"] += 1
        status = step.get("status")
        reason = _clean(step.get("error") or "")
        if status == SKIPPED:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=reason or "skipped")
        elif step.get("allowed") is True:  # not a failure of the run: a CI UI must not show it red
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=f"allowed failure: {reason or status}")
        elif status == CACHED:  # passed: its output was replayed from the step cache
            properties = ET.SubElement(case, "properties")
            ET.SubElement(properties, "property", name="gryt.cache", value="replayed from the step cache")
        elif status not in PASSED:
            counts["failures"] += 1
            message = reason or f"{status}"
            failure = ET.SubElement(case, "failure", message=message, type=_clean(status or "error"))
            details = [f"status: {status}"]
            if "returncode" in step:
                details.append(f"returncode: {step.get('returncode')}")
            if step.get("timed_out"):
                details.append("timed out")
            if step.get("attempts") is not None:
                details.append(f"attempts: {step.get('attempts')}")
            if step.get("log_path"):
                details.append(f"log: {step.get('log_path')}")
            failure.text = _clean("\n".join([message, *details]))
        if step.get("stdout"):
            ET.SubElement(case, "system-out").text = _clean(step["stdout"], OUTPUT_LIMIT)
        if step.get("stderr"):
            ET.SubElement(case, "system-err").text = _clean(step["stderr"], OUTPUT_LIMIT)
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", f"{suite_time:.3f}")
    return counts, suite_time


def write_junit(result: Mapping[str, Any], path: Path, pipeline_name: str = "gryt") -> None:
    """Write the JUnit XML of `result` to `path` (folders created as needed)."""
    tree = ET.ElementTree(build_junit(result, pipeline_name))
    ET.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def stored_result(run: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded run (`gryt.history.get_run`) in the shape `build_junit` reads: the latest execution of
    each step (by start time, so a run merged from several databases reads as one), each auth step, and
    one outcome per destination (error if any of its rows is, else success if any is, else skipped)."""
    runners: dict[str, dict[str, Any]] = {str(r["runner_id"]): {} for r in run.get("runners") or []}
    for step in sorted(run.get("steps") or [], key=lambda s: str(s.get("start_timestamp") or "")):
        output = step.get("output")
        result = dict(output) if isinstance(output, Mapping) else {"status": step.get("status")}
        runner_id = str(step.get("runner_id") or "")
        step_id = str(step["step_id"]).removeprefix(
            f"{runner_id}/"
        )  # how a step id shared by runners is stored
        runners.setdefault(runner_id, {})[step_id] = result
    auth: dict[str, Any] = {}
    for attempt in run.get("auth") or []:
        output = attempt.get("output")
        auth[str(attempt["auth_id"])] = (
            dict(output) if isinstance(output, Mapping) else {"status": attempt.get("status")}
        )
    delivery: dict[str, dict[str, Any]] = {}
    for row in run.get("destination_runs") or []:
        outcome = delivery.setdefault(str(row["destination_id"]), {"status": SKIPPED, "duration": 0.0})
        status = row.get("status")
        if status == "error" or (status == SUCCESS and outcome["status"] == SKIPPED):
            outcome["status"] = status
        if row.get("error") and not outcome.get("error"):
            outcome["error"] = row["error"]
        if isinstance(row.get("duration"), (int, float)):
            outcome["duration"] += float(row["duration"])
        if row.get("log_path"):
            outcome["log_path"] = row["log_path"]
    return {
        "status": run.get("status"),
        "run_id": run.get("run_id"),
        "runners": runners,
        "auth": auth,
        "issues": run.get("issues") or [],
        "destinations": run.get("destinations") or {},
        "delivery": delivery,
        "error": run.get("error"),
    }
