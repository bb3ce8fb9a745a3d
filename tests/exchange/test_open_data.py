"""Open data: public published figures only, every count below 5 as "<5", described for catalogues."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.exchange.statistics_world import YEAR, World, world_fixture  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def download(client: APIClient, name: str) -> list[dict[str, str]]:
    response = client.get(f"/api/v1/open-data/{name}.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_outcome_totals_count_public_schemes_only_with_corrections_applied(
    world: World, anon_api: APIClient
) -> None:
    # D1 only (D2 is members-only): 20 selected, 5 women, 47 arrived (40 corrected), 18 returned.
    assert download(anon_api, "outcome-totals") == [
        {
            "listing_id": str(world.d1.pk),
            "title": "Seasonal harvest, Apulia",
            "destination_country": "IT",
            "scheme_type": "seasonal",
            "quota": "70",
            "selected": "20",
            "selected_women": "5",
            "arrived": "47",
            "returned": "18",
            "return_rate": "38.3",
        }
    ]


def test_counts_below_five_are_small_cells(world: World, anon_api: APIClient) -> None:
    from accounts.tenancy import unscoped
    from exchange.models import OutcomeEntry

    with unscoped("the test corrects the selected women down to a small cell"):
        first = OutcomeEntry.objects.get(listing=world.d1, stage="selected", sex="F")
        OutcomeEntry.objects.create(
            listing=world.d1,
            origin_country="MA",
            period=YEAR,
            stage="selected",
            sex="F",
            count=4,
            corrects=first,
            reason="One woman was counted twice.",
            organisation=world.d1.owner,
        )
    row = download(anon_api, "outcome-totals")[0]
    assert (row["selected"], row["selected_women"]) == ("19", "<5")
    # The listings: S1 offers 4 workers.
    quantities = {row["id"]: row["quantity"] for row in download(anon_api, "public-listings")}
    assert quantities == {str(world.d1.pk): "70", str(world.s1.pk): "<5"}


def test_the_public_listings_are_the_published_public_ones(world: World, anon_api: APIClient) -> None:
    rows = download(anon_api, "public-listings")
    assert [row["title"] for row in rows] == ["Seasonal harvest, Apulia", "Registered nurses"]
    assert rows[0]["isco_codes"] == "9211 6111"
    assert rows[0]["fair_recruitment"] == "True"
    assert rows[1]["url"].endswith(f"/public/listings/{world.s1.pk}/")


def test_the_catalogue_describes_each_dataset_for_schema_org_and_dcat(world: World, anon_api: APIClient) -> None:
    catalogue = anon_api.get("/api/v1/open-data/").json()
    assert [dataset["name"] for dataset in catalogue] == ["outcome-totals", "public-listings"]
    outcomes = catalogue[0]
    jsonld, dcat = outcomes["jsonld"], outcomes["dcat"]
    assert jsonld["@context"] == "https://schema.org"
    assert jsonld["@type"] == "Dataset"
    assert jsonld["license"].startswith("https://creativecommons.org/")
    assert jsonld["creator"]["@type"] == "Organization"
    assert jsonld["distribution"] == [
        {"@type": "DataDownload", "encodingFormat": "text/csv", "contentUrl": outcomes["csv_url"]}
    ]
    assert outcomes["csv_url"].endswith("/api/v1/open-data/outcome-totals.csv")
    # Public schemes' entries only: this year's (last year's withdrawals included).
    assert jsonld["temporalCoverage"] == f"{int(YEAR) - 1}/{YEAR}"
    assert jsonld["spatialCoverage"] == [{"@type": "Country", "identifier": "IT", "name": "IT"}]
    assert dcat["@type"] == "dcat:Dataset"
    assert dcat["dct:title"] == outcomes["title"]
    assert dcat["dcat:distribution"][0]["dcat:downloadURL"] == outcomes["csv_url"]
    assert dcat["dct:license"] == jsonld["license"]
    assert dcat["dct:issued"] and dcat["dct:modified"]
    listings = catalogue[1]["jsonld"]
    assert listings["spatialCoverage"] == [
        {"@type": "Country", "identifier": "IT", "name": "IT"},
        {"@type": "Country", "identifier": "PH", "name": "PH"},
    ]


def test_an_unknown_dataset_is_a_404(anon_api: APIClient) -> None:
    assert anon_api.get("/api/v1/open-data/secrets.csv").status_code == 404


def test_the_page_embeds_each_datasets_json_ld(world: World) -> None:
    page = Client().get("/open-data/")
    assert page.status_code == 200
    html = page.content.decode()
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert [json.loads(block)["name"] for block in blocks] == ["Outcome totals per scheme", "Public listings"]
    assert "/api/v1/open-data/public-listings.csv" in html


def test_an_empty_platform_has_empty_datasets(db: Any, anon_api: APIClient) -> None:
    assert download(anon_api, "outcome-totals") == []
    catalogue = anon_api.get("/api/v1/open-data/").json()
    assert "temporalCoverage" not in catalogue[0]["jsonld"]
