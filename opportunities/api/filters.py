"""Query parameters of GET /api/v1/listings/ (and the CSV export, and the public list).

Every parameter is validated: a bad value is a 400 naming it, never an ignored filter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import django_filters
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, OrderBy, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from config.filters import StrictBooleanFilter
from opportunities import reference
from opportunities.access import open_to_country
from opportunities.models import Direction, Listing, ListingStatus, SchemeType, Sector
from opportunities.selectors import listing_query, listing_rank

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

COUNTRY_CHOICES = [(code, code) for code, _name in countries]


class UpperChoiceFilter(django_filters.ChoiceFilter):
    """Country codes in any case ("ma" is MA)."""

    def filter(self, qs: QuerySet[Listing], value: str) -> QuerySet[Listing]:
        return super().filter(qs, value.upper() if value else value)


# Appended to every ordering so that ties (equal quantities, one deadline for many
# listings) come back in the same order on every page: LIMIT/OFFSET over a partly
# ordered set may repeat a listing on one page and skip another.
TIEBREAK = ("-created_at", "id")


class StableOrderingFilter(django_filters.OrderingFilter):
    def filter(self, qs: QuerySet[Listing], value: list[str] | None) -> QuerySet[Listing]:
        ordering = [_never_published_last(self.get_ordering_value(param)) for param in value or [] if param]
        return qs.order_by(*ordering, *TIEBREAK) if ordering else qs


def _never_published_last(ordering: str) -> str | OrderBy:
    """Listings never published come last both ways, as in the default order (``NEWEST_FIRST``,
    whose index then serves ``-published_at`` too); ascending puts them last already."""
    return F("published_at").desc(nulls_last=True) if ordering == "-published_at" else ordering


class ListingFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        max_length=200,
        help_text=_(
            "Full text over title, summary, description and the listing's occupations (their titles in "
            "English, French and Spanish and their ESCO job titles). Best matches first unless `ordering` is given."
        ),
    )
    direction = django_filters.ChoiceFilter(choices=Direction.choices)
    scheme_type = django_filters.ChoiceFilter(choices=SchemeType.choices)
    status = django_filters.ChoiceFilter(choices=ListingStatus.choices)
    owner_country = django_filters.CharFilter(method="filter_owner_country", help_text=_("ISO 3166-1 alpha-2."))
    partner_country = django_filters.CharFilter(
        method="filter_partner_country",
        help_text=_("Listings open to this country: it is a partner, or the listing is open to all."),
    )
    occupation = django_filters.CharFilter(
        method="filter_occupation", help_text=_("An ISCO-08 code or prefix at any level: 61 finds 6111.")
    )
    sector = django_filters.CharFilter(
        method="filter_sector",
        help_text=_("An ISIC Rev.4 section or division; a section also finds listings tagged with its divisions."),
    )
    open = StrictBooleanFilter(method="filter_open", help_text=_("true: the application deadline has not passed."))
    window_start = django_filters.DateFilter(
        method="filter_window",
        help_text=_("With window_end: listings whose window overlaps [window_start, window_end]."),
    )
    window_end = django_filters.DateFilter(method="filter_window")
    fair_recruitment = StrictBooleanFilter()
    pension_portability = StrictBooleanFilter()
    ordering = StableOrderingFilter(
        fields=["published_at", "application_deadline", "total_quantity"],
        help_text=_("published_at, application_deadline or total_quantity; prefix - for descending."),
    )

    class Meta:
        model = Listing
        fields: list[str] = []

    # The methods validate their own codes, so a typo answers 400 rather than an empty list.

    def _fail(self, name: str, message: StrOrPromise) -> None:
        from rest_framework.exceptions import ValidationError

        raise ValidationError({name: [message]})

    def _country(self, name: str, value: str) -> str:
        code = value.strip().upper()
        if code not in dict(countries):
            self._fail(name, _("'%(code)s' is not an ISO 3166-1 alpha-2 country code.") % {"code": value})
        return code

    def filter_owner_country(self, qs: QuerySet[Listing], name: str, value: str) -> QuerySet[Listing]:
        return qs.filter(owner_country=self._country(name, value))

    def filter_partner_country(self, qs: QuerySet[Listing], name: str, value: str) -> QuerySet[Listing]:
        code = self._country(name, value)
        return qs.filter(open_to_country(code))

    def filter_occupation(self, qs: QuerySet[Listing], name: str, value: str) -> QuerySet[Listing]:
        code = value.strip()
        if not reference.isco_exists(code):
            self._fail(name, _("'%(code)s' is not an ISCO-08 code or prefix.") % {"code": value})
        return qs.filter(isco_prefixes__contains=[code])

    def filter_sector(self, qs: QuerySet[Listing], name: str, value: str) -> QuerySet[Listing]:
        code = value.strip().upper()
        if reference.isic_exists(code, level="division"):
            return qs.filter(sectors__contains=[code])
        if not reference.isic_exists(code, level="section"):
            self._fail(name, _("'%(code)s' is not an ISIC Rev.4 section or division.") % {"code": value})
        # A listing tagged "01" (crop production) is in section A (agriculture) though it
        # does not say "A": match the section or any of its divisions, in the same query.
        divisions = Sector.objects.filter(parent_id=code, level=Sector.Level.DIVISION).values("code")
        return qs.filter(Q(sectors__contains=[code]) | Q(sectors__overlap=ArraySubquery(divisions)))

    def filter_open(self, qs: QuerySet[Listing], name: str, value: bool | None) -> QuerySet[Listing]:
        if value is None:
            return qs
        today = timezone.localdate()
        return qs.filter(application_deadline__gte=today) if value else qs.filter(application_deadline__lt=today)

    def filter_window(self, qs: QuerySet[Listing], name: str, value: object) -> QuerySet[Listing]:
        # Applied once, for whichever bound the request gives (both read from the form).
        start, end = self.form.cleaned_data.get("window_start"), self.form.cleaned_data.get("window_end")
        if start and end and end < start:
            self._fail("window_end", _("window_end must not be before window_start."))
        if name == "window_start" or not start:
            if start:
                qs = qs.filter(ends_on__gte=start)
            if end:
                qs = qs.filter(starts_on__lte=end)
        return qs

    def filter_q(self, qs: QuerySet[Listing], name: str, value: str) -> QuerySet[Listing]:
        query = listing_query(value)
        if query is None:
            return qs
        qs = qs.filter(search_vector=query)
        if not self.data.get("ordering"):
            qs = qs.annotate(rank=listing_rank(value)).order_by("-rank", "-published_at", *TIEBREAK)
        return qs
