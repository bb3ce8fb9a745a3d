"""Query-parameter filters for the reference lists; a bad value is a 400 naming the parameter."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from opportunities.models import Occupation, Sector
from opportunities.selectors import occupation_search


class OccupationFilter(django_filters.FilterSet):
    # ``level`` is declared before ``q``: the search orders (and the view caps) the result.
    level = django_filters.ChoiceFilter(
        choices=Occupation.Level.choices,
        help_text="1 = major, 2 = sub-major, 3 = minor, 4 = unit group.",
        error_messages={
            "invalid_choice": _(
                "Level must be 1, 2, 3 or 4 (major, sub-major, minor or unit group); “%(value)s” is not."
            )
        },
    )
    q = django_filters.CharFilter(
        method="search",
        max_length=100,
        help_text="Words from a title in English, French or Spanish or an ESCO job title (best matches first, "
        "at most 50), or the first digits of a code.",
    )

    class Meta:
        model = Occupation
        fields = ["level", "q"]

    def search(self, queryset: QuerySet[Occupation], name: str, value: str) -> QuerySet[Occupation]:
        return occupation_search(query=value, queryset=queryset, limit=None)


class SectorFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(
        choices=[
            (Sector.Level.SECTION, Sector.Level.SECTION.label),
            (Sector.Level.DIVISION, Sector.Level.DIVISION.label),
        ],
        help_text="section (A–U) or division (two digits); both when absent.",
        error_messages={"invalid_choice": _("Level must be “section” or “division”; “%(value)s” is not.")},
    )

    class Meta:
        model = Sector
        fields = ["level"]
