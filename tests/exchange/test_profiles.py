"""Migration profiles: a country's own, versioned, read per visibility once published."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.tenancy import unscoped
from exchange.models import MigrationProfile
from tests.conftest import token_client
from tests.factories import AgencyFactory, member

pytestmark = pytest.mark.django_db

URL = "/api/v1/profiles/"


@pytest.fixture
def moldova_api(moldova: Any) -> APIClient:
    return token_client(member(moldova, "official", email="official@md.example"), moldova)


@pytest.fixture
def moldova_viewer(moldova: Any) -> APIClient:
    return token_client(member(moldova, "viewer", email="viewer@md.example"), moldova)


@pytest.fixture
def germany_api(germany: Any) -> APIClient:
    return token_client(member(germany, "official", email="official@de.example"), germany)


def _create(client: APIClient, **body: Any) -> Any:
    return client.post(URL, {"country": "MD", "year": 2025, "visibility": "members", **body}, format="json")


def test_a_government_starts_its_own_countrys_profile_as_a_draft(moldova_api, moldova):
    response = _create(
        moldova_api, labour_market="Seasonal work abroad is the main outlet.", labour_market_language="en"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["country"], body["year"], body["version"], body["status"]) == ("MD", 2025, 1, "draft")
    assert body["owner"]["id"] == str(moldova.pk) and body["labour_market_language"] == "en"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"country": "DE"}, "country"),  # not its own country: a 403, below
        ({"country": "XX"}, "country"),
        ({"year": 1900}, "year"),
        ({"year": 2101}, "year"),
        ({"visibility": "partners"}, "visibility"),
        ({"migration_data_language": "zz"}, "migration_data_language"),
        ({"labour_market": "x" * 20_001}, "labour_market"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_saved(moldova_api, body, field):
    response = _create(moldova_api, **body)
    if body.get("country") == "DE":
        assert response.status_code == 403
    else:
        assert response.status_code == 400 and field in response.json(), response.json()
    with unscoped("assertion"):
        assert not MigrationProfile.objects.exists()


def test_a_second_profile_for_the_same_year_is_refused(moldova_api):
    assert _create(moldova_api).status_code == 201
    response = _create(moldova_api)
    assert response.status_code == 400 and "year" in response.json()


def test_viewers_and_agencies_may_not_create_profiles(moldova_viewer):
    agency = AgencyFactory()
    moderator = token_client(member(agency, "moderator", email="m@agency.example"), agency)
    assert _create(moldova_viewer).status_code == 403
    assert (
        moderator.post(URL, {"country": "MD", "year": 2025, "visibility": "members"}, format="json").status_code == 403
    )


def test_a_draft_is_the_owners_alone_and_a_published_version_is_read_per_visibility(moldova_api, germany_api):
    draft = _create(moldova_api, visibility="public").json()
    detail = f"{URL}{draft['id']}/"
    assert germany_api.get(detail).status_code == 404
    assert APIClient().get(detail).status_code == 401  # the API needs a token; anonymous reading is for public ones
    assert draft["id"] not in [p["id"] for p in germany_api.get(URL).json()["results"]]
    assert moldova_api.post(f"{detail}publish/").status_code == 200
    assert germany_api.get(detail).json()["status"] == "published"
    assert germany_api.patch(detail, {"labour_market": "mine now"}, format="json").status_code == 403


def test_editing_a_published_profile_opens_the_next_version_and_publishing_it_supersedes_the_first(
    moldova_api, germany_api
):
    first = _create(moldova_api, migration_data="2024 figures").json()
    first_url = f"{URL}{first['id']}/"
    moldova_api.post(f"{first_url}publish/")

    edited = moldova_api.patch(first_url, {"migration_data": "2025 revised figures"}, format="json").json()
    assert (edited["version"], edited["status"], edited["previous"]) == (2, "draft", first["id"])
    again = moldova_api.patch(first_url, {"labour_market": "added"}, format="json").json()
    assert again["id"] == edited["id"]  # the same open version, not a third
    assert germany_api.get(f"{first_url}versions/").json()[0]["version"] == 1  # others never see the draft
    assert [v["version"] for v in moldova_api.get(f"{first_url}versions/").json()] == [2, 1]

    moldova_api.post(f"{URL}{edited['id']}/publish/")
    versions = germany_api.get(f"{first_url}versions/").json()
    assert [(v["version"], v["status"]) for v in versions] == [(2, "published"), (1, "superseded")]
    assert versions[0]["migration_data"] == "2025 revised figures" and versions[1]["migration_data"] == "2024 figures"
    # A superseded version stays readable but no longer changes.
    assert moldova_api.patch(first_url, {"migration_data": "x"}, format="json").status_code == 409


def test_country_and_year_never_change_and_only_a_draft_is_published_or_deleted(moldova_api):
    draft = _create(moldova_api).json()
    url = f"{URL}{draft['id']}/"
    response = moldova_api.patch(url, {"year": 2026}, format="json")
    assert response.status_code == 400 and "year" in response.json()
    moldova_api.post(f"{url}publish/")
    assert moldova_api.post(f"{url}publish/").status_code == 409
    assert moldova_api.delete(url).status_code == 409


def test_filters_by_country_year_and_status_and_refuses_a_bad_country(moldova_api, germany_api):
    _create(moldova_api)
    _create(moldova_api, year=2024)
    assert [p["year"] for p in moldova_api.get(URL, {"country": "MD", "year": 2024}).json()["results"]] == [2024]
    assert moldova_api.get(URL, {"status": "published"}).json()["results"] == []
    response = moldova_api.get(URL, {"country": "ZZ"})
    assert response.status_code == 400 and "country" in response.json()


# --- Observations ------------------------------------------------------------------------


def _figure(client: APIClient, profile: dict[str, Any], **body: Any) -> Any:
    data = {"indicator": "MIG_STOCK_OUT", "time_period": 2024, "value": "1000", "source": "UN DESA 2024", **body}
    return client.post(f"{URL}{profile['id']}/observations/", data, format="json")


@pytest.fixture
def draft(moldova_api: APIClient) -> dict[str, Any]:
    return _create(moldova_api).json()


def test_the_owner_records_figures_by_sex_and_age_on_a_draft(moldova_api, draft):
    for sex, value in (("T", "1000"), ("F", "560"), ("M", "440")):
        assert _figure(moldova_api, draft, sex=sex, value=value).status_code == 201
    assert _figure(moldova_api, draft, sex="F", age="Y15-24", value="120").status_code == 201
    rows = moldova_api.get(f"{URL}{draft['id']}/observations/").json()["results"]
    assert {(r["sex"], r["age"], r["value"]) for r in rows} >= {("T", "_T", "1000.0000"), ("F", "Y15-24", "120.0000")}
    assert all(r["unit"] == "persons" for r in rows)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"value": "-5"}, "value"),  # negative persons
        ({"value": "10.5"}, "value"),  # persons are whole
        ({"indicator": "LF_MIGRANT_SHARE", "value": "101"}, "value"),  # a percent above 100
        ({"indicator": "REMIT_IN_USD", "unit": "percent", "value": "12"}, "unit"),  # a percent for a usd indicator
        ({"indicator": "NOT_AN_INDICATOR"}, "indicator"),
        ({"indicator": "REMIT_IN_GDP", "sex": "F", "value": "3"}, "sex"),  # no breakdown by sex
        ({"indicator": "LF_MIGRANT_SHARE", "age": "Y15-24", "value": "3"}, "age"),  # no breakdown by age
        ({"age": "teenagers"}, "age"),
        ({"time_period": 2999}, "time_period"),  # the future
        ({"time_period": 1990}, "time_period"),  # more than 30 years before 2025
        ({"source": ""}, "source"),
    ],
)
def test_a_figure_that_breaks_a_rule_is_a_400_naming_the_field(moldova_api, draft, body, field):
    response = _figure(moldova_api, draft, **body)
    assert response.status_code == 400 and field in response.json(), response.json()
    with unscoped("assertion"):
        assert not MigrationProfile.objects.get(pk=draft["id"]).observations.exists()


def test_net_migration_may_be_negative(moldova_api, draft):
    assert _figure(moldova_api, draft, indicator="NET_MIGRATION", value="-12000").status_code == 201


def test_a_duplicate_figure_and_women_and_men_above_the_total_are_refused(moldova_api, draft):
    assert _figure(moldova_api, draft, sex="T", value="1000").status_code == 201
    again = _figure(moldova_api, draft, sex="T", value="999")
    assert again.status_code == 400 and "indicator" in again.json()
    assert _figure(moldova_api, draft, sex="F", value="600").status_code == 201
    too_many = _figure(moldova_api, draft, sex="M", value="450")  # 1,050 > 1,000 (0.1 % is rounding)
    assert too_many.status_code == 400 and "value" in too_many.json()
    assert _figure(moldova_api, draft, sex="M", value="400").status_code == 201  # exactly the total is fine


def test_averages_by_sex_are_not_held_to_add_up_to_the_total(moldova_api, draft):
    """Average monthly earnings (US dollars) of women and of men each sit near the total's."""
    for sex, value in (("T", "1450"), ("F", "1320"), ("M", "1560")):
        assert _figure(moldova_api, draft, indicator="EARNINGS_MIGRANTS", sex=sex, value=value).status_code == 201


def test_figures_change_only_on_a_draft_and_the_next_version_starts_from_them(moldova_api, germany_api, draft):
    row = _figure(moldova_api, draft).json()
    row_url = f"{URL}{draft['id']}/observations/{row['id']}/"
    assert moldova_api.patch(row_url, {"value": "1200"}, format="json").json()["value"] == "1200.0000"
    assert germany_api.get(row_url).status_code == 404  # a draft's figures are the owner's
    moldova_api.post(f"{URL}{draft['id']}/publish/")
    assert germany_api.get(row_url).json()["value"] == "1200.0000"
    assert moldova_api.patch(row_url, {"value": "1300"}, format="json").status_code == 409
    assert germany_api.patch(row_url, {"value": "1300"}, format="json").status_code == 403
    following = moldova_api.patch(f"{URL}{draft['id']}/", {"migration_data": "revised"}, format="json").json()
    copied = moldova_api.get(f"{URL}{following['id']}/observations/").json()["results"]
    assert [(r["indicator"], r["value"]) for r in copied] == [("MIG_STOCK_OUT", "1200.0000")]
