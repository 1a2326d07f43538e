"""What the SVG drawings share: escaping, number formatting and a "nice" axis."""

from __future__ import annotations

import math
from html import escape
from typing import Any

NICE_STEPS = (1.0, 2.0, 5.0)


def esc(value: Any) -> str:
    """`value` as text safe inside an HTML or SVG element or a quoted attribute."""
    return escape(str(value), quote=True)


def cut(text: str, limit: int) -> str:
    """`text`, shortened to `limit` characters with an ellipsis when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def num(value: float) -> str:
    """A coordinate with at most one decimal: small files, exact enough for pixels."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def seconds(value: float | None) -> str:
    """0.25 -> `0.25s`, 12.3 -> `12.3s`, 75 -> `1m15s`, 4000 -> `1h06m`; None -> `-`."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value:.2f}s"
    if value < 60:
        return f"{value:.1f}s"
    minutes, secs = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def tick_label(value: float) -> str:
    """An axis label: `0`, `0.5s`, `30s`, `2m`, `1m30s`."""
    if value == 0:
        return "0"
    if value < 60:
        return f"{value:g}s"
    minutes, secs = divmod(round(value), 60)
    return f"{minutes}m{secs:02d}s" if secs else f"{minutes}m"


def ticks(top: float, count: int = 8) -> tuple[float, list[float]]:
    """About `count` round tick values from 0 covering `top`; returns (axis end, ticks)."""
    top = max(top, 1e-3)
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next((m * power for m in NICE_STEPS if m * power >= raw), 10 * power)
    if step >= 60:  # whole minutes for long runs
        step = max(60.0, round(step / 60) * 60.0)
    end = math.ceil(top / step - 1e-9) * step
    return end, [i * step for i in range(round(end / step) + 1)]
