"""Open data: public, published figures as downloadable datasets, described for catalogues.

Two datasets (docs/statistics.md):

* ``outcome-totals``: the ledger's effective entries summed per public published
  scheme (a demand listing with ``visibility=public``): quota, selected, women
  selected, arrived, returned and the return rate;
* ``public-listings``: the published public listings, one row each.

Every count reaches its reader through ``small_cell`` (fewer than 5 is ``"<5"``),
and a rate whose denominator is a small cell is left empty. Each dataset is
described twice: a schema.org ``Dataset`` (JSON-LD, for search engines; the page
``/open-data/`` embeds it) and a DCAT ``dcat:Dataset`` (for data portals).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Max, Min, QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import Actor, through_access
from config.web import csv_cell
from exchange.models import OutcomeEntry, OutcomeStage, OutcomeTotal
from exchange.outcomes.ledger import effective_entries, small_cell
from exchange.statistics.selectors import _fetch, _sql
from opportunities.access import listing_visible_to
from opportunities.models import Direction, Listing
from opportunities.selectors import public_listing_list

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
CREATOR = "Corridor"


@dataclass(frozen=True)
class Dataset:
    name: str
    title: Any
    description: Any
    header: Sequence[str]
    rows: Callable[[], Iterable[Sequence[Any]]]
    coverage: Callable[[], dict[str, Any]]


# --- Outcome totals per scheme -----------------------------------------------------------------

OUTCOME_HEADER = (
    "listing_id",
    "title",
    "destination_country",
    "scheme_type",
    "quota",
    "selected",
    "selected_women",
    "arrived",
    "returned",
    "return_rate",
)


@through_access("open data: effective ledger entries of public published schemes")
def _public_scheme_entries() -> QuerySet[OutcomeEntry]:
    schemes = listing_visible_to(actor=Actor.anonymous()).filter(direction=Direction.DEMAND).values("pk")
    return effective_entries(OutcomeEntry.objects.filter(listing__in=schemes)).order_by()


@through_access("open data: the ledger's sums (its effective entries) of public published schemes")
def _public_scheme_sums() -> QuerySet[OutcomeTotal]:
    schemes = listing_visible_to(actor=Actor.anonymous()).filter(direction=Direction.DEMAND).values("pk")
    return OutcomeTotal.objects.filter(listing__in=schemes, entries__gt=0).order_by()


def outcome_rows() -> list[tuple[Any, ...]]:
    """One row per public published scheme with entries (one SQL aggregate over the kept sums,
    ``exchange.outcomes.totals``); counts as ``small_cell``."""
    sums, params = _sql(_public_scheme_sums().values("listing_id", "stage", "people", "women"))
    rows = _fetch(
        f"WITH e AS ({sums}) "  # noqa: S608 (our own SQL around a compiled queryset)
        "SELECT li.id, li.title, li.owner_country, li.scheme_type, "
        "  (SELECT COALESCE(SUM((a.value ->> 'places')::int), 0) "
        "   FROM jsonb_array_elements(li.allocations) a) AS quota, "
        f"  COALESCE(SUM(e.people) FILTER (WHERE e.stage = '{OutcomeStage.SELECTED}'), 0) AS selected, "
        f"  COALESCE(SUM(e.women) FILTER (WHERE e.stage = '{OutcomeStage.SELECTED}'), 0) AS women, "
        f"  COALESCE(SUM(e.people) FILTER (WHERE e.stage = '{OutcomeStage.ARRIVED}'), 0) AS arrived, "
        f"  COALESCE(SUM(e.people) FILTER (WHERE e.stage = '{OutcomeStage.RETURNED}'), 0) AS returned, "
        f"  ROUND(100.0 * SUM(e.people) FILTER (WHERE e.stage = '{OutcomeStage.RETURNED}') "
        f"    / NULLIF(SUM(e.people) FILTER (WHERE e.stage = '{OutcomeStage.ARRIVED}'), 0), 1) AS return_rate "
        "FROM e JOIN opportunities_listing li ON li.id = e.listing_id "
        "GROUP BY li.id ORDER BY li.owner_country, li.title, li.id",
        params,
    )
    return [
        (
            str(row["id"]),
            row["title"],
            row["owner_country"],
            row["scheme_type"],
            row["quota"],
            small_cell(row["selected"]),
            small_cell(row["women"]),
            small_cell(row["arrived"]),
            small_cell(row["returned"]),
            None
            if row["return_rate"] is None or small_cell(row["arrived"]) != row["arrived"]
            else float(row["return_rate"]),
        )
        for row in rows
    ]


def outcome_coverage() -> dict[str, Any]:
    span = _public_scheme_entries().aggregate(
        first=Min("period"), last=Max("period"), issued=Min("created_at"), modified=Max("created_at")
    )
    countries = sorted(set(_public_scheme_entries().values_list("listing__owner_country", flat=True).distinct()))
    return {**span, "countries": countries}


# --- Public listings ---------------------------------------------------------------------------

LISTING_HEADER = (
    "id",
    "url",
    "title",
    "direction",
    "scheme_type",
    "owner_country",
    "partner_countries",
    "sectors",
    "isco_codes",
    "quantity",
    "starts_on",
    "ends_on",
    "application_deadline",
    "fair_recruitment",
    "pension_portability",
    "qualification_recognition",
    "equal_access_for_women",
    "gender_target_percent",
    "published_at",
)


def _public_listings() -> QuerySet[Listing]:
    return public_listing_list().order_by("published_at", "id")


def listing_rows() -> Iterable[tuple[Any, ...]]:
    for listing in _public_listings().prefetch_related(None).prefetch_related("occupation_lines"):
        yield (
            str(listing.pk),
            f"{settings.SITE_URL}/public/listings/{listing.pk}/",
            listing.title,
            listing.direction,
            listing.scheme_type,
            listing.owner_country,
            " ".join(listing.partner_countries),
            " ".join(listing.sectors),
            " ".join(line.occupation_id for line in listing.occupation_lines.all()),
            small_cell(listing.total_quantity),
            listing.starts_on.isoformat(),
            listing.ends_on.isoformat(),
            listing.application_deadline.isoformat(),
            listing.fair_recruitment,
            listing.pension_portability,
            listing.qualification_recognition,
            listing.equal_access_for_women,
            listing.gender_target_percent,
            listing.published_at.isoformat() if listing.published_at else "",
        )


def listing_coverage() -> dict[str, Any]:
    listings = _public_listings().order_by()
    span = listings.aggregate(
        first=Min("starts_on"), last=Max("ends_on"), issued=Min("published_at"), modified=Max("published_at")
    )
    return {**span, "countries": sorted(set(listings.values_list("owner_country", flat=True).distinct()))}


DATASETS: dict[str, Dataset] = {
    "outcome-totals": Dataset(
        name="outcome-totals",
        title=_("Outcome totals per scheme"),
        description=_(
            "For each public published scheme, the people selected (and the women among them), arrived and "
            "returned, as its two governments reported them in the outcomes ledger (corrections applied), "
            "against the scheme's quota. Counts of fewer than 5 people are shown as <5."
        ),
        header=OUTCOME_HEADER,
        rows=outcome_rows,
        coverage=outcome_coverage,
    ),
    "public-listings": Dataset(
        name="public-listings",
        title=_("Public listings"),
        description=_(
            "The published public listings: labour-migration schemes offered by destination governments and "
            "workers offered by origin governments, with their occupations, sectors, window and provisions. "
            "Quantities below 5 are shown as <5."
        ),
        header=LISTING_HEADER,
        rows=listing_rows,
        coverage=listing_coverage,
    ),
}


# --- Descriptions ------------------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else (str(value) if value else None)


def describe(dataset: Dataset, *, base_url: str) -> dict[str, Any]:
    """The dataset's catalogue entry: its CSV's URL, a schema.org Dataset and a DCAT Dataset."""
    coverage = dataset.coverage()
    csv_url = f"{base_url}/api/v1/open-data/{dataset.name}.csv"
    page_url = f"{base_url}/open-data/#{dataset.name}"
    first, last = _iso(coverage["first"]), _iso(coverage["last"])
    temporal = f"{first}/{last}" if first and last else None
    jsonld: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "@id": page_url,
        "name": str(dataset.title),
        "description": str(dataset.description),
        "url": page_url,
        "license": LICENSE,
        "isAccessibleForFree": True,
        "creator": {"@type": "Organization", "name": CREATOR, "url": base_url + "/"},
        "distribution": [{"@type": "DataDownload", "encodingFormat": "text/csv", "contentUrl": csv_url}],
        "variableMeasured": list(dataset.header),
    }
    if temporal:
        jsonld["temporalCoverage"] = temporal
    if coverage["countries"]:
        jsonld["spatialCoverage"] = [
            {"@type": "Country", "identifier": code, "name": code} for code in coverage["countries"]
        ]
    if coverage["modified"]:
        jsonld["dateModified"] = _iso(coverage["modified"])
    dcat: dict[str, Any] = {
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/"},
        "@type": "dcat:Dataset",
        "@id": page_url,
        "dct:identifier": dataset.name,
        "dct:title": str(dataset.title),
        "dct:description": str(dataset.description),
        "dct:license": LICENSE,
        "dct:publisher": CREATOR,
        "dct:issued": _iso(coverage["issued"]),
        "dct:modified": _iso(coverage["modified"]),
        "dct:temporal": temporal,
        "dct:spatial": coverage["countries"],
        "dcat:distribution": [
            {"@type": "dcat:Distribution", "dcat:downloadURL": csv_url, "dcat:mediaType": "text/csv"}
        ],
    }
    return {
        "name": dataset.name,
        "title": str(dataset.title),
        "description": str(dataset.description),
        "csv_url": csv_url,
        "jsonld": jsonld,
        "dcat": dcat,
    }


def catalogue(*, base_url: str) -> list[dict[str, Any]]:
    return [describe(dataset, base_url=base_url) for dataset in DATASETS.values()]


def dataset_csv_text(name: str) -> str:
    dataset = DATASETS[name]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(dataset.header)
    for row in dataset.rows():
        writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()


def dataset_csv(name: str) -> HttpResponse:
    response = HttpResponse(dataset_csv_text(name), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
