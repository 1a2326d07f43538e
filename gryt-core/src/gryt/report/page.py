"""The page every report is laid out on: one self-contained HTML document with inline CSS.

No script and no request: a Content-Security-Policy forbids both, so user text that reached the page
(step names, output) could not run even if it escaped escaping, and the file opens offline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gryt.report.statuses import LEGEND, look
from gryt.report.svg import esc

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
:root { --ok:#1a7f37; --cached:#8ad39c; --err:#cf222e; --allowed:#bf8700; --skip:#8c959f;
  --intr:#8250df; --run:#0969da; --other:#6e7781; --ink:#1f2328; --muted:#59636e; --line:#d1d9e0; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f8fa; color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; }
header h1 { font-size: 22px; margin: 0 0 4px; display: flex; gap: 12px; align-items: center; }
header .meta { color: var(--muted); margin: 0; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px;
  margin-top: 18px; overflow-x: auto; content-visibility: auto; contain-intrinsic-size: auto 600px; }
h2 { font-size: 16px; margin: 0 0 10px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 999px; color: #fff; font-size: 14px;
  font-weight: 600; white-space: nowrap; }
.badge.s-skip, .badge.s-cached { color: var(--ink); }
.chips { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0 0; padding: 0; list-style: none; }
.chips li { border: 1px solid var(--line); border-radius: 6px; padding: 3px 10px; background: #fff; }
.chips a { color: var(--err); font-weight: 600; text-decoration: none; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin: 0 0 8px; color: var(--muted); font-size: 13px; }
.legend .key { display: inline-block; width: 14px; height: 10px; border-radius: 2px;
  vertical-align: middle; margin-right: 4px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 10px 4px 0; border-bottom: 1px solid #eef1f4; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; }
pre { background: #0d1117; color: #e6edf3; padding: 10px 12px; border-radius: 6px; overflow-x: auto;
  white-space: pre-wrap; word-break: break-all; margin: 6px 0 12px; }
.failure h3 { font-size: 14px; margin: 14px 0 4px; }
.muted { color: var(--muted); }
.st { white-space: nowrap; font-weight: 600; }
.s-ok { fill: var(--ok); background: var(--ok); } .t-ok, .st.s-ok { color: var(--ok); fill: var(--ok); }
.s-cached { fill: var(--cached); stroke: var(--ok); stroke-dasharray: 3 2; background: var(--cached); }
.t-cached, .st.s-cached { color: var(--ok); fill: var(--ok); }
.s-err { fill: var(--err); background: var(--err); } .t-err, .st.s-err { color: var(--err); fill: var(--err); }
.s-allowed { fill: var(--allowed); background: var(--allowed); }
.t-allowed, .st.s-allowed { color: var(--allowed); fill: var(--allowed); }
.s-skip { fill: #fff; stroke: var(--skip); stroke-dasharray: 3 2; background: #eaeef2; }
.t-skip, .st.s-skip { color: var(--muted); fill: var(--muted); }
.s-intr { fill: var(--intr); background: var(--intr); } .t-intr, .st.s-intr { color: var(--intr); fill: var(--intr); }
.s-run { fill: var(--run); background: var(--run); } .t-run, .st.s-run { color: var(--run); fill: var(--run); }
.s-other { fill: var(--other); background: var(--other); }
.t-other, .st.s-other { color: var(--other); fill: var(--other); }
.st, td .st { background: none; }
svg text { font-size: 12px; fill: var(--ink); }
svg .lanelabel { font-weight: 700; font-size: 13px; }
svg .label { fill: #24292f; }
svg .after { font-size: 11.5px; }
svg .tick, svg .axis { fill: var(--muted); font-size: 11px; }
svg .grid { stroke: #e3e8ee; stroke-width: 1; }
svg .band { fill: #f6f8fa; }
svg .lanebar { opacity: .35; }
svg .need { fill: none; stroke: #6e7781; stroke-width: 1.2; stroke-dasharray: 4 3; opacity: .8; }
svg .arrowhead { fill: #57606a; }
svg .step:hover .bar { stroke: var(--ink); stroke-width: 1.5; }
svg .line { fill: none; stroke-width: 2; }
svg .fail { stroke-width: 2.2; fill: none; }
"""


def status_badge(status: str, *, allowed: bool = False, badge: bool = False) -> str:
    """A status as glyph and word in its colour (`badge`: white on a filled pill)."""
    shown = look(status, allowed=allowed)
    kind = "badge" if badge else "st"
    return (
        f'<span class="{kind} s-{shown.css}" data-status="{esc(status)}">'
        f"{esc(shown.glyph)} {esc(shown.word)}</span>"
    )


def legend() -> str:
    """What the colours and glyphs mean."""
    items = "".join(
        f'<span><span class="key s-{item.css}"></span>{esc(item.glyph)} {esc(item.word)}</span>'
        for item in LEGEND
    )
    return f'<div class="legend">{items}</div>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: Iterable[int] = ()) -> str:
    """An HTML table; cells are HTML already (escape user text before); `numeric` columns align right."""
    right = set(numeric)

    def cls(index: int) -> str:
        return ' class="num"' if index in right else ""

    head = "".join(f"<th{cls(i)}>{esc(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{cell}</td>" for i, cell in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def document(title: str, body: str) -> str:
    """The whole page around `body` (HTML)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="gryt report">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )
