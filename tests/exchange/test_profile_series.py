"""An indicator of one country across the years of its current published profiles."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import token_client
from tests.factories import member

pytestmark = pytest.mark.django_db

URL = "/api/v1/indicators/series/"


@pytest.fixture
def moldova_api(moldova: Any) -> APIClient:
    return token_client(member(moldova, "official", email="official@md.example"), moldova)


@pytest.fixture
def germany_api(germany: Any) -> APIClient:
    return token_client(member(germany, "official", email="official@de.example"), germany)


def profile(client: APIClient, year: int, figures: list[tuple[str, str, int, str]], *, visibility: str) -> str:
    """A profile with (sex, age, period, value) figures of MIG_STOCK_OUT; returns its id."""
    created = client.post("/api/v1/profiles/", {"country": "MD", "year": year, "visibility": visibility})
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    for sex, age, period, value in figures:
        body = {"indicator": "MIG_STOCK_OUT", "sex": sex, "age": age, "time_period": period, "value": value}
        response = client.post(f"/api/v1/profiles/{pk}/observations/", {**body, "source": f"UN DESA {year}"})
        assert response.status_code == 201, response.json()
    return pk


def publish(client: APIClient, pk: str) -> None:
    assert client.post(f"/api/v1/profiles/{pk}/publish/").status_code == 200


@pytest.fixture
def two_years(moldova_api: APIClient) -> dict[str, str]:
    """2023 (public, published), 2024 (public, published then revised: v2 published), 2025 (a draft)."""
    y2023 = profile(moldova_api, 2023, [("T", "_T", 2022, "900"), ("F", "_T", 2022, "500")], visibility="public")
    publish(moldova_api, y2023)
    y2024 = profile(moldova_api, 2024, [("T", "_T", 2023, "950")], visibility="public")
    publish(moldova_api, y2024)
    v2 = moldova_api.patch(f"/api/v1/profiles/{y2024}/", {"migration_data": "revised"}, format="json").json()["id"]
    figure = moldova_api.get(f"/api/v1/profiles/{v2}/observations/").json()["results"][0]
    moldova_api.patch(f"/api/v1/profiles/{v2}/observations/{figure['id']}/", {"value": "960"}, format="json")
    publish(moldova_api, v2)
    draft = profile(moldova_api, 2025, [("T", "_T", 2024, "1000")], visibility="public")
    return {"2023": y2023, "2024": v2, "draft": draft}


def test_the_series_runs_across_the_published_years_and_leaves_out_drafts_and_superseded_versions(
    germany_api, two_years
):
    response = germany_api.get(URL, {"country": "MD", "indicator": "MIG_STOCK_OUT", "sex": "T"})
    assert response.status_code == 200, response.json()
    points = response.json()
    assert [(p["year"], p["time_period"], p["value"], p["version"]) for p in points] == [
        (2023, 2022, "900.0000", 1),
        (2024, 2023, "960.0000", 2),  # the current published version, not the superseded one
    ]
    assert points[0]["profile"] == two_years["2023"] and points[1]["source"] == "UN DESA 2024"


def test_without_a_sex_or_age_every_breakdown_comes_tagged(germany_api, two_years):
    points = germany_api.get(URL, {"country": "md", "indicator": "mig_stock_out"}).json()
    assert [(p["time_period"], p["sex"], p["age"]) for p in points] == [
        (2022, "F", "_T"),
        (2022, "T", "_T"),
        (2023, "T", "_T"),
    ]
    assert (
        germany_api.get(URL, {"country": "MD", "indicator": "MIG_STOCK_OUT", "sex": "F"}).json()[0]["value"]
        == "500.0000"
    )
    assert germany_api.get(URL, {"country": "MD", "indicator": "MIG_STOCK_OUT", "age": "Y15-24"}).json() == []


def test_public_profiles_are_read_anonymously_and_members_ones_need_signing_in(moldova_api, germany_api):
    pk = profile(moldova_api, 2022, [("T", "_T", 2021, "800")], visibility="members")
    publish(moldova_api, pk)
    anonymous = APIClient().get(URL, {"country": "MD", "indicator": "MIG_STOCK_OUT"})
    assert anonymous.status_code == 200 and anonymous.json() == []
    assert [p["value"] for p in germany_api.get(URL, {"country": "MD", "indicator": "MIG_STOCK_OUT"}).json()] == [
        "800.0000"
    ]


def test_the_owner_does_not_see_its_own_draft_in_the_series(moldova_api, two_years):
    points = moldova_api.get(URL, {"country": "MD", "indicator": "MIG_STOCK_OUT", "sex": "T"}).json()
    assert 2025 not in [p["year"] for p in points]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"indicator": "MIG_STOCK_OUT"}, "country"),
        ({"country": "MD"}, "indicator"),
        ({"country": "ZZ", "indicator": "MIG_STOCK_OUT"}, "country"),
        ({"country": "MD", "indicator": "NOPE"}, "indicator"),
        ({"country": "MD", "indicator": "MIG_STOCK_OUT", "sex": "X"}, "sex"),
        ({"country": "MD", "indicator": "MIG_STOCK_OUT", "age": "teens"}, "age"),
    ],
)
def test_a_missing_or_bad_parameter_is_a_400_naming_it(anon_api, query, field):
    response = anon_api.get(URL, query)
    assert response.status_code == 400 and list(response.json()) == [field], response.json()


def test_the_series_costs_the_same_few_queries_however_many_years(anon_api, two_years, django_assert_num_queries):
    with django_assert_num_queries(2):  # the indicator exists; the figures with their profiles
        response = anon_api.get(URL, {"country": "MD", "indicator": "MIG_STOCK_OUT"})
    assert len(response.json()) == 3
