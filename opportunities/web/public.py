"""Public listing pages: no login, only published public listings.

Would-be migrants, journalists and researchers read here what governments publish
with ``visibility=public``. Every read starts from
``opportunities.selectors.public_listing_list()``, so a draft, a listing in
moderation, a members- or partners-only listing or a closed one is a 404, exactly
like a missing one, whoever asks. The search uses the API's filters
(``opportunities.api.filters.ListingFilter``), so the page and
``/api/v1/public/listings/`` find the same listings. What the public API leaves out
(the contact person, internal timestamps, the pending edit) is left out here too.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Sequence
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from config.forms import CachedSelect, OccupationField, sector_options
from config.web import csv_response, paginate, public_page
from opportunities import translations
from opportunities.api.filters import ListingFilter
from opportunities.models import NEWEST_FIRST, Direction, Language, Listing, SchemeType
from opportunities.selectors import public_listing_list

FILTERS = ("q", "direction", "scheme_type", "owner_country", "partner_country", "occupation")


def _published_countries() -> list[tuple[str, str]]:
    """Only the countries that publish public listings (a short list, not 249 options)."""
    codes = public_listing_list().order_by().values_list("owner_country", flat=True).distinct()
    return sorted(((code, countries.name(code) or code) for code in codes), key=lambda pair: pair[1])


class PublicSearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Search"),
        help_text=gettext_lazy("Words in any of English, French or Spanish: an occupation, a place, a scheme."),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    direction = forms.ChoiceField(label=gettext_lazy("Direction"), required=False, widget=CachedSelect)
    scheme_type = forms.ChoiceField(label=gettext_lazy("Scheme type"), required=False, widget=CachedSelect)
    owner_country = forms.ChoiceField(label=gettext_lazy("Published by the government of"), required=False)
    partner_country = forms.ChoiceField(
        label=gettext_lazy("Open to people from"),
        help_text=gettext_lazy("Listings naming this country as a partner, or open to every country."),
        required=False,
        widget=CachedSelect,
    )
    occupation = OccupationField(
        label=gettext_lazy("Occupation (ISCO-08)"),
        help_text=gettext_lazy("Type a code or words and choose from the suggestions."),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        anything = [("", _("Any"))]
        cast(forms.ChoiceField, self.fields["direction"]).choices = anything + list(Direction.choices)
        cast(forms.ChoiceField, self.fields["scheme_type"]).choices = anything + list(SchemeType.choices)
        cast(forms.ChoiceField, self.fields["owner_country"]).choices = anything + _published_countries()
        cast(forms.ChoiceField, self.fields["partner_country"]).choices = anything + [
            (code, name) for code, name in countries
        ]


def search(request: HttpRequest) -> tuple[PublicSearchForm, QuerySet[Listing]]:
    """The form (with any errors) and the public listings its valid fields select."""
    form = PublicSearchForm(request.GET or None)
    listings = public_listing_list().order_by(*NEWEST_FIRST, "id")
    if form.is_bound:
        form.is_valid()
        data = {name: form.cleaned_data[name] for name in FILTERS if form.cleaned_data.get(name)}
        if data:
            listings = ListingFilter(data=data, queryset=listings).qs
    return form, listings


@public_page
def listing_list_view(request: HttpRequest) -> HttpResponse:
    form, listings = search(request)
    page = paginate(request, listings)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "public/listing_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "searched": bool(query)},
    )


@public_page
def listing_export_view(request: HttpRequest) -> HttpResponseBase:
    _form, listings = search(request)
    header = [
        _("id"),
        _("title"),
        _("direction"),
        _("scheme type"),
        _("owner"),
        _("owner country"),
        _("partner countries"),
        _("occupations (ISCO-08 × quantity)"),
        _("total quantity"),
        _("window starts"),
        _("window ends"),
        _("application deadline"),
        _("published"),
        _("page"),
    ]

    def rows() -> Iterator[Sequence[Any]]:
        for listing in listings.iterator(chunk_size=500):
            yield [
                listing.pk,
                listing.title,
                listing.direction,
                listing.scheme_type,
                listing.owner.name,
                listing.owner_country,
                " ".join(listing.partner_countries),
                " ".join(f"{line.occupation_id}×{line.quantity}" for line in listing.occupation_lines.all()),
                listing.total_quantity,
                listing.starts_on,
                listing.ends_on,
                listing.application_deadline,
                listing.published_at.isoformat() if listing.published_at else "",
                request.build_absolute_uri(reverse("public:listing", kwargs={"pk": listing.pk})),
            ]

    return csv_response("corridor-public-listings.csv", header, rows())


# --- One listing -------------------------------------------------------------------------------


CONDITIONS = (
    ("housing", gettext_lazy("Housing provided")),
    ("social_security_coverage", gettext_lazy("Social security coverage")),
    ("pension_portability", gettext_lazy("Pension rights you can take home")),
    ("qualification_recognition", gettext_lazy("Recognition of qualifications")),
    ("pre_departure_training", gettext_lazy("Training before departure")),
    ("return_reintegration_support", gettext_lazy("Support to return and find work at home")),
    ("fair_recruitment", gettext_lazy("Fair recruitment: workers pay no recruitment fees")),
    ("equal_access_for_women", gettext_lazy("Equal access for women")),
    ("circular", gettext_lazy("Circular: you may come back in later seasons or years")),
)


def employment_type(listing: Listing) -> list[str]:
    """schema.org employmentType: seasonal schemes are SEASONAL, fixed stays TEMPORARY, else FULL_TIME."""
    if listing.scheme_type == SchemeType.SEASONAL:
        return ["SEASONAL"]
    if listing.circular or listing.max_stay_months or listing.duration_months_max:
        return ["TEMPORARY"]
    return ["FULL_TIME"]


def _country(code: str) -> dict[str, str]:
    return {"@type": "Country", "name": code}


def job_posting(listing: Listing, url: str, text: translations.DisplayText | None = None) -> dict[str, Any]:
    """The listing as a schema.org ``JobPosting`` (the closest type for places in a labour scheme).

    For demand, the jobs are in the owner's country and open to people from the
    partner countries; for supply (workers an origin government offers), the
    applicants are in the owner's country and the jobs in the partner countries.
    """
    text = text or translations.for_listing(listing, listing.text_language)
    partners = list(listing.partner_countries)
    if listing.direction == Direction.DEMAND:
        job_countries, applicant_countries = [listing.owner_country], partners
    else:
        job_countries, applicant_countries = partners, [listing.owner_country]
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "JobPosting",
        "identifier": {"@type": "PropertyValue", "name": "Corridor", "value": str(listing.pk)},
        "url": url,
        "title": text.title,
        "description": text.description or text.summary or text.title,
        "datePosted": (listing.published_at or listing.created_at).date().isoformat(),
        # The last day one can apply, to its end.
        "validThrough": datetime.datetime.combine(listing.application_deadline, datetime.time(23, 59, 59)).isoformat(),
        "employmentType": employment_type(listing),
        "hiringOrganization": {"@type": "Organization", "name": listing.owner.name},
        "jobStartDate": listing.starts_on.isoformat(),
        "totalJobOpenings": listing.total_quantity,
        "occupationalCategory": [
            {
                "@type": "CategoryCode",
                "codeValue": line.occupation_id,
                "name": line.occupation.title,
                "inCodeSet": "ISCO-08",
            }
            for line in listing.occupation_lines.all()
        ],
        "directApply": False,
    }
    if job_countries:
        data["jobLocation"] = [
            {"@type": "Place", "address": {"@type": "PostalAddress", "addressCountry": code}} for code in job_countries
        ]
    if applicant_countries:
        data["applicantLocationRequirements"] = [_country(code) for code in applicant_countries]
    if text.language:
        data["inLanguage"] = text.language
    if text.summary and text.description:
        data["abstract"] = text.summary
    if listing.wage_floor_monthly is not None and listing.currency:
        data["baseSalary"] = {
            "@type": "MonetaryAmount",
            "currency": listing.currency,
            "value": {"@type": "QuantitativeValue", "minValue": float(listing.wage_floor_monthly), "unitText": "MONTH"},
        }
    benefits = [str(label) for name, label in CONDITIONS if getattr(listing, name)]
    if benefits:
        data["jobBenefits"] = "; ".join(benefits)
    return data


def json_ld(data: dict[str, Any]) -> SafeString:
    """JSON safe inside ``<script>``: <, > and & escaped as JSON escapes (as ``json_script`` does)."""
    text = json.dumps(data, ensure_ascii=False, indent=None, sort_keys=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return mark_safe(text)  # noqa: S308 - escaped above for a script element


def _country_names(codes: Sequence[str]) -> list[str]:
    return [countries.name(code) or code for code in codes]


@public_page
def listing_detail_view(request: HttpRequest, pk: Any) -> HttpResponse:
    listing = get_object_or_404(public_listing_list(), pk=pk)
    url = request.build_absolute_uri(reverse("public:listing", kwargs={"pk": listing.pk}))
    lines = list(listing.occupation_lines.all())
    codes = {str(item.get("language")) for line in lines for item in line.languages or []}
    names = {lang.code: lang.name for lang in Language.objects.filter(code__in=codes)} if codes else {}
    sectors = dict(sector_options())
    text = translations.for_request(request, listing)
    context = {
        "listing": listing,
        "text": text,
        "lines": [
            {
                "line": line,
                "languages": [
                    f"{names.get(str(item.get('language')), item.get('language'))} {item.get('level')}"
                    for item in line.languages or []
                ],
            }
            for line in lines
        ],
        "owner_country": countries.name(listing.owner_country) or listing.owner_country,
        "partner_countries": _country_names(listing.partner_countries),
        "allocations": [
            {**item, "country": countries.name(item.get("country")) or item.get("country")}
            for item in listing.allocations or []
        ],
        "sectors": [sectors.get(code, code) for code in listing.sectors],
        "conditions": [(label, bool(getattr(listing, name))) for name, label in CONDITIONS],
        "json_ld": json_ld(job_posting(listing, url, text)),
    }
    return render(request, "public/listing_detail.html", context)
