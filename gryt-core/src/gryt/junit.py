"""JUnit XML for CI UIs: a testsuite per runner, a testcase per step with failure/skipped and its output."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gryt.status import SKIPPED, SUCCESS

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


def build_junit(result: Mapping[str, Any], pipeline_name: str = "gryt") -> ET.Element:
    """The `<testsuites>` element for a pipeline result (as `Pipeline.execute()` returns it, masked)."""
    suites = ET.Element("testsuites", name=_clean(pipeline_name))
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    runners = result.get("runners") or {}
    for runner_id, steps in runners.items():
        suite = ET.SubElement(suites, "testsuite", name=_clean(runner_id))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        suite_time = 0.0
        for step_id, raw in (steps or {}).items():
            step = raw if isinstance(raw, Mapping) else {"status": str(raw)}
            duration = step.get("duration")
            suite_time += float(duration) if isinstance(duration, (int, float)) else 0.0
            case = ET.SubElement(
                suite,
                "testcase",
                name=_clean(step_id),
                classname=_clean(f"{pipeline_name}.{runner_id}"),
                time=_seconds(duration),
            )
            counts["tests"] += 1
            status = step.get("status")
            reason = _clean(step.get("error") or "")
            if status == SKIPPED:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=reason or "skipped")
            elif status != SUCCESS:
                counts["failures"] += 1
                message = reason or f"step {status}"
                failure = ET.SubElement(case, "failure", message=message, type=_clean(status or "error"))
                details = [f"status: {status}", f"returncode: {step.get('returncode')}"]
                if step.get("timed_out"):
                    details.append("timed out")
                if step.get("attempts") is not None:
                    details.append(f"attempts: {step.get('attempts')}")
                failure.text = _clean("\n".join([message, *details]))
            if step.get("stdout"):
                ET.SubElement(case, "system-out").text = _clean(step["stdout"], OUTPUT_LIMIT)
            if step.get("stderr"):
                ET.SubElement(case, "system-err").text = _clean(step["stderr"], OUTPUT_LIMIT)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{suite_time:.3f}")
        total_time += suite_time
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("time", f"{total_time:.3f}")
    return suites


def write_junit(result: Mapping[str, Any], path: Path, pipeline_name: str = "gryt") -> None:
    """Write the JUnit XML of `result` to `path` (folders created as needed)."""
    tree = ET.ElementTree(build_junit(result, pipeline_name))
    ET.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
