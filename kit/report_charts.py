"""Charts drawn as inline SVG: crisp on screen and on paper, and nothing to load."""

import math

from .page import element, join

CHART_CSS = """
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font-size: 11px; fill: var(--muted); }
svg.chart .bar { fill: var(--bar); }
svg.chart .bar.good { fill: var(--good); }
svg.chart .bar.bad { fill: var(--bad); }
svg.chart .count { fill: var(--ink); text-anchor: middle; }
svg.chart .axis { stroke: var(--muted); stroke-width: 1; }
svg.chart .grid { stroke: var(--rule); stroke-width: 1; }
svg.chart .marker { stroke: var(--ink); stroke-width: 2; stroke-dasharray: 5 3; }
svg.chart .marker-label { fill: var(--ink); font-weight: 600; }
svg.shares { width: 100%; height: .9rem; display: block; min-width: 8rem; }
svg.shares .full { fill: var(--good); }
svg.shares .partial { fill: var(--mid); }
svg.shares .zero { fill: var(--bad); }
"""

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 26, 44  # room for the count axis, the marker's label and the bar labels
MAX_LABELS = 12
MAX_GRID_LINES = 5
SMALLEST_TOP = 4  # a batch of a few submissions does not get bars as tall as the chart


def bar_chart(bars, *, title, x_label, labels_at_edges=False, marker=None):
    """Bars of counts (report_figures.Bar). marker is (bar edge index, label), drawn as a dashed line.

    Labels sit under the bars' centres, or under their left edges when they name bin edges.
    """
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_width / max(1, len(bars))
    largest = max((bar.count for bar in bars), default=0)
    count_step = grid_step(largest)
    top = max(SMALLEST_TOP, count_step * math.ceil(largest / count_step))
    scale = plot_height / top
    base = TOP + plot_height
    parts = [count_axis(top, count_step, scale, base)]
    every = math.ceil(len(bars) / MAX_LABELS)
    labelled = marker[0] if marker else 0  # thinned labels keep the marker's edge labelled
    for index, bar in enumerate(bars):
        x = LEFT + index * step
        height = bar.count * scale
        parts.append(element("rect", element("title", f"{bar.tooltip or bar.label}: {bar.count}"), x=f"{x + 1:.1f}",
                             y=f"{base - height:.1f}", width=f"{max(step - 2, 1):.1f}", height=f"{height:.1f}",
                             class_=f"bar {bar.tone}"))
        if bar.count:
            parts.append(element("text", bar.count, x=f"{x + step / 2:.1f}", y=f"{base - height - 3:.1f}",
                                 class_="count"))
        if (index - labelled) % every == 0:
            label_x = x if labels_at_edges else x + step / 2
            parts.append(element("text", bar.label, x=f"{label_x:.1f}", y=base + 15, text_anchor="middle"))
    parts.append(element("text", x_label, x=LEFT + plot_width / 2, y=HEIGHT - 6, text_anchor="middle"))
    if marker is not None:
        parts.append(marker_line(LEFT + marker[0] * step, marker[1], base))
    return element("svg", join(element("title", title), *parts), class_="chart", viewBox=f"0 0 {WIDTH} {HEIGHT}",
                   role="img", aria_label=title)


def grid_step(largest):
    """The count axis' step: a whole 1, 2 or 5 times a power of ten, for at most MAX_GRID_LINES lines above 0."""
    magnitude = 1
    while True:
        for multiple in (1, 2, 5):
            if largest <= multiple * magnitude * MAX_GRID_LINES:
                return multiple * magnitude
        magnitude *= 10


def count_axis(top, step, scale, base):
    """Grid lines every step counts, labelled."""
    lines = []
    for value in range(0, top + 1, step):
        y = base - value * scale
        lines.append(element("line", x1=LEFT, x2=WIDTH - RIGHT, y1=f"{y:.1f}", y2=f"{y:.1f}",
                             class_="axis" if value == 0 else "grid"))
        lines.append(element("text", value, x=LEFT - 6, y=f"{y + 4:.1f}", text_anchor="end"))
    return join(*lines)


def marker_line(x, label, base):
    return join(element("line", x1=f"{x:.1f}", x2=f"{x:.1f}", y1=TOP - 6, y2=base, class_="marker"),
                element("text", label, x=f"{x:.1f}", y=TOP - 10, text_anchor="middle", class_="marker-label"))


def shares_bar(parts):
    """One bar split into shares: parts are (count, css class, tooltip); the widths follow the counts."""
    total = sum(count for count, _, _ in parts) or 1
    rects, offset = [], 0.0
    for count, css_class, tooltip in parts:
        width = 100 * count / total
        rects.append(element("rect", element("title", tooltip), x=f"{offset:.2f}", y=0, width=f"{width:.2f}",
                             height=10, class_=css_class))
        offset += width
    return element("svg", join(*rects), class_="shares", viewBox="0 0 100 10", preserveAspectRatio="none",
                   role="img", aria_label="; ".join(tooltip for _, _, tooltip in parts))

