"""The trend report's SVG charts: step durations over the runs, failure rate per step, and a sparkline
per step for the table. Failures are marked by shape (a cross) as well as colour."""

from __future__ import annotations

from gryt.report.statuses import look
from gryt.report.svg import cut, esc, num, seconds, tick_label, ticks
from gryt.report.trend import Series, Trend
from gryt.status import ERROR

WIDTH = 1140
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#6e7781", "#1f2328")
"""Okabe-Ito colours: told apart with the common colour-vision deficiencies."""
TOP_STEPS = len(PALETTE)
LEFT, RIGHT, TOP, PLOT_HEIGHT = 64, 250, 16, 240
FAIL_ROWS = 15


def slowest(trend: Trend, count: int = TOP_STEPS) -> list[Series]:
    """The `count` steps with the longest median duration: the lines worth a chart."""
    timed = [s for s in trend.steps if s.median is not None]
    return sorted(timed, key=lambda s: -(s.median or 0.0))[:count]


def _cross(x: float, y: float, size: float = 4.5) -> str:
    return (
        f"M{num(x - size)} {num(y - size)} L{num(x + size)} {num(y + size)}"
        f" M{num(x - size)} {num(y + size)} L{num(x + size)} {num(y - size)}"
    )


def duration_chart(trend: Trend) -> str:
    """Durations of the slowest steps, one line each, over the runs (oldest left); a cross where the step
    failed; under the axis, each run's status."""
    lines = slowest(trend)
    count = len(trend.runs)
    top, marks = ticks(max((d or 0.0) for s in lines for d in s.durations) if lines else 1.0, 5)
    plot_width = WIDTH - LEFT - RIGHT

    def x(index: int) -> float:
        return LEFT + (plot_width * (index + 0.5) / count)

    def y(value: float) -> float:
        return TOP + PLOT_HEIGHT * (1 - value / top)

    parts = [
        f'<line class="grid" x1="{LEFT}" y1="{num(y(m))}" x2="{LEFT + plot_width}" y2="{num(y(m))}"/>'
        f'<text class="tick" x="{LEFT - 6}" y="{num(y(m) + 4)}" text-anchor="end">{tick_label(m)}</text>'
        for m in marks
    ]
    every = max(1, count // 10)
    strip = TOP + PLOT_HEIGHT + 12
    for index, run in enumerate(trend.runs):
        shown = look(run.status)
        parts.append(
            f'<g class="run" data-run="{esc(run.run_id)}" data-status="{esc(run.status)}">'
            f"<title>{esc(run.run_id)} {esc(run.start)}: {esc(shown.word)}, {esc(seconds(run.duration))}</title>"
            f'<rect class="s-{shown.css}" x="{num(x(index) - 7)}" y="{strip}" width="14" height="14" rx="3"/>'
            f'<text class="t-{shown.css}" x="{num(x(index))}" y="{strip + 28}" text-anchor="middle">'
            f"{esc(shown.glyph)}</text></g>"
        )
        if index % every == 0 or index == count - 1:
            parts.append(
                f'<text class="tick" x="{num(x(index))}" y="{strip + 44}" text-anchor="middle">#{index + 1}</text>'
            )
    for number, line in enumerate(lines):
        colour = PALETTE[number % len(PALETTE)]
        points = [
            (i, d) for i, d in enumerate(line.durations) if d is not None and line.statuses[i] != "skipped"
        ]
        path = " ".join(f"{num(x(i))},{num(y(d))}" for i, d in points)
        marks_svg = "".join(
            f'<path class="fail" stroke="{colour}" d="{_cross(x(i), y(d))}"/>'
            if line.statuses[i] == ERROR
            else f'<circle cx="{num(x(i))}" cy="{num(y(d))}" r="3" fill="{colour}"/>'
            for i, d in points
        )
        legend_y = TOP + 10 + number * 20
        parts.append(
            f'<g class="series" data-key="{esc(line.key)}"><title>{esc(line.key)}</title>'
            f'<polyline class="line" stroke="{colour}" points="{path}"/>{marks_svg}'
            f'<rect x="{WIDTH - RIGHT + 16}" y="{legend_y - 9}" width="16" height="4" fill="{colour}"/>'
            f'<text x="{WIDTH - RIGHT + 38}" y="{legend_y - 3}">{esc(cut(line.key, 30))}</text></g>'
        )
    height = strip + 52
    return (
        f'<svg class="trend" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}"'
        f' viewBox="0 0 {WIDTH} {height}" role="img" aria-label="step durations over the last runs">'
        f'{"".join(parts)}<text class="axis" x="{LEFT - 6}" y="{strip + 11}" text-anchor="end">runs</text></svg>'
    )


def failure_chart(trend: Trend) -> str:
    """Failure rate of the steps that failed at least once, most often first (at most FAIL_ROWS)."""
    failing = sorted((s for s in trend.steps if s.failures), key=lambda s: (-s.rate, s.key))[:FAIL_ROWS]
    if not failing:
        return f'<p class="muted">No step failed in these {len(trend.runs)} runs.</p>'
    label, row, plot = 280, 24, WIDTH - 280 - 140
    parts: list[str] = []
    for index, line in enumerate(failing):
        y = 8 + index * row
        width = max(2.0, plot * line.rate)
        parts.append(
            f'<g class="failrate" data-key="{esc(line.key)}" data-rate="{line.rate:.3f}">'
            f"<title>{esc(line.key)}: failed {line.failures} of {line.executions} runs</title>"
            f'<text x="{label - 8}" y="{y + 15}" text-anchor="end">{esc(cut(line.key, 40))}</text>'
            f'<rect class="s-err" x="{label}" y="{y + 3}" width="{num(width)}" height="{row - 8}" rx="3"/>'
            f'<text class="t-err" x="{num(label + width + 6)}" y="{y + 15}">'
            f"\u2717 {line.rate:.0%} ({line.failures}/{line.executions})</text></g>"
        )
    height = 16 + len(failing) * row
    return (
        f'<svg class="failures" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}"'
        f' viewBox="0 0 {WIDTH} {height}" role="img" aria-label="failure rate per step">{"".join(parts)}</svg>'
    )


def sparkline(line: Series, width: int = 150, height: int = 26) -> str:
    """A step's durations as a small line; its failures as red crosses."""
    values = [d for d in line.durations if d is not None]
    top = max(values) if values else 1.0
    count = max(len(line.durations), 1)

    def x(index: int) -> float:
        return 3 + (width - 6) * (index + 0.5) / count

    def y(value: float) -> float:
        return height - 4 - (height - 8) * (value / top if top else 0.0)

    points = [(i, d) for i, d in enumerate(line.durations) if d is not None and line.statuses[i] != "skipped"]
    path = " ".join(f"{num(x(i))},{num(y(d))}" for i, d in points)
    fails = "".join(
        f'<path class="fail" stroke="#cf222e" d="{_cross(x(i), y(d), 3)}"/>'
        for i, d in points
        if line.statuses[i] == ERROR
    )
    return (
        f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}"><polyline class="line" stroke="#0969da" stroke-width="1.5"'
        f' points="{path}"/>{fails}</svg>'
    )
