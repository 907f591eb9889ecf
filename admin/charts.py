"""Server-rendered SVG charts: Python lays out the shapes, `templates/_charts.html` draws them.

No JavaScript and nothing fetched: the page works offline and prints as it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000", "#999999", "#7f3c8d", "#11a579"]


@dataclass
class Rect:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


@dataclass
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass
class Chart:
    width: int
    height: int
    title: str
    rects: list[Rect] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    empty: bool = False


def stacked_columns(title: str, columns: list[str], series: list[str],
                    values: list[dict[str, float]], width: int = 720, height: int = 220,
                    unit: str = "") -> Chart:
    """One column per entry of `columns`, stacked by `series` (e.g. days × languages)."""
    chart = Chart(width, height, title)
    colors = {name: PALETTE[n % len(PALETTE)] for n, name in enumerate(series)}
    chart.legend = [(name, colors[name]) for name in series]
    top = max((sum(v.values()) for v in values), default=0)
    if not top:
        chart.empty = True
        return chart
    left, bottom, plot_h = 36.0, 24.0, height - 34.0
    step = (width - left) / max(1, len(columns))
    chart.labels.append(Label(left - 4, height - bottom - plot_h + 10, f"{top:g}", "end"))
    chart.labels.append(Label(left - 4, height - bottom, "0", "end"))
    every = max(1, len(columns) // 10)
    for n, (column, column_values) in enumerate(zip(columns, values, strict=True)):
        x = left + n * step
        y = height - bottom
        for name in series:
            value = column_values.get(name, 0)
            if not value:
                continue
            h = value / top * plot_h
            y -= h
            chart.rects.append(Rect(x + 1, y, max(1.0, step - 2), h, colors[name],
                                    f"{column} · {name}: {value:g}{unit}"))
        if n % every == 0:
            chart.labels.append(Label(x + step / 2, height - 8, column))
    return chart


def horizontal_bars(title: str, items: list[tuple[str, float]], width: int = 720,
                    row: int = 22, unit: str = "") -> Chart:
    chart = Chart(width, max(row, row * len(items)) + 4, title)
    top = max((value for _, value in items), default=0)
    if not top:
        chart.empty = True
        return chart
    left = 220.0
    for n, (name, value) in enumerate(items):
        y = n * row + 2
        chart.rects.append(Rect(left, y, max(1.0, (width - left - 60) * value / top), row - 6,
                                PALETTE[0], f"{name}: {value:g}{unit}"))
        chart.labels.append(Label(left - 6, y + row - 10, name, "end"))
        chart.labels.append(Label(left + (width - left - 60) * value / top + 6, y + row - 10,
                                  f"{value:g}{unit}", "start"))
    return chart
