"""Corridor pages: the corridors of the reader's country, and one corridor (docs/corridors.md).

Both require sign-in, as the profile pages do (anonymous readers have the public
listings and public profiles). Every figure comes from
``exchange.corridors.selectors``, which reads through the access layer; the API
(``exchange/api/corridors.py``) gives the same figures.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django_countries import countries

from accounts.tenancy import Actor
from config.charts import Chart, Series, bar_chart, format_number
from config.web import actor_required
from exchange.corridors import selectors
from exchange.models import MatchState
from opportunities.models import Direction


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _country_choices() -> list[tuple[str, str]]:
    return [(str(code), str(name)) for code, name in countries]


@actor_required
def corridor_list_view(request: HttpRequest) -> HttpResponse:
    """The corridors the reader's country is in (from the listings it may read), and a form to open any pair."""
    actor = _actor(request)
    origin = request.GET.get("origin", "").strip().upper()
    destination = request.GET.get("destination", "").strip().upper()
    error = ""
    if origin or destination:
        if selectors.parse_corridor(origin, destination) is not None:
            return redirect("exchange:corridor", origin=origin, destination=destination)
        error = _("Choose two different countries.")
    context = {
        "corridors": selectors.reader_corridors(actor=actor),
        "countries": _country_choices(),
        "origin": origin,
        "destination": destination,
        "error": error,
    }
    return render(request, "exchange/corridors/list.html", context)


def _places_chart(rows: list[dict[str, Any]], origin_name: str, destination_name: str) -> Chart:
    return bar_chart(
        chart_id="corridor-places",
        title=_("Places offered and workers offered, by ISCO major group"),
        categories=[row["group"] for row in rows],
        series=[
            Series(
                _("Places offered by %(country)s") % {"country": destination_name},
                [(row["group"], row["places"]) for row in rows],
            ),
            Series(
                _("Workers offered by %(country)s") % {"country": origin_name},
                [(row["group"], row["workers"]) for row in rows],
            ),
        ],
        x_label=_("ISCO-08 major group"),
        y_label=_("People"),
    )


def _shown(figure: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if figure is None else {**figure, "text": format_number(figure["value"])}


@actor_required
def corridor_detail_view(request: HttpRequest, origin: str, destination: str) -> HttpResponse:
    """One corridor, as the reader may see it."""
    pair = selectors.parse_corridor(origin, destination)
    if pair is None:
        raise Http404(_("Not a corridor."))
    view = selectors.corridor_view(actor=_actor(request), origin=pair[0], destination=pair[1])
    origin_name, destination_name = selectors.country_name(origin), selectors.country_name(destination)
    origin_profile, destination_profile = view.profiles[origin], view.profiles[destination]
    indicators = [
        {
            "indicator": indicator,
            "origin": _shown(origin_profile.figures.get(indicator.code)),
            "destination": _shown(destination_profile.figures.get(indicator.code)),
        }
        for indicator in view.indicators
    ]
    context = {
        "view": view,
        "origin": origin,
        "destination": destination,
        "origin_name": origin_name,
        "destination_name": destination_name,
        "demand": [listing for listing in view.listings if listing.direction == Direction.DEMAND],
        "supply": [listing for listing in view.listings if listing.direction == Direction.SUPPLY],
        "chart": _places_chart(view.by_major_group, origin_name, destination_name),
        "major_groups": view.by_major_group,
        "matches": [(MatchState(state).label, count) for state, count in view.matches.items()],
        "indicators": indicators,
        "origin_profile": origin_profile.profile,
        "destination_profile": destination_profile.profile,
    }
    return render(request, "exchange/corridors/detail.html", context)
