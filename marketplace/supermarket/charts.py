"""Charts drawn on the server as inline SVG: no JavaScript, no CDN (the machines are offline).

A chart is an <svg role="img"> with a <title> and a <desc>; every bar carries its own <title>
(a tooltip and a screen-reader label) and data-value. Pages put the numbers in a table under
the chart as well, so nothing depends on seeing the picture. For print (`tooltips=False`,
`font_family`), the charts leave out what a PDF cannot show and name the typeface of their labels.
"""

from __future__ import annotations

import math
from decimal import Decimal
from itertools import count

from markupsafe import Markup, escape

_ids = count(1)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `value` (1 for 0)."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, Decimal):  # as given, never in exponent form (Decimal("300").normalize() is 3E+2)
        return f"{value:,f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _f(x: float) -> str:
    """A coordinate with at most two decimals, no trailing zeros."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _open_svg(chart_id: str, css_class: str, size: tuple[int, int], title: str, description: str,
              font_family: str | None, data: str) -> list[str]:
    """The chart's <svg> element with its <title> and <desc>. WeasyPrint does not give SVG text the
    page's typeface: `font_family` names it (else a PDF embeds a sans-serif face for the digits)."""
    width, height = size
    font = f' font-family="{escape(font_family)}"' if font_family else ""
    return [
        f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%"{font} role="img" aria-labelledby="{chart_id}-title {chart_id}-desc"{data}>',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description or title)}</desc>',
    ]


def _mark(element: str, attributes: str, label: str, value: str, shown: str, tooltips: bool) -> str:
    """A bar or a point; with `tooltips`, its data-label and data-value and a <title> saying `shown`."""
    if not tooltips:
        return f"<{element} {attributes}/>"
    return (f'<{element} {attributes} data-label="{escape(label)}" data-value="{escape(value)}">'
            f"<title>{escape(label)}: {escape(shown)}</title></{element}>")


def bar_chart(series: list[tuple[str, int | float | Decimal]], *, title: str, description: str = "",
              width: int = 640, height: int = 180, color: str = "#2b6cb0", label_every: int | None = None,
              unit: str = "", tooltips: bool = True, font_family: str | None = None) -> Markup:
    """A vertical bar chart of (label, value) pairs; bar heights are proportional to the values.

    The value axis runs from 0 to a round number at or above the largest value. `label_every`
    thins the category labels (default: about 8 labels whatever the number of bars). A PDF passes
    `tooltips=False` (no per-bar <title> and data attributes) and its `font_family`.
    """
    chart_id = f"chart-{next(_ids)}"
    values = [max(0.0, float(v)) for _, v in series]
    scale = nice_ceiling(max(values, default=0))
    # the value labels sit left of the plot: leave room for the widest (11px digits ~6.5px each)
    left, right, top, bottom = max(40, 10 + math.ceil(6.5 * len(_number(scale)))), 8, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(1, len(series))
    bar_w = max(1.0, slot * 0.7)
    label_every = label_every or max(1, math.ceil(len(series) / 8))
    baseline = top + plot_h

    parts = _open_svg(chart_id, "chart", (width, height), title, description, font_family,
                      f' data-scale="{_f(scale)}" data-plot-height="{_f(plot_h)}"' if tooltips else "")
    # the value axis: gridlines at the top and the middle with their numbers, and zero
    for fraction in (1, 0.5):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line class="grid" x1="{left}" y1="{_f(y)}" x2="{width - right}" y2="{_f(y)}" '
                     f'stroke="#d9e2ec" stroke-dasharray="3 3"/>')
        parts.append(f'<text x="{left - 4}" y="{_f(y + 4)}" text-anchor="end" font-size="11" fill="#616e7c">'
                     f'{escape(_number(scale * fraction))}</text>')
    parts.append(f'<text x="{left - 4}" y="{_f(baseline + 4)}" text-anchor="end" font-size="11" '
                 f'fill="#616e7c">0</text>')
    for index, ((label, raw), value) in enumerate(zip(series, values, strict=True)):
        bar_h = plot_h * value / scale
        x = left + slot * index + (slot - bar_w) / 2
        parts.append(_mark("rect", f'class="bar" x="{_f(x)}" y="{_f(baseline - bar_h)}" width="{_f(bar_w)}" '
                           f'height="{_f(bar_h)}" fill="{escape(color)}"', label, _number(raw),
                           f"{_number(raw)}{unit}", tooltips))
        if (len(series) - 1 - index) % label_every == 0:  # counted back from the latest
            parts.append(f'<text x="{_f(left + slot * index + slot / 2)}" y="{height - 8}" text-anchor="middle" '
                         f'font-size="11" fill="#616e7c">{escape(label)}</text>')
    parts.append(f'<line class="axis" x1="{left}" y1="{_f(baseline)}" x2="{width - right}" y2="{_f(baseline)}" '
                 f'stroke="#616e7c"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _axis_bounds(values: list[float]) -> tuple[float, float]:
    """A round number at or above the largest value (0 when none is positive) and at or below
    the smallest (0 when none is negative); never both 0."""
    high = nice_ceiling(max(values)) if values and max(values) > 0 else 0
    low = -nice_ceiling(-min(values)) if values and min(values) < 0 else 0
    return low, (high if high or low else 1)


def line_chart(series: list[tuple[str, int | float | Decimal | None]], *, title: str, description: str = "",
               width: int = 640, height: int = 180, color: str = "#2b6cb0", label_every: int | None = None,
               unit: str = "", missing: str = "—", tooltips: bool = True, font_family: str | None = None) -> Markup:
    """A line through (label, value) points, laid out like bar_chart's bars so that the charts of
    one page line up. A None value is a gap: no point, the line breaks there, and the slot's
    tooltip says `missing`. Values may be negative: the axis then runs below zero and the zero
    line is drawn across. `tooltips` and `font_family` as for bar_chart.
    """
    chart_id = f"chart-{next(_ids)}"
    known = [float(v) for _, v in series if v is not None]
    low, high = _axis_bounds(known)
    ticks = [high, 0, low] if low else [high, high / 2, 0]
    widest = max(len(_number(t)) for t in ticks)
    left, right, top, bottom = max(40, 10 + math.ceil(6.5 * widest)), 8, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(1, len(series))
    label_every = label_every or max(1, math.ceil(len(series) / 8))

    def y_of(value: float) -> float:
        return top + plot_h * (high - value) / (high - low)

    parts = _open_svg(chart_id, "chart line-chart", (width, height), title, description, font_family,
                      f' data-min="{_f(low)}" data-max="{_f(high)}" data-plot-height="{_f(plot_h)}"' if tooltips else "")
    labelled: list[float] = []
    for tick in ticks:
        y = y_of(tick)
        if tick:
            parts.append(f'<line class="grid" x1="{left}" y1="{_f(y)}" x2="{width - right}" y2="{_f(y)}" '
                         f'stroke="#d9e2ec" stroke-dasharray="3 3"/>')
        if all(abs(y - other) >= 12 for other in labelled):  # a label too close to another is left out
            labelled.append(y)
            parts.append(f'<text x="{left - 4}" y="{_f(y + 4)}" text-anchor="end" font-size="11" '
                         f'fill="#616e7c">{escape(_number(tick))}</text>')
    zero = y_of(0)
    parts.append(f'<line class="axis" x1="{left}" y1="{_f(zero)}" x2="{width - right}" y2="{_f(zero)}" '
                 f'stroke="#616e7c"/>')

    segments: list[list[str]] = [[]]
    points: list[str] = []
    for index, (label, raw) in enumerate(series):
        x = left + slot * index + slot / 2
        if raw is None:
            if segments[-1]:
                segments.append([])
            if tooltips:  # an invisible slot that only carries the tooltip
                points.append(_mark("rect", f'class="gap" x="{_f(x - slot / 2)}" y="{top}" width="{_f(slot)}" '
                                    f'height="{_f(plot_h)}" fill="transparent"', label, "", missing, tooltips))
        else:
            y = y_of(float(raw))
            segments[-1].append(f"{_f(x)},{_f(y)}")
            points.append(_mark("circle", f'class="point" cx="{_f(x)}" cy="{_f(y)}" r="3" fill="{escape(color)}"',
                                label, _number(raw), f"{_number(raw)}{unit}", tooltips))
        if (len(series) - 1 - index) % label_every == 0:  # counted back from the latest
            parts.append(f'<text x="{_f(x)}" y="{height - 8}" text-anchor="middle" font-size="11" '
                         f'fill="#616e7c">{escape(label)}</text>')
    for segment in segments:
        if len(segment) > 1:
            parts.append(f'<polyline class="line" points="{" ".join(segment)}" fill="none" '
                         f'stroke="{escape(color)}" stroke-width="2"/>')
    parts.extend(points)  # on top of the line
    parts.append("</svg>")
    return Markup("".join(parts))
