"""The report of one run: header, timeline, steps, deliveries, and the tail of each failed step."""

from __future__ import annotations

from typing import Any

from gryt.report.gantt import gantt
from gryt.report.page import document, legend, status_badge, table
from gryt.report.svg import esc, seconds
from gryt.report.timeline import Delivery, Failure, RunReport, number

COUNT_ORDER = ("success", "cached", "error", "allowed", "interrupted", "skipped")


def _header(report: RunReport) -> str:
    run = report.run
    name = run.get("name") or "-"
    facts = [
        f"run <code>{esc(run.get('run_id'))}</code>",
        f"started {esc(_when(run.get('start_timestamp')))}",
        f"took {esc(seconds(number(run.get('duration'))))}",
    ]
    if run.get("host"):
        facts.append(f"on {esc(run.get('host'))}")
    counts = report.counts
    order = [*COUNT_ORDER, *sorted(set(counts) - set(COUNT_ORDER))]
    chips = "".join(
        f"<li>{status_badge('error', allowed=True) if word == 'allowed' else status_badge(word)}"
        f" <b>{counts[word]}</b></li>"
        for word in order
        if counts.get(word)
    )
    runners = sum(1 for lane in report.lanes if lane.kind == "runner")
    steps = sum(counts.values())
    meta = " \u00b7 ".join(facts)
    error = f'<p class="meta t-err">{esc(run.get("error"))}</p>' if run.get("error") else ""
    if report.failures:
        count = len(report.failures)
        chips += (
            f'<li><a href="#failures">{count} failed step{"s" if count > 1 else ""}: output \u2193</a></li>'
        )
    return (
        f"<header><h1>{esc(name)} {status_badge(report.status, badge=True)}</h1>"
        f'<p class="meta">{meta}</p>{error}'
        f'<ul class="chips"><li>{runners} runners</li><li>{steps} steps</li>{chips}</ul></header>'
    )


def _when(stamp: Any) -> str:
    """`2026-11-27T09:06:15.123Z` -> `2026-11-27 09:06:15 UTC` (a report is read anywhere: UTC)."""
    if not isinstance(stamp, str) or "T" not in stamp:
        return str(stamp or "-")
    return stamp.replace("T", " ").split(".")[0].removesuffix("Z") + " UTC"


def _notes(report: RunReport) -> str:
    """The run's environment issues and warnings, when it has any."""
    items: list[str] = []
    for key in ("issues", "warnings"):
        value = report.run.get(key)
        if isinstance(value, list):
            items.extend(f"<li>{esc(_issue_text(item))}</li>" for item in value)
    return f"<section><h2>Warnings and issues</h2><ul>{''.join(items)}</ul></section>" if items else ""


def _issue_text(item: Any) -> str:
    if isinstance(item, dict):
        return str(item.get("message") or item.get("error") or item)
    return str(item)


def _steps(report: RunReport) -> str:
    rows = [
        [
            esc(lane.id),
            esc(bar.label),
            status_badge(bar.status, allowed=bar.allowed),
            esc(seconds(bar.duration)),
            esc(bar.detail),
        ]
        for lane in report.lanes
        if lane.kind == "runner"
        for bar in lane.bars
    ]
    return (
        "<section><h2>Steps</h2>"
        + table(("runner", "step", "status", "duration", "error"), rows, numeric=(3,))
        + "</section>"
    )


def _deliveries(deliveries: list[Delivery]) -> str:
    if not deliveries:
        return ""
    rows = [
        [
            esc(item.destination),
            esc(item.type or "-"),
            esc(item.artifact or "-"),
            status_badge(item.status),
            f"{esc(item.artifact or '-')} -&gt; <code>{esc(item.went)}</code>" if item.went else "",
            esc(item.error),
        ]
        for item in deliveries
    ]
    headers = ("destination", "type", "artifact", "status", "where", "error")
    return "<section><h2>Destinations</h2>" + table(headers, rows) + "</section>"


def _failure(item: Failure) -> str:
    code = ""
    if item.returncode not in (None, 0) and "exit" not in item.error:
        code = f" \u00b7 exit {esc(item.returncode)}"
    parts = [
        f'<div class="failure" data-key="{esc(item.key)}" data-status="{esc(item.status)}">'
        f"<h3>{esc(item.key)} {status_badge(item.status, allowed=item.allowed)}{code}</h3>"
    ]
    if item.error:
        parts.append(f'<p class="muted">{esc(item.error)}</p>')
    for name, text in (("stderr", item.stderr), ("stdout", item.stdout)):
        if text:
            parts.append(f'<div class="muted">{name} (last lines)</div><pre class="{name}">{esc(text)}</pre>')
    if not item.stderr and not item.stdout:
        parts.append('<p class="muted">no output recorded</p>')
    if item.log_path:
        parts.append(f'<p class="muted">full log: <code>{esc(item.log_path)}</code></p>')
    return "".join(parts) + "</div>"


def render(report: RunReport) -> str:
    """The whole HTML page of `report`."""
    failures = ""
    if report.failures:
        failures = (
            '<section id="failures"><h2>Failed steps</h2>'
            + "".join(_failure(item) for item in report.failures)
            + "</section>"
        )
    timeline = (
        f'<section id="timeline"><h2>Timeline</h2>{legend()}{gantt(report.lanes, report.span)}</section>'
        if report.lanes
        else '<section id="timeline"><h2>Timeline</h2><p class="muted">no runner recorded</p></section>'
    )
    body = (
        _header(report)
        + timeline
        + failures
        + _deliveries(report.deliveries)
        + _notes(report)
        + _steps(report)
    )
    title = f"{report.run.get('name') or 'run'} {report.run.get('run_id')} - gryt report"
    return document(title, body)
