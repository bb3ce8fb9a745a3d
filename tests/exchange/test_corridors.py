"""The corridor view (docs/corridors.md): every number equal to a hand count on a small fixture.

The fixture, for the corridor Moldova (origin) → Italy (destination):

* Italy's demand listings: D1 (members, partners [MD], 9211 × 10 + 6111 × 3), D2 (public, open to
  all, 9211 × 7), D5 (partners-only visibility, partners [MD], 2221 × 4): in the corridor. D3
  (partners [MA]) is not; D4 (a draft naming MD) is nobody's to see in the corridor.
* Moldova's supply listings: S1 (partners [IT], 9211 × 20 + 7126 × 5) and S3 (open to all, closed,
  9211 × 2) are in it; S2 (partners [ES]) is not.
* Matches, one per state, between the corridor's demand and supply; one Italy–Morocco match outside.
* Partnerships: P1 in force, Italy and Moldova confirmed, not public; P2 negotiating; P3 in force and
  public; P4 in force with Moldova only invited.
* Ledger (origin MD): D1 allocated X 12, selected F 3 + M 5, arrived F 2 corrected to 3, returned M 1;
  D5 nominated X 9; D3 (origin MA) arrived 50.
* Profiles: Italy 2024 and 2025 (public), Moldova 2025 (members); Italy short of 9211, Moldova with a
  surplus of 9211 and 5120.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from accounts.tenancy import Actor, unscoped
from exchange.corridors import selectors
from exchange.models import (
    Indicator,
    Match,
    MigrationProfile,
    OutcomeEntry,
    Partnership,
    PartnershipMember,
    Suggestion,
)
from exchange.profiles.services import observation_save, profile_create, profile_publish, skill_save
from opportunities.models import Listing
from tests.conftest import signed_in, token_client
from tests.exchange.conftest import offer, scheme
from tests.factories import OrganisationFactory, member
from tests.opportunities.conftest import create_listing, publish, transition


@pytest.fixture
def moldova(db: Any) -> Organisation:
    return OrganisationFactory(name="Moldova Labour", slug="md-labour", country="MD", is_origin=True)


@pytest.fixture
def actors(italy: Organisation, moldova: Organisation, morocco: Organisation, agency: Organisation) -> dict[str, Any]:
    users = {
        "italy": member(italy, "official", email="it@corridor.example"),
        "moldova": member(moldova, "official", email="md@corridor.example"),
        "morocco": member(morocco, "official", email="ma@corridor.example"),
        "agency": member(agency, "moderator", email="mod@corridor.example"),
    }
    orgs = {"italy": italy, "moldova": moldova, "morocco": morocco, "agency": agency}
    role = {"italy": "official", "moldova": "official", "morocco": "official", "agency": "moderator"}
    return {
        "users": users,
        "orgs": orgs,
        **{key: Actor(user=users[key], organisation=orgs[key], role=role[key]) for key in users},
    }


def _listing(owner: Actor, moderator: Actor, payload: dict[str, Any], *, publish_it: bool = True) -> Listing:
    listing = create_listing(owner, payload)
    return publish(listing, owner, moderator) if publish_it else listing


def _lines(*pairs: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"isco_code": code, "quantity": quantity} for code, quantity in pairs]


def _match(demand: Listing, supply: Listing, state: str) -> Match:
    """A match in ``state`` (update_or_create: where after-commit hooks run, as in the browser tests,
    the matching engine may have suggested the pair already)."""
    match, _created = Match.objects.update_or_create(
        demand=demand,
        supply=supply,
        defaults={
            "demand_owner": demand.owner,
            "supply_owner": supply.owner,
            "score": 0.5,
            "computed_at": timezone.now(),
            "state": state,
        },
    )
    return match


def _partnership(name: str, members: dict[Organisation, str], *, status: str, public: bool = False) -> Partnership:
    today = timezone.localdate()
    partnership = Partnership.objects.create(
        name=name,
        kind="mobility_partnership",
        status=status,
        public=public,
        in_force_from=today if status == "in_force" else None,
        signed_on=today if status == "in_force" else None,
        created_by_organisation=next(iter(members)),
    )
    for org, state in members.items():
        PartnershipMember.objects.create(
            partnership=partnership,
            organisation=org,
            state=state,
            invited_at=timezone.now(),
            confirmed_at=timezone.now() if state == "confirmed" else None,
        )
    return partnership


def _entry(listing: Listing, org: Organisation, stage: str, sex: str, count: int, **extra: Any) -> OutcomeEntry:
    with unscoped("the ledger's services are on another branch: entries made directly"):
        return OutcomeEntry.objects.create(
            listing=listing,
            origin_country=extra.pop("origin", "MD"),
            period="2026",
            stage=stage,
            sex=sex,
            count=count,
            organisation=org,
            **extra,
        )


def _profile(actor: Actor, year: int, visibility: str, figures: dict[str, int], skills: dict[str, str]) -> Any:
    profile = profile_create(actor=actor, data={"country": actor.country, "year": year, "visibility": visibility})
    for code, value in figures.items():
        for period, scale in ((year - 2, 1), (year - 1, 2)):  # the latest period is shown: value × 2
            observation_save(
                actor=actor,
                profile=profile,
                data={
                    "indicator": Indicator.objects.get(code=code),
                    "sex": "T",
                    "age": "_T",
                    "time_period": period,
                    "value": value * scale,
                    "source": "test",
                },
            )
    for code, kind in skills.items():
        skill_save(
            actor=actor,
            profile=profile,
            data={
                "kind": kind,
                "occupation_id": code,
                "sector_id": None,
                "severity": "high",
                "time_period": year - 1,
                "source": "test",
            },
        )
    return profile_publish(actor=actor, profile=profile)


@pytest.fixture
def corridor(actors: dict[str, Any], moderator: Actor) -> dict[str, Any]:
    it, md, ma = actors["italy"], actors["moldova"], actors["morocco"]
    o = actors["orgs"]
    d1 = _listing(
        it,
        moderator,
        scheme(title="D1 harvest", partner_countries=["MD"], occupation_lines=_lines(("9211", 10), ("6111", 3))),
    )
    d2 = _listing(it, moderator, scheme(title="D2 open", visibility="public", occupation_lines=_lines(("9211", 7))))
    d3 = _listing(it, moderator, scheme(title="D3 Morocco only", partner_countries=["MA"]))
    d4 = _listing(it, moderator, scheme(title="D4 draft", partner_countries=["MD"]), publish_it=False)
    d5 = _listing(
        it,
        moderator,
        scheme(
            title="D5 partners only",
            visibility="partners",
            partner_countries=["MD"],
            occupation_lines=_lines(("2221", 4)),
        ),
    )
    s1 = _listing(
        md,
        moderator,
        offer(title="S1 offer", partner_countries=["IT"], occupation_lines=_lines(("9211", 20), ("7126", 5))),
    )
    s2 = _listing(md, moderator, offer(title="S2 Spain only", partner_countries=["ES"]))
    s3 = _listing(md, moderator, offer(title="S3 closed", occupation_lines=_lines(("9211", 2))))
    transition(s3, md, "close")
    ma_offer = _listing(ma, moderator, offer(title="Morocco offer", partner_countries=["IT"]))

    states = ["suggested", "interest_expressed", "in_dialogue", "agreed", "declined", "lapsed"]
    pairs = [(d, s) for s in (s1, s3) for d in (d1, d2, d5)]
    matches = [_match(d, s, state) for (d, s), state in zip(pairs, states, strict=True)]
    _match(d3, ma_offer, "agreed")

    p1 = _partnership("P1 in force", {o["italy"]: "confirmed", o["moldova"]: "confirmed"}, status="in_force")
    _partnership("P2 talks", {o["italy"]: "confirmed", o["moldova"]: "confirmed"}, status="negotiating")
    p3 = _partnership("P3 public", {o["italy"]: "confirmed", o["moldova"]: "confirmed"}, status="in_force", public=True)
    _partnership("P4 invited", {o["italy"]: "confirmed", o["moldova"]: "invited"}, status="in_force", public=True)

    _entry(d1, o["italy"], "allocated", "X", 12)
    _entry(d1, o["moldova"], "selected", "F", 3)
    _entry(d1, o["moldova"], "selected", "M", 5)
    wrong = _entry(d1, o["moldova"], "arrived", "F", 2)
    _entry(d1, o["moldova"], "arrived", "F", 3, corrects=wrong, reason="one more arrived")
    _entry(d1, o["moldova"], "returned", "M", 1)
    _entry(d5, o["italy"], "nominated", "X", 9)
    _entry(d3, o["italy"], "arrived", "F", 50, origin="MA")

    _profile(it, 2024, "public", {"MIG_STOCK_IN": 100}, {"9211": "shortage"})
    it_profile = _profile(
        it, 2025, "public", {"MIG_STOCK_IN": 5000, "REMIT_OUT_USD": 7}, {"9211": "shortage", "2221": "shortage"}
    )
    md_profile = _profile(
        md, 2025, "members", {"MIG_STOCK_OUT": 3000, "REMIT_IN_USD": 900}, {"9211": "surplus", "5120": "surplus"}
    )

    def suggestion(destination: str, origin: str, code: str, state: str = "open") -> Suggestion:
        found, _created = Suggestion.objects.update_or_create(
            destination_country=destination, origin_country=origin, occupation_id=code, defaults={"state": state}
        )
        return found

    open_suggestion = suggestion("IT", "MD", "9211")
    suggestion("IT", "MD", "5120", "dismissed")
    suggestion("IT", "MA", "9211")
    return {
        **actors,
        "listings": {"d1": d1, "d2": d2, "d3": d3, "d4": d4, "d5": d5, "s1": s1, "s2": s2, "s3": s3},
        "matches": matches,
        "p1": p1,
        "p3": p3,
        "it_profile": it_profile,
        "md_profile": md_profile,
        "suggestion": open_suggestion,
    }


def view_of(actor: Actor) -> selectors.CorridorView:
    return selectors.corridor_view(actor=actor, origin="MD", destination="IT")


ALL_STATES = {
    "suggested": 1,
    "interest_expressed": 1,
    "in_dialogue": 1,
    "agreed": 1,
    "declined": 1,
    "lapsed": 1,
    "retired": 0,
}
NO_MATCHES = dict.fromkeys(ALL_STATES, 0)
EXACT = {
    "allocated": 12,
    "nominated": 9,
    "selected": 8,
    "visa_issued": 0,
    "arrived": 3,
    "completed": 0,
    "returned": 1,
    "re_engaged": 0,
    "withdrawn": 0,
}


# --- Hand counts, reader by reader -----------------------------------------------------------


def test_the_destination_government_sees_every_number(corridor: dict[str, Any]) -> None:
    view = view_of(corridor["italy"])
    listings = corridor["listings"]
    assert {listing.title for listing in view.listings} == {
        "D1 harvest",
        "D2 open",
        "D5 partners only",
        "S1 offer",
        "S3 closed",
    }
    assert {listing.pk for listing in view.listings if listing.direction == "demand"} == {
        listings["d1"].pk,
        listings["d2"].pk,
        listings["d5"].pk,
    }
    # Published listings only (S3 is closed): places 10 + 7 (9211) + 3 (6111) + 4 (2221); workers 20 + 5.
    assert view.by_major_group == [
        {"group": "2", "title": view.by_major_group[0]["title"], "places": 4, "workers": 0},
        {"group": "6", "title": view.by_major_group[1]["title"], "places": 3, "workers": 0},
        {"group": "7", "title": view.by_major_group[2]["title"], "places": 0, "workers": 5},
        {"group": "9", "title": view.by_major_group[3]["title"], "places": 17, "workers": 20},
    ]
    assert all(row["title"] for row in view.by_major_group)
    assert view.matches == ALL_STATES
    assert [p.name for p in view.partnerships] == ["P1 in force", "P3 public"]
    assert view.pipeline.exact is True
    assert view.pipeline.as_dict() == EXACT
    assert view.profiles["IT"].profile == corridor["it_profile"]
    assert view.profiles["IT"].figures["MIG_STOCK_IN"]["value"] == 10000  # 2025's profile, latest period
    assert view.profiles["IT"].figures["MIG_STOCK_IN"]["period"] == 2024
    assert view.profiles["IT"].figures["REMIT_OUT_USD"]["value"] == 14
    assert view.profiles["MD"].figures["MIG_STOCK_OUT"]["value"] == 6000
    assert view.profiles["MD"].figures["REMIT_IN_USD"]["value"] == 1800
    assert [(m["group"], m["shortage"].occupation_id, m["surplus"].occupation_id) for m in view.meeting] == [
        ("9211", "9211", "9211")
    ]
    assert [s.pk for s in view.suggestions] == [corridor["suggestion"].pk]


def test_the_origin_government_sees_the_same_numbers(corridor: dict[str, Any]) -> None:
    view = view_of(corridor["moldova"])
    assert len(view.listings) == 5
    assert view.matches == ALL_STATES
    assert view.pipeline.exact is True
    assert view.pipeline.as_dict() == EXACT
    assert [p.name for p in view.partnerships] == ["P1 in force", "P3 public"]
    assert [s.pk for s in view.suggestions] == [corridor["suggestion"].pk]


def test_an_agency_reads_the_ledger_exact_but_no_match(corridor: dict[str, Any]) -> None:
    view = view_of(corridor["agency"])
    assert len(view.listings) == 5
    assert view.matches == NO_MATCHES  # a match is read by its two governments alone
    assert view.pipeline.exact is True
    assert view.pipeline.as_dict() == EXACT
    assert [p.name for p in view.partnerships] == ["P3 public"]
    assert [s.pk for s in view.suggestions] == [corridor["suggestion"].pk]


def test_an_outsider_government_sees_small_cells_and_no_private_part(corridor: dict[str, Any]) -> None:
    view = view_of(corridor["morocco"])
    # D5 is partners-only (MD): Morocco cannot read it, nor count its places or its ledger.
    assert {listing.title for listing in view.listings} == {"D1 harvest", "D2 open", "S1 offer", "S3 closed"}
    assert [row["group"] for row in view.by_major_group] == ["6", "7", "9"]
    assert view.matches == NO_MATCHES
    assert [p.name for p in view.partnerships] == ["P3 public"]
    assert view.pipeline.exact is False
    assert view.pipeline.as_dict() == {
        **EXACT,
        "nominated": 0,
        "arrived": "<5",
        "returned": "<5",
    }
    assert view.profiles["MD"].profile == corridor["md_profile"]  # members' profiles: any signed-in reader
    assert view.suggestions == []


# --- Pages and API ---------------------------------------------------------------------------


def test_the_api_gives_the_corridor(corridor: dict[str, Any]) -> None:
    client = token_client(corridor["users"]["morocco"], corridor["orgs"]["morocco"])
    body = client.get("/api/v1/corridors/MD-IT/").json()
    assert body["origin"] == "MD" and body["destination"] == "IT"
    assert {row["id"] for row in body["listings"]} == {
        str(corridor["listings"][key].pk) for key in ("d1", "d2", "s1", "s3")
    }
    assert body["outcomes"] == {"exact": False, "stages": {**EXACT, "nominated": 0, "arrived": "<5", "returned": "<5"}}
    assert body["matches_by_state"] == NO_MATCHES
    assert [p["id"] for p in body["partnerships"]] == [str(corridor["p3"].pk)]
    assert body["by_isco_major_group"][-1] == {
        "group": "9",
        "title": body["by_isco_major_group"][-1]["title"],
        "places": 17,
        "workers": 20,
    }
    assert body["profiles"]["MD"]["figures"]["MIG_STOCK_OUT"] == {"period": 2024, "value": 6000}
    assert body["meeting"] == [{"group": "9211", "shortage": "9211", "surplus": "9211"}]
    assert body["suggestions"] == []

    italy = token_client(corridor["users"]["italy"], corridor["orgs"]["italy"]).get("/api/v1/corridors/MD-IT/").json()
    assert italy["outcomes"] == {"exact": True, "stages": EXACT}
    assert italy["matches_by_state"] == ALL_STATES


@pytest.mark.parametrize("code", ["MD-MD", "XX-IT", "md-it", "MDA-IT", "MD-IT-ES", "M1-IT"])
def test_a_bad_corridor_code_is_a_404(corridor: dict[str, Any], code: str) -> None:
    client = token_client(corridor["users"]["italy"], corridor["orgs"]["italy"])
    assert client.get(f"/api/v1/corridors/{code}/").status_code == 404
    assert signed_in(corridor["users"]["italy"]).get(f"/corridors/{code}/").status_code == 404


def test_anonymous_readers_sign_in_first(db: Any) -> None:
    assert APIClient().get("/api/v1/corridors/MD-IT/").status_code in (401, 403)
    response = Client().get("/corridors/MD-IT/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_page_shows_the_corridor(corridor: dict[str, Any]) -> None:
    response = signed_in(corridor["users"]["morocco"]).get("/corridors/MD-IT/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "D1 harvest" in html and "S1 offer" in html
    assert "D5 partners only" not in html and "D4 draft" not in html and "D3 Morocco only" not in html
    assert "P3 public" in html and "P1 in force" not in html
    assert 'data-chart="bar"' in html
    assert 'data-stage="arrived"><th scope="row">' in html
    assert "&lt;5" in html


def test_the_list_page_names_the_readers_corridors_and_opens_a_pair(corridor: dict[str, Any]) -> None:
    client = signed_in(corridor["users"]["moldova"])
    html = client.get("/corridors/").content.decode()
    assert "/corridors/MD-IT/" in html
    assert "/corridors/MD-ES/" in html  # S2 offers workers to Spain
    response = client.get("/corridors/", {"origin": "MD", "destination": "IT"})
    assert response.status_code == 302 and response["Location"] == "/corridors/MD-IT/"
    assert (
        "Choose two different countries"
        in client.get("/corridors/", {"origin": "MD", "destination": "MD"}).content.decode()
    )


# --- Query counts: fixed, whatever the number of listings ----------------------------------------


def _more(corridor: dict[str, Any], moderator: Actor, n: int) -> None:
    it, md = corridor["italy"], corridor["moldova"]
    for i in range(n):
        demand = _listing(it, moderator, scheme(title=f"More demand {i}", partner_countries=["MD"]))
        supply = _listing(md, moderator, offer(title=f"More supply {i}", partner_countries=["IT"]))
        _match(demand, supply, "agreed")
        _entry(demand, corridor["orgs"]["italy"], "allocated", "X", 3)


CORRIDOR_QUERIES = 11
API_QUERIES = 12
PAGE_QUERIES = 15


def test_the_corridor_costs_a_fixed_number_of_queries(
    corridor: dict[str, Any], moderator: Actor, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(CORRIDOR_QUERIES):
        first = view_of(corridor["italy"])
    _more(corridor, moderator, 3)
    with django_assert_num_queries(CORRIDOR_QUERIES):
        second = view_of(corridor["italy"])
    assert len(second.listings) == len(first.listings) + 6
    assert second.matches["agreed"] == 4
    assert second.pipeline.as_dict()["allocated"] == 12 + 9


def test_the_api_and_page_cost_a_fixed_number_of_queries(
    corridor: dict[str, Any], moderator: Actor, django_assert_num_queries: Any
) -> None:
    user: User = corridor["users"]["italy"]
    api = token_client(user, corridor["orgs"]["italy"])
    page = signed_in(user)
    api.get("/api/v1/corridors/MD-IT/")
    page.get("/corridors/MD-IT/")  # warm the session and caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before_api:
        api.get("/api/v1/corridors/MD-IT/")
    with CaptureQueriesContext(connection) as before_page:
        page.get("/corridors/MD-IT/")
    # The corridor's 11, and the caller: the token (API), the session, user and memberships (page).
    assert (len(before_api), len(before_page)) == (API_QUERIES, PAGE_QUERIES)
    _more(corridor, moderator, 3)
    with django_assert_num_queries(API_QUERIES):
        assert api.get("/api/v1/corridors/MD-IT/").status_code == 200
    with django_assert_num_queries(PAGE_QUERIES):
        assert page.get("/corridors/MD-IT/").status_code == 200


def test_profiles_the_reader_cannot_see_are_left_out(corridor: dict[str, Any]) -> None:
    with unscoped("a draft profile of Moldova's next year, for the test"):
        draft = MigrationProfile.objects.create(
            owner=corridor["orgs"]["moldova"], country="MD", year=2026, visibility="public"
        )
    assert draft.status == "draft"
    assert view_of(corridor["morocco"]).profiles["MD"].profile == corridor["md_profile"]


def test_the_compare_page_and_a_suggestion_link_to_the_corridor(corridor: dict[str, Any]) -> None:
    client = signed_in(corridor["users"]["italy"])
    compare = client.get("/profiles/compare/countries/?a=MD&b=IT&year=2025").content.decode()
    assert 'href="/corridors/MD-IT/"' in compare and 'href="/corridors/IT-MD/"' in compare
    assert client.get("/profiles/compare/countries/?a=M/&b=IT&year=2025").status_code == 200
    detail = client.get(f"/suggestions/{corridor['suggestion'].pk}/").content.decode()
    assert 'href="/corridors/MD-IT/"' in detail


# --- The reader rule of the ledger's sums ----------------------------------------------------


def test_the_corridor_ledger_audience(actors: dict[str, Any]) -> None:
    from exchange.access import corridor_ledger_audience
    from opportunities.access import Audience

    def audience(actor: Actor, origin: str = "MD", destination: str = "IT") -> Audience:
        return corridor_ledger_audience(actor, origin, destination)

    assert audience(actors["italy"]) is Audience.INSIDER  # the destination's government
    assert audience(actors["moldova"]) is Audience.INSIDER  # the origin's government
    assert audience(actors["agency"]) is Audience.INSIDER  # agency staff, whatever the corridor
    assert audience(actors["morocco"]) is Audience.OUTSIDER
    assert audience(actors["morocco"], "MA", "IT") is Audience.INSIDER
    assert audience(Actor.anonymous()) is Audience.OUTSIDER
    viewer = Actor(user=actors["users"]["italy"], organisation=actors["orgs"]["italy"], role="viewer")
    assert audience(viewer) is Audience.INSIDER  # reading, not writing: every role of the government
    italy = actors["orgs"]["italy"]
    italy.is_active = False
    assert audience(actors["italy"]) is Audience.OUTSIDER


def test_an_empty_corridor_is_a_page_with_empty_parts(actors: dict[str, Any]) -> None:
    body = token_client(actors["users"]["morocco"], actors["orgs"]["morocco"]).get("/api/v1/corridors/FR-DE/").json()
    assert body["listings"] == [] and body["by_isco_major_group"] == [] and body["partnerships"] == []
    assert set(body["outcomes"]["stages"].values()) == {0} and set(body["matches_by_state"].values()) == {0}
    assert body["profiles"] == {
        "FR": {"profile": None, "year": None, "version": None, "figures": {}},
        "DE": {"profile": None, "year": None, "version": None, "figures": {}},
    }
    page = signed_in(actors["users"]["morocco"]).get("/corridors/FR-DE/")
    assert page.status_code == 200 and "No figures to show." in page.content.decode()
