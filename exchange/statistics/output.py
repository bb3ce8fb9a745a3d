"""One statistics table in its three shapes: JSON (the API), CSV (the API and the page), a chart (the page).

All three are built from the same ``Table``, so they cannot disagree; the tests hold
the CSV and the chart's marks to the JSON.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _

from config.charts import Chart, Series, bar_chart, line_chart
from config.web import csv_cell
from exchange.outcomes.ledger import SMALL_CELL_LABEL
from exchange.statistics.selectors import Period, Table


def table_payload(table: Table, period: Period) -> dict[str, Any]:
    """The API's body for one table."""
    return {
        "name": table.name,
        "title": str(table.title),
        "period": period.as_dict(),
        "columns": [{"key": c.key, "label": str(c.label), "numeric": c.numeric} for c in table.columns],
        "rows": table.rows,
        **{key: value for key, value in table.extra.items() if key != "small_cells"},
    }


def table_csv_text(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.key for c in table.columns])
    for row in table.rows:
        writer.writerow([csv_cell(row.get(c.key)) for c in table.columns])
    return out.getvalue()


def table_csv(table: Table) -> HttpResponse:
    """The table as a CSV file: one header row of column keys, then the rows as the JSON has them."""
    response = HttpResponse(table_csv_text(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{table.name}.csv"'
    return response


def _plotted(value: Any) -> Any:
    """A small cell ("<5") has no height to draw: the chart leaves a gap, the table says "<5"."""
    return value if isinstance(value, int | float) else None


def table_chart(table: Table) -> Chart:
    """The table's chart: bars per category (a line over the months for moderation turnaround)."""
    labels = {c.key: str(c.label) for c in table.columns}
    series = [
        Series(labels[key], [(str(row[table.category]), _plotted(row[key])) for row in table.rows])
        for key in table.chart_series
    ]
    categories = [str(row[table.category]) for row in table.rows]
    description = _("%(title)s: %(count)s rows; the table beside the chart gives every figure.") % {
        "title": table.title,
        "count": len(table.rows),
    }
    if table.category == "month":
        return line_chart(chart_id=f"chart-{table.name}", title=str(table.title), series=series)
    chart = bar_chart(
        chart_id=f"chart-{table.name}",
        title=str(table.title),
        series=series,
        categories=categories,
        description=description if table.rows else "",
    )
    # Words along the axis need room (the SVG scales down on a narrow screen).
    chart.width = table.chart_width
    return chart


def chart_note(table: Table) -> str:
    """The words under a chart: the table's own note, and why a small cell has no bar."""
    notes = [str(table.note)] if table.note else []
    if any(value == SMALL_CELL_LABEL for row in table.rows for value in row.values()):
        notes.append(_("Counts of fewer than 5 people are not drawn; the full table shows them as <5."))
    return " ".join(notes)
