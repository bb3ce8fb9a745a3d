"""Skills rows of a profile (part 3): shortages, surpluses and diaspora skills by ISCO-08 group."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from accounts.tenancy import unscoped
from exchange.models import ProfileSkill
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


@pytest.fixture
def draft(moldova_api: APIClient) -> dict[str, Any]:
    response = moldova_api.post(URL, {"country": "MD", "year": 2025, "visibility": "members"}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _skills_url(profile: dict[str, Any]) -> str:
    return f"{URL}{profile['id']}/skills/"


def _skill(client: APIClient, profile: dict[str, Any], **body: Any) -> Any:
    data = {
        "kind": "surplus",
        "isco_code": "7126",
        "severity": "high",
        "time_period": 2024,
        "source": "National Employment Agency, 2024 barometer",
        **body,
    }
    return client.post(_skills_url(profile), data, format="json")


def test_the_owner_records_shortages_surpluses_and_diaspora_skills_on_a_draft(moldova_api, draft):
    assert _skill(moldova_api, draft, isic_code="F", comment="Plumbers abroad").status_code == 201
    assert _skill(moldova_api, draft, kind="shortage", isco_code="22", severity="medium").status_code == 201
    assert _skill(moldova_api, draft, kind="diaspora", isco_code="2512", severity="low").status_code == 201
    rows = moldova_api.get(_skills_url(draft)).json()["results"]
    by_kind = {row["kind"]: row for row in rows}
    assert set(by_kind) == {"shortage", "surplus", "diaspora"}
    surplus = by_kind["surplus"]
    assert (surplus["isco_code"], surplus["isic_code"], surplus["severity"], surplus["time_period"]) == (
        "7126",
        "F",
        "high",
        2024,
    )
    assert surplus["isco_title"] == "Plumbers and pipe fitters" and surplus["comment"] == "Plumbers abroad"
    assert by_kind["shortage"]["isic_code"] is None and by_kind["shortage"]["isco_title"] == "Health professionals"
    with unscoped("assertion"):
        assert AuditEvent.objects.filter(action="profile.skill_saved").count() == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "glut"}, "kind"),
        ({"isco_code": "9999"}, "isco_code"),
        ({"isco_code": "plumber"}, "isco_code"),
        ({"isic_code": "Z9"}, "isic_code"),
        ({"severity": "extreme"}, "severity"),
        ({"source": ""}, "source"),
        ({"time_period": 2999}, "time_period"),  # the future
        ({"time_period": 1990}, "time_period"),  # more than 30 years before 2025
        ({"time_period": "last year"}, "time_period"),
    ],
)
def test_a_skills_row_that_breaks_a_rule_is_a_400_naming_the_field(moldova_api, draft, body, field):
    response = _skill(moldova_api, draft, **body)
    assert response.status_code == 400 and field in response.json(), response.json()
    with unscoped("assertion"):
        assert not ProfileSkill.objects.exists()


def test_the_current_year_and_thirty_years_back_are_accepted(moldova_api, draft):
    assert _skill(moldova_api, draft, time_period=timezone.localdate().year).status_code == 201
    assert _skill(moldova_api, draft, time_period=1995).status_code == 201


def test_a_second_row_of_the_same_kind_occupation_sector_and_year_is_refused(moldova_api, draft):
    assert _skill(moldova_api, draft, isic_code="F").status_code == 201
    again = _skill(moldova_api, draft, isic_code="F", severity="low")
    assert again.status_code == 400 and "isco_code" in again.json()
    without_sector = _skill(moldova_api, draft)
    assert without_sector.status_code == 201  # no sector is another row...
    assert _skill(moldova_api, draft).status_code == 400  # ... but only one of it
    assert _skill(moldova_api, draft, kind="shortage").status_code == 201  # another kind
    assert _skill(moldova_api, draft, time_period=2023).status_code == 201  # another year
    # A change that would make a duplicate is refused too.
    row_url = f"{_skills_url(draft)}{without_sector.json()['id']}/"
    response = moldova_api.patch(row_url, {"isic_code": "F"}, format="json")
    assert response.status_code == 400 and "isco_code" in response.json()


def test_only_the_owners_officials_write_and_other_tenants_see_a_draft_as_missing(
    moldova_api, moldova_viewer, germany_api, draft
):
    row = _skill(moldova_api, draft).json()
    row_url = f"{_skills_url(draft)}{row['id']}/"
    assert _skill(moldova_viewer, draft).status_code == 403
    assert moldova_viewer.get(row_url).status_code == 200
    for method in ("get", "patch", "delete"):
        assert getattr(germany_api, method)(row_url, {}, format="json").status_code == 404
    assert germany_api.get(_skills_url(draft)).status_code == 404
    assert _skill(germany_api, draft).status_code == 404
    agency = AgencyFactory()
    moderator = token_client(member(agency, "moderator", email="m@agency.example"), agency)
    assert moderator.get(row_url).status_code == 404


def test_who_asks_is_checked_before_the_body(moldova_api, moldova_viewer, draft):
    response = _skill(moldova_viewer, draft, kind="glut")
    assert response.status_code == 403  # not a 400 describing the form


def test_rows_change_only_on_a_draft_and_the_next_version_starts_from_them(moldova_api, germany_api, draft):
    row = _skill(moldova_api, draft, isic_code="F").json()
    row_url = f"{_skills_url(draft)}{row['id']}/"
    changed = moldova_api.patch(row_url, {"severity": "medium", "comment": "easing"}, format="json")
    assert changed.status_code == 200 and changed.json()["severity"] == "medium"
    moldova_api.post(f"{URL}{draft['id']}/publish/")
    assert germany_api.get(row_url).json()["severity"] == "medium"  # published: every member reads it
    assert moldova_api.patch(row_url, {"severity": "low"}, format="json").status_code == 409
    assert moldova_api.delete(row_url).status_code == 409
    assert _skill(moldova_api, draft, kind="shortage").status_code == 409
    assert germany_api.patch(row_url, {"severity": "low"}, format="json").status_code == 403
    assert germany_api.delete(row_url).status_code == 403

    following = moldova_api.patch(f"{URL}{draft['id']}/", {"labour_market": "revised"}, format="json").json()
    copied = moldova_api.get(_skills_url(following)).json()["results"]
    assert [(r["kind"], r["isco_code"], r["isic_code"], r["severity"], r["comment"]) for r in copied] == [
        ("surplus", "7126", "F", "medium", "easing")
    ]
    assert copied[0]["id"] != row["id"]  # a copy: the published row stays as it was
    copy_url = f"{_skills_url(following)}{copied[0]['id']}/"
    assert moldova_api.delete(copy_url).status_code == 204
    assert moldova_api.get(row_url).status_code == 200
    with unscoped("assertion"):
        assert AuditEvent.objects.filter(action="profile.skill_deleted").count() == 1
