"""Platform statistics: every figure against a hand count of the world in statistics_world.py."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from tests.conftest import signed_in, token_client
from tests.exchange.conftest import offer, published
from tests.exchange.statistics_world import LAST_YEAR, YEAR, World, world_fixture  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def rows(client: APIClient, name: str, **query: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/statistics/{name}/", query)
    assert response.status_code == 200, response.content
    return response.json()["rows"]


def by_code(table: list[dict[str, Any]], *keys: str) -> dict[str, tuple[Any, ...]]:
    return {row["code"]: tuple(row[key] for key in keys) for row in table}


@pytest.fixture
def mihai_api(mihai: User, moldova: Organisation) -> APIClient:
    return token_client(mihai, moldova)


@pytest.fixture
def mona_api(mona: User, agency: Organisation) -> APIClient:
    return token_client(mona, agency)


# --- Places and workers ------------------------------------------------------------------------


def test_anonymous_readers_count_public_published_listings_only(world: World, anon_api: APIClient) -> None:
    # D1 (public) and S1 (public); never D2 (members only) nor S2 (a draft).
    assert by_code(rows(anon_api, "places-by-isco-major"), "places", "workers") == {
        "2": (0, 4),
        "6": (20, 0),
        "9": (50, 0),
    }
    assert by_code(rows(anon_api, "places-by-isic-section"), "places", "workers") == {"A": (70, 0), "Q": (0, 4)}
    assert by_code(rows(anon_api, "places-by-scheme-type"), "listings", "places", "workers") == {
        "seasonal": (1, 70, 0),
        "talent_partnership": (1, 0, 4),
    }
    assert by_code(rows(anon_api, "places-by-country"), "listings", "places", "workers") == {
        "IT": (1, 70, 0),
        "PH": (1, 0, 4),
    }


def test_members_count_every_published_listing_they_may_read(world: World, mihai_api: APIClient) -> None:
    # Moldova reads D2 (members) too, but not its own draft S2: statistics count published listings.
    assert by_code(rows(mihai_api, "places-by-isco-major"), "places", "workers") == {
        "2": (20, 4),
        "6": (20, 0),
        "9": (50, 0),
    }
    assert by_code(rows(mihai_api, "places-by-isic-section"), "places", "workers") == {"A": (70, 0), "Q": (20, 4)}
    assert by_code(rows(mihai_api, "places-by-scheme-type"), "listings", "places", "workers") == {
        "seasonal": (1, 70, 0),
        "talent_partnership": (2, 20, 4),
    }
    assert by_code(rows(mihai_api, "places-by-country"), "listings", "places", "workers") == {
        "DE": (1, 20, 0),
        "IT": (1, 70, 0),
        "PH": (1, 0, 4),
    }


def test_the_period_counts_listings_by_their_publication_date(world: World, mihai_api: APIClient) -> None:
    # D2 was published on 2025-06-01.
    assert by_code(rows(mihai_api, "places-by-country", **{"from": f"{YEAR}-01-01"}), "places") == {
        "IT": (70,),
        "PH": (0,),
    }
    assert by_code(rows(mihai_api, "places-by-country", to="2025-12-31"), "places") == {"DE": (20,)}
    assert by_code(rows(mihai_api, "places-by-country", **{"from": "2025-06-01", "to": "2025-06-01"}), "places") == {
        "DE": (20,)
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "not-a-date"}, "from"),
        ({"to": "2025-02-30"}, "to"),
        ({"from": "2025-02-01", "to": "2025-01-01"}, "to"),
    ],
)
def test_it_rejects_a_bad_period_naming_the_field(anon_api: APIClient, query: dict[str, str], field: str) -> None:
    response = anon_api.get("/api/v1/statistics/provisions/", query)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    page = signed_in_or_anonymous_page(query)
    assert page.status_code == 400
    assert f'href="#period-{field}"' in page.content.decode()


def signed_in_or_anonymous_page(query: dict[str, str]) -> Any:
    from django.test import Client

    return Client().get("/statistics/", query)


# --- Matches, moderation, provisions -----------------------------------------------------------


def test_the_funnel_counts_matches_between_listings_the_reader_sees(
    world: World, anon_api: APIClient, mona_api: APIClient
) -> None:
    # The agency sees D1, D2, S1 (S2 is a draft): D1–S1 agreed, D2–S1 in dialogue.
    funnel = by_code(rows(mona_api, "matches-funnel"), "matches")
    assert funnel == {"suggested": (2,), "interest_expressed": (2,), "in_dialogue": (2,), "agreed": (1,)}
    # Anonymous readers see D1–S1 only, one match: a small cell at every stage it reached.
    assert by_code(rows(anon_api, "matches-funnel"), "matches") == {
        "suggested": ("<5",),
        "interest_expressed": ("<5",),
        "in_dialogue": ("<5",),
        "agreed": ("<5",),
    }


def test_moderation_turnaround_is_the_agencies_median_and_90th_percentile(
    world: World, mona_api: APIClient, anon_api: APIClient, mihai_api: APIClient
) -> None:
    # Decided 10, 20 and 30 hours after submission: median 20, p90 = 20 + 0.8 × 10 = 28.
    assert rows(mona_api, "moderation-turnaround") == [
        {"month": f"{LAST_YEAR}-01", "decisions": 3, "median_hours": 20.0, "p90_hours": 28.0}
    ]
    assert rows(mona_api, "moderation-turnaround", **{"from": f"{YEAR}-01-01"}) == []
    assert anon_api.get("/api/v1/statistics/moderation-turnaround/").status_code == 404
    assert mihai_api.get("/api/v1/statistics/moderation-turnaround/").status_code == 404
    names = [table["name"] for table in anon_api.get("/api/v1/statistics/").json()]
    assert "moderation-turnaround" not in names
    assert "moderation-turnaround" in [table["name"] for table in mona_api.get("/api/v1/statistics/").json()]


def test_provisions_are_shares_of_the_listings_counted(world: World, anon_api: APIClient, mihai_api: APIClient) -> None:
    # Anonymous: D1 (fair recruitment, a gender target) and S1 (recognition).
    assert by_code(rows(anon_api, "provisions"), "listings", "share") == {
        "fair_recruitment": (1, 50.0),
        "pension_portability": (0, 0.0),
        "qualification_recognition": (1, 50.0),
        "gender": (1, 50.0),
    }
    # Members add D2 (pension portability): each 1 of 3.
    assert by_code(rows(mihai_api, "provisions"), "listings", "share") == {
        "fair_recruitment": (1, 33.3),
        "pension_portability": (1, 33.3),
        "qualification_recognition": (1, 33.3),
        "gender": (1, 33.3),
    }


def test_provisions_shares_are_null_without_listings(db: Any, anon_api: APIClient) -> None:
    assert {row["share"] for row in rows(anon_api, "provisions")} == {None}


# --- Outcomes ----------------------------------------------------------------------------------


def outcomes(client: APIClient, **query: str) -> tuple[dict[str, Any], dict[str, tuple[Any, ...]]]:
    body = client.get("/api/v1/statistics/outcomes/", query).json()
    return body["summary"], by_code(body["rows"], "people", "women", "women_share")


def test_outcome_totals_count_effective_entries_of_public_schemes(world: World, anon_api: APIClient) -> None:
    summary, stages = outcomes(anon_api)
    # D1 only: 20 selected of whom 5 women; 47 arrived (the 40 was corrected), 18 returned.
    assert summary == {"quota": 70, "quota_used": 20, "quota_remaining": 50, "women_share": 25.0, "return_rate": 38.3}
    assert stages["selected"] == (20, 5, 25.0)
    assert stages["arrived"] == (47, 0, 0.0)
    assert stages["returned"] == (18, 0, 0.0)
    # Three re-engaged people: a small cell, and no share of it.
    assert stages["re_engaged"] == ("<5", 0, None)
    assert stages["withdrawn"] == (6, 0, 0.0)
    assert stages["allocated"] == (0, 0, None)


def test_the_agencies_read_every_published_scheme_and_raw_small_counts(world: World, mona_api: APIClient) -> None:
    summary, stages = outcomes(mona_api)
    # D1 and D2 (members only): quota 70 + 25, 30 selected of whom 15 women.
    assert summary == {"quota": 95, "quota_used": 30, "quota_remaining": 65, "women_share": 50.0, "return_rate": 38.3}
    assert stages["re_engaged"] == (3, 0, 0.0)


def test_members_get_public_schemes_outcomes_only(world: World, mihai_api: APIClient) -> None:
    summary, _stages = outcomes(mihai_api)
    assert summary["quota"] == 70
    assert summary["quota_used"] == 20


def test_the_period_counts_ledger_entries_by_their_period(world: World, anon_api: APIClient) -> None:
    _summary, stages = outcomes(anon_api, **{"from": f"{YEAR}-01-01"})
    assert stages["withdrawn"] == (0, 0, None)
    _summary, stages = outcomes(anon_api, to=f"{LAST_YEAR}-12-31")
    assert stages["withdrawn"] == (6, 0, 0.0)
    assert stages["selected"] == (0, 0, None)


def test_no_entries_gives_null_rates(db: Any, anon_api: APIClient) -> None:
    summary, _stages = outcomes(anon_api)
    assert summary == {"quota": 0, "quota_used": 0, "quota_remaining": 0, "women_share": None, "return_rate": None}


# --- CSV and the page --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "places-by-isco-major",
        "places-by-isic-section",
        "places-by-scheme-type",
        "places-by-country",
        "matches-funnel",
        "moderation-turnaround",
        "provisions",
        "outcomes",
    ],
)
def test_each_csv_equals_the_json(world: World, mona_api: APIClient, mona: User, name: str) -> None:
    body = mona_api.get(f"/api/v1/statistics/{name}/").json()
    expected = [[str(c["key"]) for c in body["columns"]]] + [
        ["" if row[c["key"]] is None else str(row[c["key"]]) for c in body["columns"]] for row in body["rows"]
    ]
    for response in (
        mona_api.get(f"/api/v1/statistics/{name}/", {"format": "csv"}),
        mona_api.get(f"/api/v1/statistics/{name}.csv"),
        signed_in(mona).get(f"/statistics/{name}.csv"),
    ):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert list(csv.reader(io.StringIO(response.content.decode()))) == expected


def test_the_page_shows_every_table_with_its_chart(world: World) -> None:
    from django.test import Client

    page = Client().get("/statistics/")
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("places-by-isco-major", "places-by-isic-section", "places-by-scheme-type", "places-by-country"):
        assert f'id="chart-{name}"' in html
        assert f"/statistics/{name}.csv" in html
    assert "chart-moderation-turnaround" not in html
    assert 'data-value="70"' in html
    assert "<bdi>38.3 %</bdi>" in html


def test_the_page_speaks_the_readers_language(world: World) -> None:
    from django.test import Client

    page = Client(headers={"accept-language": "fr"}).get("/statistics/")
    assert page.status_code == 200
    assert 'lang="fr"' in page.content.decode()


# --- Query counts ------------------------------------------------------------------------------


def count_queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


STATISTICS_QUERIES = {
    "places-by-isco-major": 1,
    "places-by-isic-section": 1,
    "places-by-scheme-type": 1,
    "places-by-country": 1,
    "matches-funnel": 1,
    "provisions": 1,
    "outcomes": 1,
}


def test_query_counts_are_pinned_and_do_not_grow_with_the_listings(
    world: World, anon_api: APIClient, philippines_actor: Any, moderator: Any
) -> None:
    before = {name: count_queries(anon_api, f"/api/v1/statistics/{name}/") for name in STATISTICS_QUERIES}
    page_before = count_queries(anon_api, "/statistics/")
    for number in range(3):
        published(philippines_actor, moderator, offer(title=f"More nurses {number}", visibility="public"))
    after = {name: count_queries(anon_api, f"/api/v1/statistics/{name}/") for name in STATISTICS_QUERIES}
    assert after == before == STATISTICS_QUERIES
    assert count_queries(anon_api, "/statistics/") == page_before == len(STATISTICS_QUERIES)


def test_signed_in_query_counts_do_not_grow_with_the_listings(
    world: World, mona_api: APIClient, mihai_api: APIClient, philippines_actor: Any, moderator: Any
) -> None:
    urls = [f"/api/v1/statistics/{name}/" for name in [*STATISTICS_QUERIES, "moderation-turnaround"]]
    for client in (mona_api, mihai_api):
        client.get("/api/v1/statistics/")  # the token's first use of the day writes its date
    before = [count_queries(mona_api, url) for url in urls], count_queries(mihai_api, urls[0])
    for number in range(3):
        published(philippines_actor, moderator, offer(title=f"More nurses {number}", visibility="members"))
    after = [count_queries(mona_api, url) for url in urls], count_queries(mihai_api, urls[0])
    # The token with its membership (one statement), then the table's one statement.
    assert after == before == ([2] * len(urls), 2)


def test_the_index_lists_the_tables_each_reader_gets(anon_api: APIClient) -> None:
    index = anon_api.get("/api/v1/statistics/").json()
    assert [table["name"] for table in index] == list(STATISTICS_QUERIES)
    assert index[0]["url"].endswith("/api/v1/statistics/places-by-isco-major/")
    assert index[0]["csv_url"].endswith("/api/v1/statistics/places-by-isco-major.csv")


def test_everyone_finds_statistics_and_open_data_in_the_navigation(db: Any, bob: User) -> None:
    from django.test import Client

    for client in (Client(), signed_in(bob)):
        html = client.get("/statistics/").content.decode()
        assert 'href="/statistics/" aria-current="page">Statistics</a>' in html
        assert 'href="/open-data/">Open data</a>' in html
