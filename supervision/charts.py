"""Charts rendered on the server as SVG with pygal: no JavaScript, no CDN (government
intranets have no internet), and the same SVG can go into the PDF reports. pygal's
default includes a script from a CDN for tooltips; `js=[]` leaves it out. Every
chart on a page has its data table beneath it (the table is the accessible and
exportable form; the chart is a picture of it)."""

from __future__ import annotations

import re

import pygal
from django.utils.html import escape
from django.utils.safestring import mark_safe
from pygal.style import Style

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#334155",
    foreground_strong="#0f172a",
    foreground_subtle="#cbd5e1",
    opacity=".85",
    opacity_hover=".95",
    colors=(
        "#b91c1c",
        "#1d4ed8",
        "#15803d",
        "#b45309",
        "#7c3aed",
        "#0e7490",
        "#be185d",
        "#4b5563",
    ),
    font_family="'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif",
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=12,
    title_font_size=14,
    value_font_size=11,
)
COMMON = {
    "js": [],
    "disable_xml_declaration": True,
    "style": STYLE,
    "width": 640,
    "height": 300,
    "explicit_size": False,
    "legend_at_bottom": True,
    "print_values": False,
    "show_y_guides": True,
    "truncate_legend": 30,
}


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>|<script\b[^>]*/>", re.DOTALL)


def _svg(chart, title: str) -> str:
    chart.title = None
    # pygal embeds its configuration for its (external) tooltip script even with
    # js=[]; without the script it does nothing, so it is dropped.
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    title = escape(str(title))
    # An accessible name for the picture; the table beneath carries the figures.
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{title}" ', 1)
    return mark_safe(svg)  # noqa: S308 (pygal output, values are numbers and our labels)


def bar(
    title: str,
    labels: list[str],
    series: list[tuple[str, list[int]]],
    stacked: bool = False,
) -> str:
    chart = (pygal.StackedBar if stacked else pygal.Bar)(**COMMON)
    chart.x_labels = [str(label) for label in labels]
    for name, values in series:
        chart.add(str(name), values)
    return _svg(chart, title)


def line(
    title: str, labels: list[str], series: list[tuple[str, list[int | None]]]
) -> str:
    chart = pygal.Line(**COMMON, x_label_rotation=0, show_minor_x_labels=True)
    chart.x_labels = [str(label) for label in labels]
    for name, values in series:
        chart.add(str(name), values)
    return _svg(chart, title)
