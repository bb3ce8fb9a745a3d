"""The search of the listing pages: the API's filters with pickers, labels and widgets for people.

The filtering itself is the API's (``opportunities.api.filters.ListingFilter``'s
methods), so a search finds the same listings on the page, in the CSV and through
``GET /api/v1/listings/``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from config.filters import StrictBooleanFilter
from config.forms import CachedSelect, CountriesField, OccupationField, SectorField
from opportunities.access import open_to_country
from opportunities.api.filters import ListingFilter
from opportunities.models import Direction, Listing, ListingStatus, SchemeType
from opportunities.web.forms.fields import DateInput

YES_NO_ANY = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]


class OccupationFilter(django_filters.CharFilter):
    field_class = OccupationField


class SectorFilter(django_filters.CharFilter):
    field_class = SectorField


class CountriesFilter(django_filters.Filter):
    field_class = CountriesField


class ListingSearchFilter(ListingFilter):
    """The API's filters (``opportunities.api.filters.ListingFilter``) with pickers for people.

    Countries are multiple choices here (``?owner_country=IT&owner_country=ES``): a
    single one is exactly the API's filter.
    """

    q = django_filters.CharFilter(
        method="filter_q",
        max_length=200,
        label=_("Search"),
        help_text=_("Words from the title or description, or an occupation, in English, French or Spanish."),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    direction = django_filters.ChoiceFilter(
        choices=Direction.choices, label=_("Direction"), empty_label=_("Demand and supply"), widget=CachedSelect
    )
    scheme_type = django_filters.ChoiceFilter(
        choices=SchemeType.choices, label=_("Scheme type"), empty_label=_("Any scheme type"), widget=CachedSelect
    )
    status = django_filters.ChoiceFilter(
        choices=ListingStatus.choices, label=_("Status"), empty_label=_("Any status"), widget=CachedSelect
    )
    mine = django_filters.BooleanFilter(
        method="filter_mine", label=_("Only my organisation's listings"), widget=forms.CheckboxInput
    )
    occupation = OccupationFilter(
        method="filter_occupation",
        label=_("Occupation (ISCO-08)"),
        help_text=_("Type a code or a word, e.g. 2221 or nurse. A group finds every occupation in it: 61 finds 6111."),
    )
    sector = SectorFilter(
        method="filter_sector",
        label=_("Sector (ISIC Rev.4)"),
        help_text=_("A section (a letter) or a division (two digits). A section also finds its divisions."),
    )
    owner_country = CountriesFilter(method="filter_owner_countries", label=_("Posted by governments of"))
    partner_country = CountriesFilter(
        method="filter_partner_countries",
        label=_("Open to workers or employers of"),
        help_text=_("Listings naming one of these countries as a partner, or open to every country."),
    )
    open = StrictBooleanFilter(
        method="filter_open",
        label=_("Applications"),
        widget=CachedSelect(choices=[("", _("Open or closed")), ("true", _("Still open")), ("false", _("Closed"))]),
    )
    window_start = django_filters.DateFilter(method="filter_window", label=_("Window from"), widget=DateInput)
    window_end = django_filters.DateFilter(
        method="filter_window",
        label=_("Window until"),
        help_text=_("Listings whose window overlaps these dates."),
        widget=DateInput,
    )
    fair_recruitment = StrictBooleanFilter(
        field_name="fair_recruitment",
        label=_("Workers pay no recruitment fees"),
        widget=CachedSelect(choices=YES_NO_ANY),
    )
    pension_portability = StrictBooleanFilter(
        field_name="pension_portability",
        label=_("Pension portability"),
        widget=CachedSelect(choices=YES_NO_ANY),
    )
    ordering = ListingFilter.base_filters["ordering"].__class__(
        fields=["published_at", "application_deadline", "total_quantity"],
        field_labels={
            "published_at": _("Publication date"),
            "application_deadline": _("Application deadline"),
            "total_quantity": _("Number of places or workers"),
        },
        label=_("Sort by"),
        empty_label=_("Best match, then newest"),
        widget=CachedSelect,
    )

    ORDER = ("q", "mine", "direction", "scheme_type", "status", "occupation", "sector", "owner_country")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The form shows the filters in this order, the others after them.
        self.filters: dict[str, Any] = {
            **{name: self.filters[name] for name in self.ORDER},
            **{name: f for name, f in self.filters.items() if name not in self.ORDER},
        }

    def filter_mine(self, qs: QuerySet[Listing], name: str, value: bool | None) -> QuerySet[Listing]:
        actor = getattr(self.request, "actor", None)
        if not value or actor is None or actor.organisation is None:
            return qs
        return qs.filter(owner=actor.organisation)

    def filter_owner_countries(self, qs: QuerySet[Listing], name: str, value: list[str]) -> QuerySet[Listing]:
        if not value:
            return qs
        if len(value) == 1:
            return self.filter_owner_country(qs, name, value[0])
        return qs.filter(owner_country__in=[self._country(name, code) for code in value])

    def filter_partner_countries(self, qs: QuerySet[Listing], name: str, value: list[str]) -> QuerySet[Listing]:
        if not value:
            return qs
        if len(value) == 1:
            return self.filter_partner_country(qs, name, value[0])
        # Open to any of them: the API's rule for one country, for each.
        condition = Q()
        for code in (self._country(name, code) for code in value):
            condition |= open_to_country(code)
        return qs.filter(condition)

    @property
    def searched(self) -> bool:
        return any(value not in (None, "", [], False) for value in getattr(self.form, "cleaned_data", {}).values())
