"""GitLab job-log markup: a collapsible section around each step (`section_start`/`section_end` lines,
as GitLab's log viewer reads them) and a plain-text summary of the run at its end."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any, TextIO

ERASE = "\x1b[0K"
"""GitLab's marker lines start (and the header follows) with this erase-line sequence."""

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def section_name(*parts: str) -> str:
    """A section name GitLab accepts (letters, digits, `_`, `.`, `-`) built from `parts`."""
    return _UNSAFE_NAME.sub("_", ".".join(parts)).strip("_") or "step"


def section_start(name: str, header: str, *, collapsed: bool = True, now: float | None = None) -> str:
    """The line opening section `name` with `header` shown on its fold."""
    stamp = int(time.time() if now is None else now)
    options = "[collapsed=true]" if collapsed else ""
    return f"{ERASE}section_start:{stamp}:{name}{options}\r{ERASE}{_CONTROL.sub(' ', header)}\n"


def section_end(name: str, *, now: float | None = None) -> str:
    """The line closing section `name`."""
    stamp = int(time.time() if now is None else now)
    return f"{ERASE}section_end:{stamp}:{name}\r{ERASE}\n"


def _seconds(value: Any) -> str:
    return f"{float(value):.1f}s" if isinstance(value, (int, float)) and not isinstance(value, bool) else "-"


def summary_lines(result: Mapping[str, Any]) -> list[str]:
    """The run as lines: a row per step and per destination (status, duration, error), then the run."""
    rows: list[tuple[str, str, str, str]] = []
    for runner_id, steps in (result.get("runners") or {}).items():
        for step_id, raw in (steps or {}).items():
            step = raw if isinstance(raw, Mapping) else {}
            status = str(step.get("status") or "-") + (" (allowed)" if step.get("allowed") else "")
            rows.append(
                (
                    f"{runner_id}/{step_id}",
                    status,
                    _seconds(step.get("duration")),
                    str(step.get("error") or ""),
                )
            )
    for destination_id, given in (result.get("delivery") or {}).items():
        outcome = given if isinstance(given, Mapping) else {}
        rows.append(
            (
                f"deliver/{destination_id}",
                str(outcome.get("status") or "-"),
                _seconds(outcome.get("duration")),
                str(outcome.get("error") or ""),
            )
        )
    width = max([len(r[0]) for r in rows] + [4])
    lines = [f"{'what':<{width}}  {'status':<18} {'time':>7}  error"]
    lines += [f"{w:<{width}}  {s:<18} {d:>7}  {_CONTROL.sub(' ', e)}".rstrip() for w, s, d, e in rows]
    lines.append(f"run {result.get('run_id')} {result.get('status')}")
    return lines


class JobLog:
    """Writes the markup to `stream` (default: the current stdout); safe for runners in threads."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._open: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def _write(self, text: str) -> None:
        stream = self.stream if self.stream is not None else sys.stdout
        stream.write(text)
        stream.flush()

    def step_start(self, step: Any, context: Any) -> None:
        runner = str(getattr(context, "runner_id", None) or "")
        step_id = str(getattr(step, "id", step))
        with self._lock:
            name = section_name("gryt", runner, step_id, str(len(self._open)))
            self._open[(runner, step_id)] = name
            self._write(section_start(name, f"{runner}/{step_id}" if runner else step_id))

    def step_end(self, step: Any, result: Mapping[str, Any], context: Any) -> None:
        runner = str(getattr(context, "runner_id", None) or "")
        step_id = str(getattr(step, "id", step))
        with self._lock:
            name = self._open.get((runner, step_id))
            if name is not None:  # a step skipped before it started has no section
                self._write(section_end(name))

    def pipeline_end(self, result: Mapping[str, Any], context: Any) -> None:
        name = section_name("gryt", "summary")
        with self._lock:
            self._open.clear()
            body = "".join(f"{line}\n" for line in summary_lines(result))
            self._write(section_start(name, "gryt summary", collapsed=False) + body + section_end(name))


JOB_LOG = JobLog()
"""The job log of this process, shared by the plugin's hooks."""
