"""Small charts as inline SVG, drawn on the server: a time-series line chart and a grouped bar chart.

No client library and no CDN: the page carries a few kilobytes of markup that
prints, zooms and reads without JavaScript. Every chart

* is an ``<svg role="img">`` labelled by its own ``<title>`` and ``<desc>``
  (``aria-labelledby``), the description summarising what it shows;
* encodes each series twice, never by colour alone: lines differ by dash and
  marker shape, bars by fill pattern, and a legend names them; all ink is dark
  on a white ground, so it survives a black-and-white printer;
* carries each plotted value on its mark, as ``data-value`` (the raw number) and
  a ``<title>`` (the number formatted for the active locale), so a test or a
  screen reader can check it against the data table the chart is shown with
  (``templates/components/chart.html``);
* mirrors for right-to-left languages (the first category on the right, the value
  axis on the right), as Arabic statistical publications lay out their charts;
* escapes every piece of text it was given.

``Chart`` holds the data and draws itself; ``line_chart`` and ``bar_chart`` build
one. The ticks are "nice numbers" (1, 2 or 5 × 10ⁿ) covering the data, and a
bar chart's value axis always includes zero (bars of signed indicators go below
it). Reused by the platform statistics (issue [9]).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Literal

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext as _

Number = Decimal | int | float
MAX_DECIMALS = 4

# Dark inks on white (each at least 3:1 against white, WCAG 1.4.11), told apart by
# dash, marker and pattern as well as by hue.
INKS = ("#1d3b6e", "#8a3b00", "#0b0c0c", "#2e5e2e")
DASHES = ("", "6 4", "2 3", "10 3 2 3")
MARKERS = ("circle", "square", "diamond", "triangle")


def _safe_id(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", value) or "chart"


def decimals_of(value: Number) -> int:
    """The decimals a value needs to be shown exactly (at most ``MAX_DECIMALS``)."""
    exponent = Decimal(str(value)).normalize().as_tuple().exponent
    return min(MAX_DECIMALS, max(0, -int(exponent))) if isinstance(exponent, int) else 0


def format_number(value: Number, decimals: int | None = None) -> str:
    """A number in the active locale's notation, grouped, with the decimals it needs."""
    places = decimals_of(value) if decimals is None else decimals
    return str(number_format(Decimal(str(value)), decimal_pos=places, use_l10n=True, force_grouping=True))


def _nice(span: float, *, round_: bool) -> float:
    exponent = math.floor(math.log10(span))
    fraction = span / 10**exponent
    if round_:
        nice = 1 if fraction < 1.5 else 2 if fraction < 3 else 5 if fraction < 7 else 10
    else:
        nice = 1 if fraction <= 1 else 2 if fraction <= 2 else 5 if fraction <= 5 else 10
    return nice * 10.0**exponent


@dataclass(frozen=True)
class Scale:
    """A value axis: from ``low`` to ``high`` in ``step``s, all three nice numbers."""

    low: float
    high: float
    step: float

    @property
    def decimals(self) -> int:
        return max(0, -math.floor(math.log10(self.step))) if self.step < 1 else 0

    @property
    def ticks(self) -> list[float]:
        count = round((self.high - self.low) / self.step)
        return [round(self.low + i * self.step, self.decimals + 2) for i in range(count + 1)]

    def fraction(self, value: float) -> float:
        """Where ``value`` falls between low (0) and high (1)."""
        return (value - self.low) / (self.high - self.low)


def nice_scale(values: Sequence[Number], *, include_zero: bool = False, max_ticks: int = 5) -> Scale:
    """The nice axis covering ``values`` (Heckbert's "nice numbers for graph labels")."""
    numbers = [float(v) for v in values]
    if include_zero:
        numbers.append(0.0)
    if not numbers:
        return Scale(0.0, 1.0, 0.2)
    low, high = min(numbers), max(numbers)
    if low == high:  # one value (or all equal): a band around it
        pad = abs(low) * 0.1 or 1.0
        low, high = (low - pad, high + pad) if not include_zero else (min(low, 0.0), max(high, 0.0) or 1.0)
        if include_zero and low == high:
            high = low + 1.0
    span = _nice(high - low, round_=False)
    step = _nice(span / (max_ticks - 1), round_=True)
    nice_low = math.floor(low / step + 1e-9) * step
    nice_high = math.ceil(high / step - 1e-9) * step
    if nice_high == nice_low:
        nice_high = nice_low + step
    return Scale(nice_low, nice_high, step)


@dataclass(frozen=True)
class Series:
    """One named series: ``(category, value)`` pairs; a ``None`` value is a gap."""

    name: str
    points: Sequence[tuple[str | int, Number | None]]

    def value_at(self, category: str) -> Number | None:
        return next((value for key, value in self.points if str(key) == category), None)


@dataclass
class Chart:
    """A chart's data, its words and its drawing (``svg``); the template shows the table beside it."""

    kind: Literal["line", "bar"]
    chart_id: str
    title: str
    series: Sequence[Series]
    categories: Sequence[str] = ()
    description: str = ""
    x_label: str = ""
    y_label: str = ""
    width: int = 480
    height: int = 260
    rtl: bool | None = None
    decimals: int | None = None
    _rows: list[list[Number | None]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.chart_id = _safe_id(self.chart_id)
        if not self.categories:
            seen: dict[str, None] = {}
            for serie in self.series:
                for key, _value in serie.points:
                    seen.setdefault(str(key), None)
            keys = list(seen)
            # Years sort as numbers, whatever order the series gave them in.
            self.categories = sorted(keys, key=int) if all(k.lstrip("-").isdigit() for k in keys) else keys
        self.categories = [str(c) for c in self.categories]
        if self.rtl is None:
            self.rtl = get_language_bidi()

    # --- Data --------------------------------------------------------------------------

    @property
    def values(self) -> list[Number]:
        return [v for serie in self.series for _k, v in serie.points if v is not None]

    @property
    def is_empty(self) -> bool:
        return not self.values

    @cached_property
    def places(self) -> int:
        """One number of decimals for every value of the chart (and its table)."""
        if self.decimals is not None:
            return self.decimals
        return max((decimals_of(v) for v in self.values), default=0)

    def show(self, value: Number | None) -> str:
        return "" if value is None else format_number(value, self.places)

    @property
    def rows(self) -> list[dict[str, object]]:
        """The table: one row per category, one cell per series (raw and formatted)."""
        return [
            {
                "category": category,
                "cells": [
                    {"value": value, "raw": "" if value is None else str(value), "text": self.show(value)}
                    for value in (serie.value_at(category) for serie in self.series)
                ],
            }
            for category in self.categories
        ]

    @property
    def summary(self) -> str:
        """The ``<desc>``: what the chart shows, in words, when no description was given."""
        if self.description:
            return self.description
        if self.is_empty:
            return _("No figures to show.")
        values = self.values
        return _("%(kind)s of %(series)s, %(first)s to %(last)s; values from %(low)s to %(high)s.") % {
            "kind": _("Line chart") if self.kind == "line" else _("Bar chart"),
            "series": ", ".join(serie.name for serie in self.series),
            "first": self.categories[0],
            "last": self.categories[-1],
            "low": self.show(min(values)),
            "high": self.show(max(values)),
        }

    # --- Geometry ----------------------------------------------------------------------

    @cached_property
    def scale(self) -> Scale:
        return nice_scale(self.values, include_zero=self.kind == "bar")

    @cached_property
    def _tick_texts(self) -> list[str]:
        return [format_number(tick, self.scale.decimals) for tick in self.scale.ticks]

    @property
    def _axis_width(self) -> float:
        return 12 + 7 * max((len(t) for t in self._tick_texts), default=1)

    @property
    def _legend_height(self) -> int:
        return 22 if len(self.series) > 1 or self.kind == "bar" else 0

    @property
    def plot(self) -> tuple[float, float, float, float]:
        """The plotting area: left, top, right, bottom (in SVG units, before mirroring)."""
        top = 12 + self._legend_height
        bottom = self.height - (40 if self.x_label else 26)
        return self._axis_width + (14 if self.y_label else 0), top, self.width - 12, bottom

    def _x(self, x: float) -> float:
        return round(self.width - x if self.rtl else x, 1)

    def _y(self, value: float) -> float:
        _left, top, _right, bottom = self.plot
        return round(bottom - self.scale.fraction(value) * (bottom - top), 1)

    def _slot(self, index: int) -> tuple[float, float]:
        """A category's band: its start and width along the x axis (unmirrored)."""
        left, _top, right, _bottom = self.plot
        width = (right - left) / max(1, len(self.categories))
        return left + index * width, width

    def _centre(self, index: int) -> float:
        start, width = self._slot(index)
        return start + width / 2

    # --- Drawing -----------------------------------------------------------------------

    @cached_property
    def svg(self) -> SafeString:
        ident = self.chart_id
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" role="img" '
            f'aria-labelledby="{ident}-title {ident}-desc" viewBox="0 0 {self.width} {self.height}" '
            f'width="{self.width}" height="{self.height}" direction="ltr" '
            f'font-family="system-ui, sans-serif" font-size="12" data-chart="{self.kind}">',
            f'<title id="{ident}-title">{escape(self.title)}</title>',
            f'<desc id="{ident}-desc">{escape(self.summary)}</desc>',
            f'<rect width="{self.width}" height="{self.height}" fill="#ffffff"/>',
        ]
        if self.kind == "bar":
            parts.append(self._patterns())
        if self.is_empty:
            parts.append(
                f'<text x="{self.width / 2}" y="{self.height / 2}" text-anchor="middle" fill="#0b0c0c">'
                f"{escape(_('No figures to show.'))}</text>"
            )
        else:
            parts += [self._axes(), self._bars() if self.kind == "bar" else self._lines(), self._legend()]
        parts.append("</svg>")
        # Every piece of text above went through escape(); the rest is our own markup.
        return mark_safe("".join(parts))  # noqa: S308

    def _anchor(self, side: Literal["start", "end"]) -> str:
        flipped = {"start": "end", "end": "start"}
        return flipped[side] if self.rtl else side

    def _axes(self) -> str:
        left, top, right, bottom = self.plot
        out = ['<g class="axes" fill="#0b0c0c" stroke-width="1">']
        for tick, text in zip(self.scale.ticks, self._tick_texts, strict=True):
            y = self._y(tick)
            grid = "#0b0c0c" if tick == 0 else "#b1b4b6"
            out.append(f'<line x1="{self._x(left)}" x2="{self._x(right)}" y1="{y}" y2="{y}" stroke="{grid}"/>')
            out.append(
                f'<text x="{self._x(left - 6)}" y="{y + 4}" text-anchor="{self._anchor("end")}">{escape(text)}</text>'
            )
        out.append(f'<line x1="{self._x(left)}" x2="{self._x(left)}" y1="{top}" y2="{bottom}" stroke="#0b0c0c"/>')
        step = max(1, math.ceil(len(self.categories) / max(1, int((right - left) // 44))))
        for index, category in enumerate(self.categories):
            if index % step:
                continue  # too many categories for their labels: every n-th (the table has all)
            out.append(
                f'<text x="{self._x(self._centre(index))}" y="{bottom + 16}" text-anchor="middle">'
                f"{escape(category)}</text>"
            )
        if self.x_label:
            out.append(
                f'<text x="{self._x((left + right) / 2)}" y="{self.height - 6}" text-anchor="middle">'
                f"{escape(self.x_label)}</text>"
            )
        if self.y_label:
            x, y = self._x(12), (top + bottom) / 2
            out.append(
                f'<text x="{x}" y="{y}" text-anchor="middle" transform="rotate(-90 {x} {y})">'
                f"{escape(self.y_label)}</text>"
            )
        out.append("</g>")
        return "".join(out)

    def _mark(self, shape: str, x: float, y: float, ink: str, label: str, raw: str) -> str:
        attributes = f'class="point" data-value="{escape(raw)}" fill="{ink}" stroke="{ink}"'
        tooltip = f"<title>{escape(label)}</title>"
        if shape == "circle":
            return f'<circle {attributes} cx="{x}" cy="{y}" r="4">{tooltip}</circle>'
        if shape == "square":
            return f'<rect {attributes} x="{x - 4}" y="{y - 4}" width="8" height="8">{tooltip}</rect>'
        if shape == "diamond":
            points = f"{x},{y - 5} {x + 5},{y} {x},{y + 5} {x - 5},{y}"
        else:
            points = f"{x},{y - 5} {x + 5},{y + 4} {x - 5},{y + 4}"
        return f'<polygon {attributes} points="{points}">{tooltip}</polygon>'

    def _label(self, serie: Series, category: str, value: Number) -> str:
        return _("%(series)s, %(category)s: %(value)s") % {
            "series": serie.name,
            "category": category,
            "value": self.show(value),
        }

    def _lines(self) -> str:
        out = []
        for number, serie in enumerate(self.series):
            ink, dash, shape = (seq[number % len(seq)] for seq in (INKS, DASHES, MARKERS))
            out.append(f'<g class="series" data-series="{escape(serie.name)}">')
            points = [
                (self._x(self._centre(index)), self._y(float(value)), category, value)
                for index, category in enumerate(self.categories)
                if (value := serie.value_at(category)) is not None
            ]
            if len(points) > 1:
                path = " ".join(f"{x},{y}" for x, y, _c, _v in points)
                dashed = f' stroke-dasharray="{dash}"' if dash else ""
                out.append(f'<polyline points="{path}" fill="none" stroke="{ink}" stroke-width="2"{dashed}/>')
            for x, y, category, value in points:
                out.append(self._mark(shape, x, y, ink, self._label(serie, category, value), str(value)))
            out.append("</g>")
        return "".join(out)

    def _patterns(self) -> str:
        ident = self.chart_id
        return (
            "<defs>"
            f'<pattern id="{ident}-p1" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
            f'<rect width="3" height="6" fill="{INKS[1]}"/></pattern>'
            f'<pattern id="{ident}-p2" width="6" height="6" patternUnits="userSpaceOnUse">'
            f'<rect width="6" height="6" fill="#ffffff"/><circle cx="3" cy="3" r="1.6" fill="{INKS[2]}"/></pattern>'
            f'<pattern id="{ident}-p3" width="6" height="6" patternUnits="userSpaceOnUse">'
            f'<rect width="6" height="6" fill="#ffffff"/><path d="M0 3H6M3 0V6" stroke="{INKS[3]}" stroke-width="1.5"/>'
            "</pattern></defs>"
        )

    def _fill(self, number: int) -> str:
        index = number % 4
        return INKS[0] if index == 0 else f"url(#{self.chart_id}-p{index})"

    def _bars(self) -> str:
        out = []
        count = max(1, len(self.series))
        base = self._y(max(self.scale.low, min(0.0, self.scale.high)))
        for number, serie in enumerate(self.series):
            ink = INKS[number % len(INKS)]
            out.append(f'<g class="series" data-series="{escape(serie.name)}">')
            for index, category in enumerate(self.categories):
                value = serie.value_at(category)
                if value is None:
                    continue
                start, width = self._slot(index)
                bar = width * 0.8 / count
                x0 = start + width * 0.1 + number * bar
                y = self._y(float(value))
                top, height = min(y, base), abs(base - y)
                x = self._x(x0 + bar) if self.rtl else round(x0, 1)
                out.append(
                    f'<rect class="point" data-value="{escape(str(value))}" x="{x}" y="{top}" '
                    f'width="{round(bar - 1, 1)}" height="{max(height, 0.5)}" fill="{self._fill(number)}" '
                    f'stroke="{ink}" stroke-width="1">'
                    f"<title>{escape(self._label(serie, category, value))}</title></rect>"
                )
            out.append("</g>")
        return "".join(out)

    def _legend(self) -> str:
        if not self._legend_height:
            return ""
        left, _top, right, _bottom = self.plot
        out = ['<g class="legend" fill="#0b0c0c">']
        x = left
        for number, serie in enumerate(self.series):
            ink = INKS[number % len(INKS)]
            if self.kind == "bar":
                key_x = self._x(x + 12) if self.rtl else x
                swatch = f'<rect x="{key_x}" y="6" width="12" height="12" fill="{self._fill(number)}" stroke="{ink}"/>'
            else:
                dash = DASHES[number % len(DASHES)]
                dashed = f' stroke-dasharray="{dash}"' if dash else ""
                swatch = (
                    f'<line x1="{self._x(x)}" x2="{self._x(x + 14)}" y1="12" y2="12" stroke="{ink}" '
                    f'stroke-width="2"{dashed}/>'
                )
            out.append(
                f'{swatch}<text x="{self._x(x + 18)}" y="16" text-anchor="{self._anchor("start")}">'
                f"{escape(serie.name)}</text>"
            )
            x += 30 + 7 * len(serie.name)
            if x > right:
                break
        out.append("</g>")
        return "".join(out)


def line_chart(
    *,
    chart_id: str,
    title: str,
    series: Sequence[Series],
    description: str = "",
    x_label: str = "",
    y_label: str = "",
    rtl: bool | None = None,
) -> Chart:
    """A time series: categories (years) along x in the order first seen, one line per series."""
    return Chart("line", chart_id, title, series, description=description, x_label=x_label, y_label=y_label, rtl=rtl)


def bar_chart(
    *,
    chart_id: str,
    title: str,
    series: Sequence[Series],
    categories: Sequence[str] = (),
    description: str = "",
    x_label: str = "",
    y_label: str = "",
    rtl: bool | None = None,
) -> Chart:
    """Grouped bars: one group per category (a year), one patterned bar per series (women, men, total)."""
    return Chart(
        "bar",
        chart_id,
        title,
        series,
        categories=categories,
        description=description,
        x_label=x_label,
        y_label=y_label,
        rtl=rtl,
    )
