"""Every bad input gets a 400 naming the field and the rule, and nothing is saved."""

from __future__ import annotations

from typing import Any

import pytest

from opportunities.models import Listing, OccupationLine
from tests.conftest import token_client
from tests.opportunities.conftest import days, seasonal_scheme, worker_offer

pytestmark = pytest.mark.django_db


@pytest.fixture
def spain_api(spain, rosa):
    return token_client(rosa, spain)


def post(client: Any, payload: dict[str, Any]) -> Any:
    return client.post("/api/v1/listings/", payload, format="json")


def line(**overrides: Any) -> dict[str, Any]:
    return {"isco_code": "9211", "quantity": 10, **overrides}


CASES = [
    # (overrides, where the error is named, a word the message must contain)
    ({"occupation_lines": [line(isco_code="9999")]}, ["occupation_lines", 0, "isco_code"], "ISCO"),
    ({"occupation_lines": [line(isco_code="nurse")]}, ["occupation_lines", 0, "isco_code"], "ISCO"),
    ({"occupation_lines": [line(), line(quantity=0)]}, ["occupation_lines", 1, "quantity"], "1"),
    ({"occupation_lines": []}, ["occupation_lines"], "at least one"),
    (
        {"occupation_lines": [line(languages=[{"language": "xx", "level": "B1"}])]},
        ["occupation_lines", 0, "languages", 0, "language"],
        "639",
    ),
    (
        {"occupation_lines": [line(languages=[{"language": "de", "level": "B3"}])]},
        ["occupation_lines", 0, "languages", 0, "level"],
        "B3",
    ),
    ({"occupation_lines": [line(skill_level=5)]}, ["occupation_lines", 0, "skill_level"], "4"),
    ({"sectors": ["A", "ZZ"]}, ["sectors"], "ZZ"),
    ({"sectors": ["011"]}, ["sectors"], "011"),
    ({"partner_countries": ["MA", "XX"]}, ["partner_countries", 1], "XX"),
    ({"partner_countries": ["MA", "ES"], "allocations": []}, ["partner_countries"], "own country"),
    ({"text_language": "zz"}, ["text_language"], "639"),
    ({"currency": "EURO"}, ["currency"], ""),
    ({"currency": "XYZ"}, ["currency"], "4217"),
    ({"wage_floor_monthly": "1200.00", "currency": ""}, ["currency"], "currency"),
    ({"ends_on": days(50)}, ["ends_on"], "starts_on"),
    ({"application_deadline": days(250)}, ["application_deadline"], "ends_on"),
    ({"annual_cap": 900}, ["allocations"], "cap"),
    ({"allocations": [{"country": "PH", "places": 10}]}, ["allocations"], "PH"),
    ({"allocations": [{"country": "MA", "places": 0}]}, ["allocations", 0, "places"], "1"),
    ({"max_stay_months": 13}, ["max_stay_months"], "window"),
    ({"stay_overrides": [{"country": "MA", "max_stay_months": 14}]}, ["stay_overrides"], "window"),
    ({"gender_target_percent": 101}, ["gender_target_percent"], "100"),
    ({"gender_target_percent": -1}, ["gender_target_percent"], "0"),
    ({"season_earliest_start": "06-01", "season_latest_end": "02-01"}, ["season_latest_end"], "season"),
    ({"season_earliest_start": "02-30"}, ["season_earliest_start"], "MM-DD"),
    ({"season_latest_end": "June"}, ["season_latest_end"], "MM-DD"),
    ({"visibility": "partners", "partner_countries": [], "allocations": []}, ["visibility"], "partner"),
    ({"duration_months_min": 9, "duration_months_max": 3}, ["duration_months_max"], "shortest"),
    ({"min_guaranteed_hours": 240}, ["min_guaranteed_hours_weeks"], "weeks"),
    ({"scheme_type": "holiday"}, ["scheme_type"], "holiday"),
    ({"direction": "sideways"}, ["direction"], "sideways"),
    ({"starts_on": "next spring"}, ["starts_on"], "format"),
    ({"visibility": "everyone"}, ["visibility"], "everyone"),
    ({"contact": "00000000-0000-0000-0000-000000000000"}, ["contact"], "member"),
]


def named(errors: Any, path: list[Any]) -> Any:
    # Nested errors are keyed by position: a list for lines, {"0": ...} for list fields.
    for key in path:
        errors = errors[str(key)] if isinstance(errors, dict) and isinstance(key, int) else errors[key]
    return errors


@pytest.mark.parametrize(("overrides", "path", "word"), CASES, ids=[str(c[1]) + ":" + str(c[0])[:40] for c in CASES])
def test_it_rejects_bad_input_naming_the_field_and_saves_nothing(spain_api, overrides, path, word):
    response = post(spain_api, seasonal_scheme(**overrides))
    assert response.status_code == 400, response.json()
    messages = named(response.json(), path)
    text = " ".join(messages) if isinstance(messages, list) else str(messages)
    assert word.lower() in text.lower(), text
    assert Listing.objects.count() == 0
    assert OccupationLine.objects.count() == 0


@pytest.mark.parametrize(
    "field", ["direction", "title", "scheme_type", "starts_on", "ends_on", "application_deadline", "occupation_lines"]
)
def test_it_requires_the_essentials(spain_api, field):
    payload = seasonal_scheme()
    del payload[field]
    response = post(spain_api, payload)
    assert response.status_code == 400
    assert field in response.json()


def test_a_minimal_listing_needs_only_the_essentials(spain_api):
    response = post(
        spain_api,
        {
            "direction": "demand",
            "title": "Welders for shipyards",
            "scheme_type": "bilateral_labour_agreement",
            "starts_on": days(10),
            "ends_on": days(400),
            "application_deadline": days(5),
            "occupation_lines": [{"isco_code": "7212", "quantity": 40}],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["partner_countries"] == [] and body["housing"] is False and body["annual_cap"] is None
    assert body["occupation_lines"][0]["skill_level"] == 2  # derived from ISCO
    assert body["visibility"] == "members"


def test_only_a_destination_posts_demand_and_only_an_origin_posts_supply(spain_api, charlie_api):
    demand_by_origin = post(charlie_api, seasonal_scheme(partner_countries=["SN"], allocations=[]))
    assert demand_by_origin.status_code == 400 and "direction" in demand_by_origin.json()
    supply_by_destination = post(spain_api, worker_offer())
    assert supply_by_destination.status_code == 400 and "direction" in supply_by_destination.json()
    assert Listing.objects.count() == 0
    assert post(charlie_api, worker_offer()).status_code == 201


def test_a_patch_is_checked_against_the_whole_listing(spain_api):
    listing = post(spain_api, seasonal_scheme()).json()
    response = spain_api.patch(f"/api/v1/listings/{listing['id']}/", {"ends_on": days(40)}, format="json")
    assert response.status_code == 400
    assert "ends_on" in response.json() or "application_deadline" in response.json()
    cap = spain_api.patch(f"/api/v1/listings/{listing['id']}/", {"annual_cap": 10}, format="json")
    assert cap.status_code == 400 and "allocations" in cap.json()
    assert Listing.objects.get().annual_cap == 1000


def test_a_patch_replaces_the_occupation_lines_atomically(spain_api):
    listing = post(spain_api, seasonal_scheme()).json()
    bad = spain_api.patch(
        f"/api/v1/listings/{listing['id']}/",
        {"occupation_lines": [line(isco_code="6111"), line(isco_code="0000")]},
        format="json",
    )
    assert bad.status_code == 400
    assert [ln.occupation_id for ln in OccupationLine.objects.all()] == ["9211"]
    good = spain_api.patch(
        f"/api/v1/listings/{listing['id']}/",
        {"occupation_lines": [line(isco_code="6111", quantity=3), line(isco_code="9214", quantity=4)]},
        format="json",
    )
    assert good.status_code == 200
    assert good.json()["total_quantity"] == 7
    assert [ln["isco_code"] for ln in good.json()["occupation_lines"]] == ["6111", "9214"]


def test_codes_are_accepted_in_any_case(spain_api):
    response = post(
        spain_api,
        seasonal_scheme(
            partner_countries=["ma", "sn"], currency="eur", sectors=["a"], allocations=[{"country": "ma", "places": 5}]
        ),
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["partner_countries"] == ["MA", "SN"] and body["currency"] == "EUR" and body["sectors"] == ["A"]


def test_the_contact_defaults_to_the_focal_point(spain_api, spain, rosa):
    response = post(spain_api, seasonal_scheme())
    assert response.json()["contact"]["id"] == str(rosa.id)


@pytest.mark.parametrize(
    ("lines", "path"),
    [
        ([{"quantity": 3}], ["occupation_lines", 0, "isco_code"]),
        ([{"isco_code": "9211"}], ["occupation_lines", 0, "quantity"]),
        (
            [{"isco_code": "9211", "quantity": 3, "languages": [{"level": "A1"}]}],
            ["occupation_lines", 0, "languages", 0, "language"],
        ),
    ],
)
def test_a_patch_still_requires_whole_nested_items(spain_api, lines, path):
    listing = post(spain_api, seasonal_scheme()).json()
    response = spain_api.patch(f"/api/v1/listings/{listing['id']}/", {"occupation_lines": lines}, format="json")
    assert response.status_code == 400, response.content
    assert "required" in " ".join(named(response.json(), path))
    assert [ln.occupation_id for ln in OccupationLine.objects.all()] == ["9211"]


def test_a_patch_of_allocations_needs_whole_items(spain_api):
    listing = post(spain_api, seasonal_scheme()).json()
    response = spain_api.patch(f"/api/v1/listings/{listing['id']}/", {"allocations": [{"places": 5}]}, format="json")
    assert response.status_code == 400 and "country" in named(response.json(), ["allocations", 0])
