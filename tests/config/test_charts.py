"""The server-side SVG charts: nice scales, marks that carry their values, escaping, RTL."""

from __future__ import annotations

import re
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.utils import translation

from config.charts import Series, bar_chart, decimals_of, format_number, line_chart, nice_scale

SVG = "{http://www.w3.org/2000/svg}"


def parse(chart) -> ElementTree.Element:
    return ElementTree.fromstring(str(chart.svg))  # noqa: S314  # our own markup, in a test


def points(chart) -> list[tuple[str, str]]:
    root = parse(chart)
    return [
        (el.get("data-value") or "", el.find(f"{SVG}title").text or "")
        for el in root.iter()
        if el.get("class") == "point"
    ]


@pytest.mark.parametrize(
    ("values", "zero", "expected"),
    [
        ([0, 97], False, (0, 100, 20)),
        ([3, 7.2], False, (3, 8, 1)),
        ([1200, 48000], True, (0, 50000, 10000)),
        ([0.71, 0.74], False, (0.71, 0.74, 0.01)),
        ([-3500, 1200], True, (-4000, 2000, 1000)),
    ],
)
def test_it_picks_nice_ticks_that_cover_the_data(values, zero, expected):
    scale = nice_scale(values, include_zero=zero)
    assert (pytest.approx(scale.low), pytest.approx(scale.high), pytest.approx(scale.step)) == expected
    assert scale.ticks[0] <= min(values) and scale.ticks[-1] >= max(values)
    assert all(abs(t / scale.step - round(t / scale.step)) < 1e-6 for t in scale.ticks)


def test_it_gives_one_value_a_band_around_it():
    scale = nice_scale([42])
    assert scale.low < 42 < scale.high
    assert nice_scale([0]).high > nice_scale([0]).low
    assert nice_scale([], include_zero=True).ticks[0] == 0


def test_a_bar_axis_always_includes_zero():
    scale = nice_scale([120, 130], include_zero=True)
    assert scale.low == 0 and scale.high >= 130


def test_a_line_chart_puts_each_value_on_a_mark_with_its_title_and_description():
    chart = line_chart(
        chart_id="stock",
        title="Emigrant stock",
        series=[Series("Total", [(2015, Decimal("1000")), (2020, Decimal("1250.5")), (2010, Decimal("900"))])],
    )
    root = parse(chart)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "stock-title stock-desc"
    assert root.find(f"{SVG}title").text == "Emigrant stock"
    assert "2010 to 2020" in root.find(f"{SVG}desc").text
    assert chart.categories == ["2010", "2015", "2020"]  # years sorted as numbers
    assert points(chart) == [
        ("900", "Total, 2010: 900.0"),
        ("1000", "Total, 2015: 1,000.0"),
        ("1250.5", "Total, 2020: 1,250.5"),
    ]
    assert len(root.findall(f".//{SVG}polyline")) == 1


def test_the_marks_follow_the_x_order_of_their_years():
    chart = line_chart(chart_id="x", title="t", series=[Series("T", [(2020, 5), (2018, 3), (2019, 4)])])
    xs = [float(el.get("cx")) for el in parse(chart).iter(f"{SVG}circle")]
    assert xs == sorted(xs)


def test_an_empty_chart_says_so_and_draws_no_marks():
    chart = line_chart(chart_id="empty", title="Nothing", series=[Series("Total", [])])
    assert chart.is_empty and points(chart) == []
    assert "No figures to show." in str(chart.svg)


def test_a_single_point_is_a_mark_without_a_line():
    chart = line_chart(chart_id="one", title="One", series=[Series("Total", [(2024, 7)])])
    assert points(chart) == [("7", "Total, 2024: 7")]
    assert parse(chart).findall(f".//{SVG}polyline") == []


def test_negative_bars_hang_below_the_zero_line():
    chart = bar_chart(chart_id="net", title="Net migration", series=[Series("Total", [(2022, -3500), (2023, 1200)])])
    root = parse(chart)
    zero = next(
        float(line.get("y1"))
        for line in root.iter(f"{SVG}line")
        if line.get("stroke") == "#0b0c0c" and line.get("y1") == line.get("y2")
    )
    bars = {el.get("data-value"): el for el in root.iter(f"{SVG}rect") if el.get("class") == "point"}
    assert float(bars["-3500"].get("y")) == pytest.approx(zero)  # starts at zero, goes down
    assert float(bars["1200"].get("y")) + float(bars["1200"].get("height")) == pytest.approx(zero, abs=0.2)


def test_grouped_bars_tell_series_apart_by_pattern_not_colour_alone():
    chart = bar_chart(
        chart_id="sex",
        title="By sex",
        series=[Series("Women", [(2023, 40)]), Series("Men", [(2023, 60)]), Series("Total", [(2023, 100)])],
    )
    fills = [el.get("fill") for el in parse(chart).iter(f"{SVG}rect") if el.get("class") == "point"]
    assert len(set(fills)) == 3 and sum(fill.startswith("url(#sex-p") for fill in fills) == 2
    assert "Women" in str(chart.svg) and "Men" in str(chart.svg)  # a legend names them


def test_it_escapes_every_text_it_is_given():
    evil = '<script>alert("x")</script>&'
    chart = bar_chart(
        chart_id='a"><script>',
        title=evil,
        description=evil,
        x_label=evil,
        y_label=evil,
        series=[Series(evil, [(evil, 1)])],
    )
    markup = str(chart.svg)
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    parse(chart)  # still well-formed XML
    assert chart.chart_id == "a---script-"


def test_numbers_follow_the_active_locale():
    with translation.override("fr"):
        assert format_number(Decimal("1234567.5")).replace("\u202f", " ").replace("\xa0", " ") == "1 234 567,5"
    with translation.override("es"):
        assert format_number(Decimal("1234.25")).replace("\xa0", " ") in ("1.234,25", "1 234,25")
    with translation.override("en"):
        assert format_number(Decimal("1234.2500")) == "1,234.25"
    assert decimals_of(Decimal("12.5000")) == 1 and decimals_of(Decimal("3E+2")) == 0


def test_right_to_left_mirrors_the_axis():
    series = [Series("T", [(2020, 1), (2021, 2)])]
    ltr = [
        float(el.get("cx"))
        for el in parse(line_chart(chart_id="l", title="t", series=series, rtl=False)).iter(f"{SVG}circle")
    ]
    rtl = [
        float(el.get("cx"))
        for el in parse(line_chart(chart_id="r", title="t", series=series, rtl=True)).iter(f"{SVG}circle")
    ]
    assert ltr[0] < ltr[1] and rtl[0] > rtl[1]
    with translation.override("ar"):
        assert line_chart(chart_id="a", title="t", series=series).rtl is True


def test_the_table_rows_carry_the_same_values_as_the_marks():
    chart = bar_chart(
        chart_id="t", title="t", series=[Series("Women", [(2022, 4), (2023, 5)]), Series("Men", [(2023, 6)])]
    )
    cells = [(cell["raw"], cell["text"]) for row in chart.rows for cell in row["cells"]]
    assert cells == [("4", "4"), ("", ""), ("5", "5"), ("6", "6")]
    assert {value for value, _ in points(chart)} == {"4", "5", "6"}
    assert re.search(r"values from 4 to 6", chart.summary)
