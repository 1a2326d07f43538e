"""The trend report of a pipeline: its runs, the durations of its slowest steps, each step's failure
rate, and a table of every step with a sparkline."""

from __future__ import annotations

from gryt.report.charts import duration_chart, failure_chart, slowest, sparkline
from gryt.report.page import document, status_badge, table
from gryt.report.svg import esc, seconds
from gryt.report.trend import Series, Trend


def _change(line: Series) -> str:
    """The newest duration against the median: `+35%` (slower), `-10%`, or empty."""
    latest, middle = line.latest, line.median
    if latest is None or not middle:
        return ""
    change = latest / middle - 1
    css = "t-err" if change > 0.2 else "t-ok" if change < -0.2 else "muted"
    return f'<span class="{css}">{change:+.0%}</span>'


def _row(line: Series) -> list[str]:
    ran = line.ran()
    spread = f"{seconds(min(ran))} \u2013 {seconds(max(ran))}" if ran else "-"
    rate = f"{line.rate:.0%}" if line.executions else "-"
    failed = (
        f'<span class="st s-err">\u2717 {line.failures}/{line.executions}</span>' if line.failures else ""
    )
    return [
        f"<code>{esc(line.key)}</code>",
        sparkline(line),
        esc(seconds(line.median)),
        esc(seconds(line.latest)),
        _change(line),
        esc(spread),
        failed or f"0/{line.executions}",
        esc(rate),
    ]


def render(trend: Trend) -> str:
    """The whole HTML page of `trend`."""
    runs = trend.runs
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    chips = "".join(f"<li>{status_badge(status)} <b>{n}</b></li>" for status, n in sorted(counts.items()))
    first, newest = runs[0], runs[-1]
    header = (
        f'<header><h1>{esc(trend.pipeline)} <span class="muted">trend</span></h1>'
        f'<p class="meta">last {len(runs)} runs, from <code>{esc(first.run_id)}</code> to'
        f' <code>{esc(newest.run_id)}</code></p><ul class="chips"><li>{len(trend.steps)} steps</li>{chips}</ul>'
        "</header>"
    )
    shown = len(slowest(trend))
    durations = (
        f'<section id="durations"><h2>Step durations</h2><p class="muted">The {shown} slowest steps by'
        " median duration, one line each, oldest run on the left; \u2717 marks a run where the step failed."
        f" Under the axis, each run's status.</p>{duration_chart(trend)}</section>"
    )
    failures = f'<section id="failure-rate"><h2>Failure rate</h2>{failure_chart(trend)}</section>'
    headers = ("step", "trend", "median", "newest", "change", "range", "failed/ran", "rate")
    rows = [_row(line) for line in sorted(trend.steps, key=lambda s: -(s.median or 0.0))]
    steps = f'<section id="steps"><h2>Every step</h2>{table(headers, rows, numeric=(2, 3, 4, 7))}</section>'
    return document(f"{trend.pipeline} trend - gryt report", header + durations + failures + steps)
