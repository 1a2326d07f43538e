"""What a run looks like inside GitHub Actions: each step's output in a log group, a failed step or
destination as an `::error` annotation with the tail of its output, a Markdown job summary appended to
`$GITHUB_STEP_SUMMARY`, and the run's `run-id` and `status` in `$GITHUB_OUTPUT`.

Everything written is masked with the run's masker. Declared secrets are not sent as `::add-mask::`: that
command prints the value into the log stream (Actions hides it afterwards), while gryt never prints a
registered secret and Actions already masks every `${{ secrets.X }}` the workflow passes in.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gryt.destination import went
from gryt.status import ERROR, SUCCESS

if TYPE_CHECKING:
    from gryt.context import RunContext
    from gryt.destination import Destination
    from gryt.pipeline import Pipeline
    from gryt.step import Step

TAIL_LINES = 20
"""Lines of a failed step's output an annotation shows."""
_ICONS = {SUCCESS: "✅", ERROR: "❌"}
_open_groups: set[tuple[str, str, str]] = set()
"""(run, runner, step) of the groups opened and not yet closed: a step skipped without starting
(a false `if`, fail-fast) ends without a start, and must not close a group it did not open."""
_groups_lock = threading.Lock()


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as Actions reads it back (`%`, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (`title=...`): also `:` and `,` escaped."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str) -> str:
    """One workflow command line, e.g. `::error title=build/test failed::exit code 1`."""
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}\n"


def _emit(line: str) -> None:
    """Write a workflow command to stdout, where Actions reads it, in order with the step's output."""
    sys.stdout.write(line)
    sys.stdout.flush()


def _group_key(step: Step, context: RunContext) -> tuple[str, str, str]:
    return (context.run_id, context.runner_id or "-", str(step.id))


def step_start(step: Step, context: RunContext) -> None:
    with _groups_lock:
        _open_groups.add(_group_key(step, context))
    title = context.masker.mask(f"{context.runner_id or '-'}/{step.id}")
    _emit(command("group", title))


def step_end(step: Step, result: Mapping[str, Any], context: RunContext) -> None:
    """Close the step's group if it opened one; a failure is an `::error` (a `::warning` when allowed)."""
    with _groups_lock:
        opened = _group_key(step, context) in _open_groups
        _open_groups.discard(_group_key(step, context))
    if opened:
        _emit("::endgroup::\n")
    if result.get("status") != ERROR:
        return
    where = f"{context.runner_id or '-'}/{step.id}"
    output = str(result.get("stderr") or "") or str(result.get("stdout") or "")
    tail = "\n".join(output.rstrip("\n").splitlines()[-TAIL_LINES:])
    message = str(result.get("error") or "failed") + (f"\n{tail}" if tail else "")
    kind = "warning" if result.get("allowed") else "error"
    title = f"gryt: {where} failed" + (" (allowed)" if result.get("allowed") else "")
    _emit(command(kind, context.masker.mask(message), title=context.masker.mask(title)))


def destination_end(destination: Destination, result: Mapping[str, Any], context: RunContext) -> None:
    if result.get("status") != ERROR:
        return
    message = str(result.get("error") or "failed")
    title = f"gryt: deliver/{destination.id} failed"
    _emit(command("error", context.masker.mask(message), title=context.masker.mask(title)))


def pipeline_end(pipeline: Pipeline, result: Mapping[str, Any], context: RunContext) -> None:
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        with open(summary_path, "a", encoding="utf-8") as summary:
            summary.write(context.masker.mask(render_summary(pipeline.name, result)))
    output_path = os.environ.get("GITHUB_OUTPUT")
    if output_path:
        with open(output_path, "a", encoding="utf-8") as outputs:
            for name, value in (
                ("run-id", str(result.get("run_id", ""))),
                ("status", str(result.get("status"))),
            ):
                outputs.write(output_entry(name, context.masker.mask(value)))


def output_entry(name: str, value: str) -> str:
    """`name<<DELIMITER`, the value and the delimiter: Actions' form that is safe for any value."""
    delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
    while delimiter in value:
        delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def render_summary(name: str, result: Mapping[str, Any]) -> str:
    """The job summary: status, then a table of runners and steps and one of destinations; no links."""
    status = str(result.get("status"))
    lines = [f"### {_ICONS.get(status, '⚪')} gryt {_cell(name)}: {status}", ""]
    run = f"Run `{_code(str(result.get('run_id', '')))}`"
    lines += [run + (f": {_cell(str(result['error']))}" if result.get("error") else ""), ""]
    runners = result.get("runners") or {}
    if runners:
        lines += ["| runner | step | status | duration |", "| --- | --- | --- | ---: |"]
        for runner_id, steps in runners.items():
            for step_id, step in (steps or {}).items():
                duration = step.get("duration")
                seconds = f"{duration:.2f} s" if isinstance(duration, (int, float)) else ""
                lines.append(
                    f"| {_cell(runner_id)} | {_cell(step_id)} | {_cell(str(step.get('status')))} | {seconds} |"
                )
        lines.append("")
    destinations = result.get("destinations") or {}
    if destinations:
        lines += ["| destination | status | artifact |", "| --- | --- | --- |"]
        for dest_id, items in destinations.items():
            for item in items or []:
                shown = went(item.get("artifact"), item) or item.get("error") or item.get("artifact") or ""
                lines.append(
                    f"| {_cell(dest_id)} | {_cell(str(item.get('status')))} | `{_code(str(shown))}` |"
                )
        lines.append("")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line, `|` escaped, no HTML."""
    return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")


def _code(text: str) -> str:
    """Text for inside backticks (so URLs stay plain text, not links)."""
    return " ".join(text.split()).replace("`", "'").replace("|", "\\|")
