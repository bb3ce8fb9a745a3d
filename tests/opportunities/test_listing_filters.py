"""The filters of GET /api/v1/listings/: each one narrows the list, a bad value is a
400 naming the parameter, and the list costs the same number of queries whatever
its length."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tenancy import Actor, tenant_scope, unscoped
from opportunities import reference
from opportunities.access import open_to_country
from opportunities.models import Listing
from opportunities.services import listing_transition
from tests.conftest import token_client
from tests.factories import OrganisationFactory, member
from tests.opportunities.conftest import create_listing, days, publish, seasonal_scheme, worker_offer

pytestmark = pytest.mark.django_db

URL = "/api/v1/listings/"


def plain_scheme(**overrides: Any) -> dict[str, Any]:
    """A demand scheme without the seasonal extras (caps, allocations, season)."""
    payload = seasonal_scheme(
        allocations=[],
        annual_cap=None,
        max_stay_months=None,
        stay_window_months=None,
        season_earliest_start="",
        season_latest_end="",
        fair_recruitment=False,
    )
    # Some schemes recruit health workers from Senegal (WHO safeguard list): they name the
    # G2G agreement the safeguard asks for (tests/opportunities/test_safeguards.py tests the gate).
    payload["government_agreement"] = "Spain–Senegal labour migration agreement (test)"
    payload.update(overrides)
    return payload


@pytest.fixture
def listings(spain_actor, morocco_actor, moderator) -> dict[str, str]:
    """Four published listings, published in this order.

    ============  =========  ==================  =====  ========  =======  ==========  ========  =====
    name          direction  scheme              owner  partners  sectors  window      deadline  total
    ============  =========  ==================  =====  ========  =======  ==========  ========  =====
    harvest       demand     seasonal            ES     MA SN     A 01     60..240     30        950
    offer         supply     seasonal            MA     (all)     -        30..300     20        500
    nurses        demand     talent_partnership  ES     PH        Q 86     120..800    90        200
    past          demand     seasonal            ES     MA        A        -200..-10   -30       80
    ============  =========  ==================  =====  ========  =======  ==========  ========  =====

    Only the harvest recruits fairly; only the nurses' scheme carries pension portability.
    """
    harvest = create_listing(spain_actor, seasonal_scheme())
    offer = create_listing(morocco_actor, worker_offer())
    nurses = create_listing(
        spain_actor,
        plain_scheme(
            title="Nurses for public hospitals",
            scheme_type="talent_partnership",
            partner_countries=["PH"],
            sectors=["Q", "86"],
            starts_on=days(120),
            ends_on=days(800),
            application_deadline=days(90),
            pension_portability=True,
            occupation_lines=[{"isco_code": "2221", "quantity": 150}, {"isco_code": "3221", "quantity": 50}],
        ),
    )
    past = create_listing(
        spain_actor,
        plain_scheme(
            title="Last year's olive harvest",
            partner_countries=["MA"],
            sectors=["A"],
            starts_on=days(-200),
            ends_on=days(-10),
            application_deadline=days(-30),
            occupation_lines=[{"isco_code": "9211", "quantity": 80}],
        ),
    )
    owners = {harvest.pk: spain_actor, offer.pk: morocco_actor, nurses.pk: spain_actor, past.pk: spain_actor}
    made = {"harvest": harvest, "offer": offer, "nurses": nurses, "past": past}
    for listing in made.values():
        publish(listing, owners[listing.pk], moderator)
    return {name: str(listing.pk) for name, listing in made.items()}


@pytest.fixture
def reader(db: Any):
    """An official of a third government (Senegal): sees every members-only listing, owns none."""
    senegal = OrganisationFactory(name="Ministry of Labour of Senegal", slug="sn-labour", country="SN", is_origin=True)
    user = member(senegal, "official", email="awa@travail.gouv.example", full_name="Awa Diop")
    return token_client(user, senegal)


def found(client, **params: Any) -> set[str]:
    response = client.get(URL, {"page_size": 100, **params})
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def ordered(client, **params: Any) -> list[str]:
    response = client.get(URL, {"page_size": 100, **params})
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def pick(listings: dict[str, str], *names: str) -> set[str]:
    return {listings[name] for name in names}


def test_without_filters_the_reader_sees_every_published_listing_newest_first(listings, reader):
    assert ordered(reader) == [listings["past"], listings["nurses"], listings["offer"], listings["harvest"]]


def test_an_owners_unpublished_listings_come_after_the_published_ones(listings, spain_actor, rosa, spain, moderator):
    """The default order is the newest published first; a listing never published (a draft, one
    in moderation) follows every published one, newest created first, whichever way
    ``published_at`` is ordered (the owner finds them first with ``status``)."""
    draft = str(create_listing(spain_actor, plain_scheme(title="Draft: olive pruning")).pk)
    submitted = create_listing(spain_actor, plain_scheme(title="Awaiting moderation"))
    with tenant_scope(spain_actor):
        listing_transition(actor=spain_actor, listing=submitted, action="submit")
    owner = token_client(rosa, spain)
    published = [listings["past"], listings["nurses"], listings["offer"], listings["harvest"]]
    unpublished = [str(submitted.pk), draft]
    assert ordered(owner) == published + unpublished
    assert ordered(owner, ordering="-published_at") == published + unpublished
    assert ordered(owner, ordering="published_at") == published[::-1] + unpublished
    assert ordered(owner, status="draft") == [draft]


def test_paging_through_a_filtered_list_shows_each_listing_once_in_the_order_of_one_page(
    listings, spain_actor, moderator, reader
):
    """Each page's ids are chosen first, then read (config.pagination.IdsFirstPagination): the
    pages put together are the one long page, in the same order."""
    for n in range(5):
        create_listing(spain_actor, plain_scheme(title=f"Draft {n}"))  # not the reader's: never on a page
        scheme = create_listing(spain_actor, plain_scheme(title=f"Scheme {n}", partner_countries=["MA"]))
        publish(scheme, spain_actor, moderator)
    for params in ({}, {"partner_country": "MA"}, {"partner_country": "MA", "occupation": "92"}):
        whole = ordered(reader, **params)
        pages = []
        for page in (1, 2, 3, 4, 5):
            response = reader.get(URL, {**params, "page_size": 2, "page": page})
            if response.status_code == 404:
                break
            assert response.json()["count"] == len(whole)
            pages += [row["id"] for row in response.json()["results"]]
        assert pages == whole
    assert len(ordered(reader, partner_country="MA", occupation="92")) == 7  # harvest, past and the five


# --- direction, scheme type, status -------------------------------------------------------------


def test_it_filters_by_direction(listings, reader):
    assert found(reader, direction="demand") == pick(listings, "harvest", "nurses", "past")
    assert found(reader, direction="supply") == pick(listings, "offer")


def test_it_filters_by_scheme_type(listings, reader):
    assert found(reader, scheme_type="talent_partnership") == pick(listings, "nurses")
    assert found(reader, scheme_type="seasonal") == pick(listings, "harvest", "offer", "past")
    assert found(reader, scheme_type="circular") == set()


def test_an_owner_finds_its_own_drafts_by_status_and_nobody_else_does(
    listings, spain_actor, rosa, spain, reader, agency, mona
):
    draft = str(create_listing(spain_actor, plain_scheme(title="Draft: olive pruning")).pk)
    owner = token_client(rosa, spain)
    assert found(owner, status="draft") == {draft}
    assert draft in found(owner)
    assert found(owner, status="published") == pick(listings, "harvest", "nurses", "past", "offer")
    assert found(reader, status="draft") == set()
    assert draft not in found(reader)
    assert found(token_client(mona, agency), status="draft") == set()


def test_it_filters_by_the_later_statuses(listings, spain_actor, morocco_actor, reader):
    nurses, offer = _get(listings["nurses"]), _get(listings["offer"])  # as the views find them, before the service
    with tenant_scope(spain_actor):
        listing_transition(actor=spain_actor, listing=nurses, action="close")
    with tenant_scope(morocco_actor):
        listing_transition(actor=morocco_actor, listing=offer, action="withdraw")
    assert found(reader, status="closed") == pick(listings, "nurses")
    assert found(reader, status="withdrawn") == pick(listings, "offer")
    assert found(reader, status="published") == pick(listings, "harvest", "past")


def test_a_moderator_finds_submitted_listings_by_status(listings, spain_actor, agency, mona):
    submitted = create_listing(spain_actor, plain_scheme(title="Awaiting moderation"))
    with tenant_scope(spain_actor):
        listing_transition(actor=spain_actor, listing=submitted, action="submit")
    assert found(token_client(mona, agency), status="submitted") == {str(submitted.pk)}


# --- countries -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["ES", "es", "Es", " es "])
def test_it_filters_by_owner_country_in_any_case(listings, reader, value):
    assert found(reader, owner_country=value) == pick(listings, "harvest", "nurses", "past")


def test_owner_country_of_a_country_without_listings_is_empty(listings, reader):
    assert found(reader, owner_country="MA") == pick(listings, "offer")
    assert found(reader, owner_country="FR") == set()


def test_a_listing_open_to_all_counts_as_open_to_every_partner_country(listings, reader):
    assert found(reader, partner_country="SN") == pick(listings, "harvest", "offer")
    assert found(reader, partner_country="sn") == pick(listings, "harvest", "offer")
    assert found(reader, partner_country="PH") == pick(listings, "nurses", "offer")
    assert found(reader, partner_country="BR") == pick(listings, "offer")


def test_open_to_a_country_is_the_expression_its_index_holds(listings):
    """``open_to_country`` asks the very expression ``listing_isco_open_countries`` indexes (its
    partners, or "*" when open to all): anything else, and PostgreSQL reads every listing."""
    with unscoped("the plan of the filter alone"), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plans = [
            Listing.objects.filter(open_to_country("MA")).explain(),
            Listing.objects.filter(open_to_country("MA"), isco_prefixes__contains=["92"]).explain(),
        ]
    assert all("listing_isco_open_countries" in plan for plan in plans), plans


# --- occupation ---------------------------------------------------------------------------------


@pytest.fixture
def growers(spain_actor, moderator) -> str:
    listing = create_listing(
        spain_actor, plain_scheme(title="Vegetable growers", occupation_lines=[{"isco_code": "6111", "quantity": 30}])
    )
    return str(publish(listing, spain_actor, moderator).pk)


@pytest.fixture
def nursing_group(spain_actor, moderator) -> str:
    """A listing whose only line is the minor group 222 (nursing and midwifery professionals)."""
    listing = create_listing(
        spain_actor,
        plain_scheme(title="Nursing and midwifery", occupation_lines=[{"isco_code": "222", "quantity": 30}]),
    )
    return str(publish(listing, spain_actor, moderator).pk)


@pytest.mark.parametrize("code", ["6", "61", "611", "6111"])
def test_the_occupation_filter_matches_a_unit_group_at_every_level(growers, nursing_group, reader, code):
    assert found(reader, occupation=code) == {growers}


@pytest.mark.parametrize("code", ["62", "612", "6112", "7"])
def test_the_occupation_filter_does_not_match_a_sibling_group(growers, reader, code):
    assert found(reader, occupation=code) == set()


@pytest.mark.parametrize("code", ["2", "22", "222"])
def test_a_minor_group_line_is_found_by_its_own_prefixes(growers, nursing_group, reader, code):
    assert found(reader, occupation=code) == {nursing_group}


def test_a_minor_group_line_is_not_found_by_a_unit_group_below_it(nursing_group, reader):
    # The listing asked for "nursing and midwifery professionals", not specifically midwives.
    assert found(reader, occupation="2221") == set()
    assert found(reader, occupation="2222") == set()


def test_the_occupation_filter_matches_any_line_of_a_listing(listings, reader):
    assert found(reader, occupation="3221") == pick(listings, "nurses")
    assert found(reader, occupation="2221") == pick(listings, "nurses")
    assert found(reader, occupation="92") == pick(listings, "harvest", "offer", "past")


# --- sector ---------------------------------------------------------------------------------------


def test_it_filters_by_sector_section_or_division(listings, reader):
    assert found(reader, sector="A") == pick(listings, "harvest", "past")
    assert found(reader, sector="a") == pick(listings, "harvest", "past")
    assert found(reader, sector="01") == pick(listings, "harvest")
    assert found(reader, sector="86") == pick(listings, "nurses")
    assert found(reader, sector="F") == set()


def test_a_listing_tagged_with_a_division_is_found_by_its_section(spain_actor, moderator, reader):
    crops = publish(
        create_listing(spain_actor, plain_scheme(title="Greenhouse crops", sectors=["01"])), spain_actor, moderator
    )
    assert found(reader, sector="A") == {str(crops.pk)}
    assert found(reader, sector="01") == {str(crops.pk)}
    assert found(reader, sector="02") == set()
    assert found(reader, sector="Q") == set()


# --- dates ----------------------------------------------------------------------------------------


def test_a_listing_whose_deadline_has_passed_is_not_open(listings, reader):
    assert found(reader, open="true") == pick(listings, "harvest", "offer", "nurses")
    assert found(reader, open="false") == pick(listings, "past")


def test_a_listing_is_open_on_its_deadline_day(spain_actor, moderator, reader):
    server_today = timezone.localdate().isoformat()  # the server's day, whatever the machine's time zone
    today = publish(
        create_listing(
            spain_actor, plain_scheme(title="Last call", starts_on=days(-5), application_deadline=server_today)
        ),
        spain_actor,
        moderator,
    )
    assert found(reader, open="true") == {str(today.pk)}
    assert found(reader, open="false") == set()


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (100, 119, {"harvest", "offer"}),  # inside the harvest's window
        (100, 120, {"harvest", "offer", "nurses"}),  # ends on the nurses' first day
        (0, 60, {"harvest", "offer"}),  # ends on the harvest's first day
        (240, 400, {"harvest", "offer", "nurses"}),  # starts on the harvest's last day
        (241, 299, {"offer", "nurses"}),  # after the harvest, inside the offer
        (0, 29, set()),  # before every open listing, after the past one
        (-300, -201, set()),  # before everything
        (-300, 1000, {"harvest", "offer", "nurses", "past"}),  # around everything
        (-10, -10, {"past"}),  # one day: the past listing's last
    ],
)
def test_the_window_filter_finds_overlapping_windows(listings, reader, start, end, expected):
    assert found(reader, window_start=days(start), window_end=days(end)) == pick(listings, *expected)


def test_the_window_filter_takes_either_bound_alone(listings, reader):
    assert found(reader, window_start=days(241)) == pick(listings, "offer", "nurses")
    assert found(reader, window_start=days(301)) == pick(listings, "nurses")
    assert found(reader, window_end=days(59)) == pick(listings, "offer", "past")
    assert found(reader, window_end=days(-201)) == set()


# --- conditions ---------------------------------------------------------------------------------


def test_it_filters_by_fair_recruitment(listings, reader):
    assert found(reader, fair_recruitment="true") == pick(listings, "harvest")
    assert found(reader, fair_recruitment="false") == pick(listings, "offer", "nurses", "past")


def test_it_filters_by_pension_portability(listings, reader):
    assert found(reader, pension_portability="true") == pick(listings, "nurses")
    assert found(reader, pension_portability="0") == pick(listings, "harvest", "offer", "past")


def test_filters_combine(listings, reader):
    assert found(reader, direction="demand", open="true", partner_country="MA") == pick(listings, "harvest")
    assert found(reader, owner_country="es", occupation="9", open="false") == pick(listings, "past")
    assert found(reader, direction="supply", fair_recruitment="true") == set()


# --- ordering ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("published_at", ["harvest", "offer", "nurses", "past"]),
        ("-published_at", ["past", "nurses", "offer", "harvest"]),
        ("application_deadline", ["past", "offer", "harvest", "nurses"]),
        ("-application_deadline", ["nurses", "harvest", "offer", "past"]),
        ("total_quantity", ["past", "nurses", "offer", "harvest"]),
        ("-total_quantity", ["harvest", "offer", "nurses", "past"]),
    ],
)
def test_it_orders_by_each_field_both_ways(listings, reader, ordering, expected):
    assert ordered(reader, ordering=ordering) == [listings[name] for name in expected]


def test_paging_through_an_ordering_with_ties_shows_every_listing_once(spain_actor, moderator, reader):
    ids = {
        str(publish(create_listing(spain_actor, plain_scheme(title=f"Scheme {n}")), spain_actor, moderator).pk)
        for n in range(7)
    }
    for ordering in ("total_quantity", "-application_deadline"):
        seen: list[str] = []
        for page in (1, 2, 3, 4):
            response = reader.get(URL, {"ordering": ordering, "page_size": 2, "page": page})
            assert response.status_code == 200, response.json()
            seen += [row["id"] for row in response.json()["results"]]
        assert sorted(seen) == sorted(ids)
        first = [row["id"] for row in reader.get(URL, {"ordering": ordering, "page_size": 7}).json()["results"]]
        assert seen == first


# --- bad values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("direction", "sideways"),
        ("scheme_type", "holiday"),
        ("status", "lost"),
        ("owner_country", "XX"),
        ("owner_country", "Spain"),
        ("partner_country", "ZZ"),
        ("occupation", "9999"),
        ("occupation", "61a"),
        ("occupation", "12345"),
        ("sector", "ZZ"),
        ("sector", "011"),
        ("open", "maybe"),
        ("window_start", "not-a-date"),
        ("window_end", "2025-02-30"),
        ("fair_recruitment", "perhaps"),
        ("pension_portability", "2"),
        ("ordering", "title"),
        ("ordering", "-id"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_parameter(listings, reader, name, value):
    response = reader.get(URL, {name: value})
    assert response.status_code == 400, response.json()
    assert list(response.json()) == [name]
    assert response.json()[name]


def test_a_window_that_ends_before_it_starts_is_a_400(reader):
    response = reader.get(URL, {"window_start": days(10), "window_end": days(9)})
    assert response.status_code == 400
    assert list(response.json()) == ["window_end"]


def test_empty_parameters_are_no_filter(listings, reader):
    params = dict.fromkeys(
        ["q", "direction", "status", "owner_country", "occupation", "sector", "open", "window_start"], ""
    )
    assert found(reader, **params) == pick(listings, "harvest", "offer", "nurses", "past")


# --- what the list costs --------------------------------------------------------------------------


def _many(actor: Actor, moderator: Actor, count: int) -> None:
    for n in range(count):
        listing = create_listing(
            actor,
            plain_scheme(
                title=f"Scheme {n}",
                occupation_lines=[
                    {"isco_code": "9211", "quantity": 10, "languages": [{"language": "es", "level": "A2"}]},
                    {"isco_code": "6111", "quantity": 5},
                    {"isco_code": "2221", "quantity": 1},
                ],
            ),
        )
        publish(listing, actor, moderator)


def _queries(client, url: str, params: dict[str, Any]) -> int:
    client.get(url)  # the token's last use is written at most once a minute: not part of the measure
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(captured)


# The list: the token with its user, organisation and its user's membership there
# (authentication, one statement), the capped count, and the page, whose rows carry their
# owner, contact, occupation lines and pending revision (opportunities.selectors.listing_rows).
# The detail: the same without the count.
LIST_QUERIES = 3
DETAIL_QUERIES = 2


def test_the_list_costs_the_same_queries_for_2_or_25_listings(spain_actor, moderator, reader):
    # The ISCO and ISIC code sets are read once per process, not per request.
    reference.isco_exists("9211")
    reference.isic_exists("A")
    _many(spain_actor, moderator, 3)
    small = _queries(reader, URL, {"page_size": 2})
    _many(spain_actor, moderator, 22)
    big = _queries(reader, URL, {"page_size": 25})
    assert small == big == LIST_QUERIES
    with_filters = {"page_size": 25, "q": "nurses", "occupation": "92", "owner_country": "ES", "sector": "A"}
    assert _queries(reader, URL, with_filters) == LIST_QUERIES


def test_the_list_costs_the_same_for_the_owner_with_drafts_and_pending_revisions(spain_actor, moderator, rosa, spain):
    owner = token_client(rosa, spain)
    _many(spain_actor, moderator, 3)
    for listing_id in [row["id"] for row in owner.get(URL).json()["results"]][:2]:
        response = owner.patch(f"{URL}{listing_id}/", {"title": "Renamed"}, format="json")
        assert response.status_code == 200
    create_listing(spain_actor, plain_scheme(title="A draft"))
    body = owner.get(URL).json()
    assert sum(1 for row in body["results"] if row["pending_revision"]) == 2
    assert _queries(owner, URL, {}) == LIST_QUERIES


def test_the_detail_costs_a_fixed_number_of_queries(spain_actor, moderator, reader, django_assert_num_queries):
    _many(spain_actor, moderator, 1)
    listing_id = reader.get(URL).json()["results"][0]["id"]
    with django_assert_num_queries(DETAIL_QUERIES):
        response = reader.get(f"{URL}{listing_id}/")
    assert response.status_code == 200
    assert len(response.json()["occupation_lines"]) == 3


def _get(listing_id: str):
    return Listing.objects.get(pk=listing_id)
