"""The run's timeline as an SVG Gantt chart: a lane per runner (auth and deliver too) with its steps'
bars on one time axis, so runners that ran side by side show side by side, and an arrow from each
runner a runner `needs` to it. Each bar carries its status as colour, glyph and word."""

from __future__ import annotations

from gryt.report.statuses import look
from gryt.report.svg import cut, esc, num, seconds, tick_label, ticks
from gryt.report.timeline import Bar, Lane
from gryt.status import SKIPPED

WIDTH = 1140
LABEL_WIDTH = 250
TEXT_ROOM = 190
"""Room right of the plot for the text after a bar that ends there."""
TOP = 30
LANE_HEIGHT = 26
ROW_HEIGHT = 20
LABEL_CHARS = 34
DETAIL_CHARS = 48
CHAR_WIDTH = 6.4
"""Average width of a character of the bar texts (11.5px sans-serif), to tell whether a text fits."""


class _Scale:
    """Seconds from the run's start to x pixels."""

    def __init__(self, span: float) -> None:
        self.end, self.ticks = ticks(span)
        self.left = LABEL_WIDTH + 10
        self.width = WIDTH - self.left - TEXT_ROOM

    def x(self, offset: float) -> float:
        return self.left + self.width * offset / self.end


def _bar(
    scale: _Scale, y: float, height: float, start: float | None, end: float | None, *, css: str, kind: str
) -> tuple[str, float, float]:
    """The rect of one bar and its x extent; a bar with no recorded time is drawn as nothing."""
    if start is None and end is None:
        return "", scale.left, scale.left
    first = start if start is not None else end
    last = end if end is not None else start
    x1 = scale.x(first or 0.0)
    x2 = max(scale.x(last or 0.0), x1 + 4)
    rect = (
        f'<rect class="{kind} s-{css}" x="{num(x1)}" y="{num(y)}" width="{num(x2 - x1)}"'
        f' height="{num(height)}" rx="3"/>'
    )
    return rect, x1, x2


def _after(x1: float, x2: float, y: float, text: str, css: str) -> str:
    """Text after a bar; before it when it would not fit on the right but fits on the left; else after
    the bar, shortened to the room there is."""
    width = len(text) * CHAR_WIDTH
    if x2 + 5 + width > WIDTH and x1 - 5 - width >= LABEL_WIDTH:
        return (
            f'<text class="after t-{css}" x="{num(x1 - 5)}" y="{num(y)}" text-anchor="end">{esc(text)}</text>'
        )
    room = max(8, int((WIDTH - x2 - 5) / CHAR_WIDTH))
    return f'<text class="after t-{css}" x="{num(x2 + 5)}" y="{num(y)}">{esc(cut(text, room))}</text>'


def _step(scale: _Scale, y: float, lane: Lane, bar: Bar) -> str:
    shown = look(bar.status, allowed=bar.allowed)
    key = f"{lane.id}/{bar.label}" if lane.kind == "runner" else f"{lane.kind}/{bar.label}"
    rect, x1, x2 = _bar(scale, y + 3, ROW_HEIGHT - 6, bar.start, bar.end, css=shown.css, kind="bar")
    words = f"{shown.glyph} {shown.word}" + ("" if bar.status == SKIPPED else f" {seconds(bar.duration)}")
    if bar.detail:
        words += f" \u00b7 {cut(bar.detail, DETAIL_CHARS)}"
    title = f"{key}: {shown.word}, {seconds(bar.duration)}" + (f" - {bar.detail}" if bar.detail else "")
    middle = y + ROW_HEIGHT / 2 + 4
    return (
        f'<g class="step" data-key="{esc(key)}" data-status="{esc(bar.status)}"'
        f' data-allowed="{str(bar.allowed).lower()}"><title>{esc(title)}</title>'
        f'<text class="label" x="24" y="{num(middle)}">{esc(cut(bar.label, LABEL_CHARS))}</text>'
        f"{rect}{_after(x1, x2, middle, words, shown.css)}</g>"
    )


def _lane_head(scale: _Scale, y: float, lane: Lane) -> tuple[str, float, float]:
    shown = look(lane.status)
    rect, x1, x2 = _bar(scale, y + 5, LANE_HEIGHT - 10, lane.start, lane.end, css=shown.css, kind="lanebar")
    words = f"{shown.glyph} {shown.word}" + ("" if lane.status == SKIPPED else f" {seconds(lane.duration)}")
    if lane.needs:
        words += f" \u00b7 needs {', '.join(lane.needs)}"
    middle = y + LANE_HEIGHT / 2 + 5
    head = (
        f'<g class="lane" data-kind="{esc(lane.kind)}" data-lane="{esc(lane.id)}"'
        f' data-status="{esc(lane.status)}"><title>{esc(lane.kind)} {esc(lane.id)}: {esc(words)}</title>'
        f'<text class="lanelabel" x="8" y="{num(middle)}">{esc(cut(lane.id, LABEL_CHARS - 4))}</text>'
        f"{rect}{_after(x1, x2, middle, words, shown.css)}</g>"
    )
    return head, x1, x2


def _arrow(source: tuple[float, float, float], target: tuple[float, float, float], names: str) -> str:
    """A curve from the end of the needed runner's bar to the start of the runner that needs it (drawn
    only when it starts after that end: a runner skipped before it ended says `needs` in its text)."""
    _, sx, sy = source
    tx, _, ty = target
    bend = max(24.0, abs(tx - sx) / 2)
    return (
        f'<path class="need" data-need="{esc(names)}" d="M{num(sx)} {num(sy)} C{num(sx + bend)} {num(sy)}'
        f' {num(tx - bend)} {num(ty)} {num(tx - 2)} {num(ty)}" marker-end="url(#arrow)"/>'
    )


def gantt(lanes: list[Lane], span: float) -> str:
    """The whole chart as one `<svg>` element."""
    scale = _Scale(span)
    bands: list[str] = []
    body: list[str] = []
    extents: dict[str, tuple[float, float, float]] = {}
    y = float(TOP)
    for index, lane in enumerate(lanes):
        height = LANE_HEIGHT + ROW_HEIGHT * len(lane.bars)
        if index % 2 == 0:
            bands.append(f'<rect class="band" x="0" y="{num(y)}" width="{WIDTH}" height="{num(height)}"/>')
        head, x1, x2 = _lane_head(scale, y, lane)
        body.append(head)
        if lane.kind == "runner":
            extents[lane.id] = (x1, x2, y + LANE_HEIGHT / 2)
        row = y + LANE_HEIGHT
        for bar in lane.bars:
            body.append(_step(scale, row, lane, bar))
            row += ROW_HEIGHT
        y += height
    arrows = [
        _arrow(extents[need], extents[lane.id], f"{need}->{lane.id}")
        for lane in lanes
        if lane.id in extents
        for need in lane.needs
        if need in extents and extents[lane.id][0] >= extents[need][1] - 2
    ]
    grid = [
        f'<line class="grid" x1="{num(scale.x(t))}" y1="{TOP - 6}" x2="{num(scale.x(t))}" y2="{num(y)}"/>'
        f'<text class="tick" x="{num(scale.x(t))}" y="{TOP - 10}" text-anchor="middle">{tick_label(t)}</text>'
        for t in scale.ticks
    ]
    return (
        f'<svg class="gantt" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{num(y + 8)}"'
        f' viewBox="0 0 {WIDTH} {num(y + 8)}" role="img" aria-label="timeline of the run">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"'
        ' orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" class="arrowhead"/></marker></defs>'
        f"{''.join(bands)}{''.join(grid)}{''.join(body)}{''.join(arrows)}</svg>"
    )
