"""The statistics page, its CSV downloads, and the open-data page: open to everyone.

Each reader sees the figures it may see (``exchange.statistics.selectors``); the
period filter is the API's (``exchange.statistics.inputs``), its errors shown inline.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from config.web import flatten_errors, public_page
from exchange.statistics import opendata
from exchange.statistics.inputs import parse_period
from exchange.statistics.output import chart_note, table_chart, table_csv
from exchange.statistics.selectors import TABLES, Period, reads_moderation, statistics_table, statistics_tables

FIELD_LABELS = {"from": _("From"), "to": _("To")}


def _period(request: HttpRequest) -> tuple[Period | None, list[tuple[str, str, str]]]:
    try:
        return parse_period(request.GET), []
    except ValidationError as error:
        errors = flatten_errors(error.detail)
        return None, [
            (f"period-{name}", str(FIELD_LABELS.get(name, "")), message)
            for name, messages in errors.items()
            for message in messages
        ]


@public_page
def statistics_view(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    period, errors = _period(request)
    context: dict[str, Any] = {
        "errors": errors,
        "values": {"from": request.GET.get("from", ""), "to": request.GET.get("to", "")},
    }
    if period is None:
        return render(request, "exchange/statistics/index.html", context, status=400)
    query = request.GET.urlencode()
    tables = statistics_tables(actor=actor, period=period)
    context.update(
        period=period,
        query=query,
        signed_in=actor.organisation is not None,
        agencies=reads_moderation(actor),
        sections=[{"table": table, "chart": table_chart(table), "note": chart_note(table)} for table in tables],
        outcomes=next(table for table in tables if table.name == "outcomes").extra["summary"],
    )
    return render(request, "exchange/statistics/index.html", context)


@public_page
def statistics_csv_view(request: HttpRequest, name: str) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if name not in TABLES or (name == "moderation-turnaround" and not reads_moderation(actor)):
        raise Http404
    period, errors = _period(request)
    if period is None:
        return HttpResponse("\n".join(message for _a, _l, message in errors), status=400, content_type="text/plain")
    return table_csv(statistics_table(actor=actor, name=name, period=period))


@public_page
def open_data_view(request: HttpRequest) -> HttpResponse:
    datasets = opendata.catalogue(base_url=request.build_absolute_uri("/").rstrip("/"))
    for dataset in datasets:
        # json.dumps, then "<", ">" and "&" escaped: nothing in it can close the <script> element.
        text = json.dumps(dataset["jsonld"], ensure_ascii=False)
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        dataset["jsonld_script"] = mark_safe(text)  # noqa: S308 (escaped above)
        dataset["dcat_text"] = escape(json.dumps(dataset["dcat"], ensure_ascii=False, indent=2))
    return render(request, "exchange/statistics/open_data.html", {"datasets": datasets})
