"""Full-text search over listings (GET /api/v1/listings/?q=).

A reader types what they are looking for in their own language; the listings are
written by other governments in other words. The occupations of a listing (their
ISCO titles in English, French and Spanish and their ESCO job titles) are part of
what is searched, so a scheme that only says "health-sector partnership" is found
by someone looking for nurses.
"""

from __future__ import annotations

from typing import Any

import pytest

from accounts.tenancy import Actor
from tests.conftest import token_client
from tests.factories import OrganisationFactory, member
from tests.opportunities.conftest import create_listing, publish, seasonal_scheme, worker_offer

pytestmark = pytest.mark.django_db


@pytest.fixture
def germany_actor(db: Any) -> Actor:
    germany = OrganisationFactory(
        name="Federal Employment Agency", slug="de-employment", country="DE", is_destination=True
    )
    user = member(germany, "official", email="jonas@arbeitsagentur.example", full_name="Jonas Weber")
    return Actor(user=user, organisation=germany, role="official")


def triple_win(**overrides: Any) -> dict[str, Any]:
    """A German talent partnership whose text never names the occupation it recruits."""
    payload = seasonal_scheme(
        title="Triple Win health-sector partnership",
        summary="Recognition of qualifications and German language training before departure.",
        description=(
            "Candidates are placed with hospitals and care homes across Germany. The partnership covers "
            "B1 German courses, the recognition procedure and relocation."
        ),
        scheme_type="talent_partnership",
        partner_countries=["PH", "TN", "IN"],
        sectors=["Q"],
        allocations=[],
        annual_cap=None,
        max_stay_months=None,
        stay_window_months=None,
        season_earliest_start="",
        season_latest_end="",
        occupation_lines=[{"isco_code": "2221", "quantity": 300, "languages": [{"language": "de", "level": "B1"}]}],
    )
    payload.update(overrides)
    return payload


def construction(**overrides: Any) -> dict[str, Any]:
    payload = seasonal_scheme(
        title="Residential building programme, Madrid region",
        summary="Site work on social-housing projects with on-the-job training.",
        description="Twelve-month contracts on building sites; safety induction in the first week.",
        scheme_type="circular",
        partner_countries=["MA"],
        sectors=["F"],
        allocations=[],
        annual_cap=None,
        max_stay_months=None,
        stay_window_months=None,
        season_earliest_start="",
        season_latest_end="",
        occupation_lines=[{"isco_code": "9313", "quantity": 120}],
    )
    payload.update(overrides)
    return payload


def software(**overrides: Any) -> dict[str, Any]:
    payload = seasonal_scheme(
        title="Digital talent pathway",
        summary="Two-year contracts with technology employers; remote interviews.",
        description="Backend and mobile engineering roles; English is the working language.",
        scheme_type="talent_partnership",
        partner_countries=[],
        sectors=["J"],
        allocations=[],
        annual_cap=None,
        max_stay_months=None,
        stay_window_months=None,
        season_earliest_start="",
        season_latest_end="",
        occupation_lines=[{"isco_code": "2512", "quantity": 40}],
    )
    payload.update(overrides)
    return payload


@pytest.fixture
def catalogue(germany_actor, spain_actor, morocco_actor, moderator) -> dict[str, Any]:
    """Published listings of different kinds, by three governments."""
    made = {
        "triple_win": publish(create_listing(germany_actor, triple_win()), germany_actor, moderator),
        "harvest": publish(create_listing(spain_actor, seasonal_scheme()), spain_actor, moderator),
        "building": publish(create_listing(spain_actor, construction()), spain_actor, moderator),
        "software": publish(create_listing(germany_actor, software()), germany_actor, moderator),
        "farm_workers": publish(create_listing(morocco_actor, worker_offer()), morocco_actor, moderator),
    }
    return {name: str(listing.pk) for name, listing in made.items()}


def search(client, **params: Any) -> list[str]:
    response = client.get("/api/v1/listings/", params)
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def reader(charlie, morocco):
    """Morocco's admin: a member organisation that sees every members-only listing."""
    return token_client(charlie, morocco)


@pytest.mark.parametrize("query", ["nurses", "nurse", "nursing", "Nursing professionals"])
def test_it_finds_a_nursing_scheme_by_its_occupation_in_english(catalogue, reader, query):
    assert search(reader, q=query) == [catalogue["triple_win"]]


@pytest.mark.parametrize(
    "query", ["infirmier", "infirmiers", "infirmière", "infirmières", "infirmiere", "cadres infirmiers"]
)
def test_it_finds_a_nursing_scheme_by_its_occupation_in_french(catalogue, reader, query):
    assert search(reader, q=query) == [catalogue["triple_win"]]


@pytest.mark.parametrize("query", ["enfermera", "enfermeras", "enfermero", "enfermería", "enfermeria", "ENFERMERÍA"])
def test_it_finds_a_nursing_scheme_by_its_occupation_in_spanish(catalogue, reader, query):
    # The Spanish stemmer gives "enfermera" and "enfermería" different stems.
    assert search(reader, q=query) == [catalogue["triple_win"]]


def care_home(description: str) -> dict[str, Any]:
    """A care-assistant scheme (ISCO 5322) whose description mentions nurses in passing."""
    return seasonal_scheme(
        title="Elderly care assistants, Castilla y León",
        summary="Residential care homes need care assistants.",
        description=description,
        scheme_type="circular",
        sectors=["Q"],
        occupation_lines=[{"isco_code": "5322", "quantity": 60}],
    )


@pytest.mark.parametrize(
    ("description", "query"),
    [
        ("Assistants work in teams led by the home's nurses.", "nurses"),
        # Every word of the query side by side, in passing: the Triple Win scheme recruits
        # nurses (its occupation) for hospitals (its description) and still leads.
        ("Assistants are trained by nurses from hospitals nearby.", "nurses hospitals"),
    ],
)
def test_a_listing_about_nurses_ranks_above_one_that_mentions_them_in_passing(
    catalogue, reader, spain_actor, moderator, description, query
):
    mention = publish(create_listing(spain_actor, care_home(description)), spain_actor, moderator)

    assert search(reader, q=query) == [catalogue["triple_win"], str(mention.pk)]


def test_a_nursing_scheme_ranks_above_plant_nurseries(catalogue, reader, spain_actor, moderator):
    # "nurs" is also the start of "nursery": such a listing may follow, never lead.
    growers = construction(title="Plant growers", occupation_lines=[{"isco_code": "6113", "quantity": 3}])
    publish(create_listing(spain_actor, growers), spain_actor, moderator)
    for query in ("nurses", "nurse", "nursing", "infirmières", "enfermeras"):
        assert search(reader, q=query)[0] == catalogue["triple_win"]


def test_a_listing_naming_the_occupation_in_its_title_ranks_first(catalogue, reader, spain_actor, moderator):
    # Title over occupation: both recruit nurses, one says so in its title.
    titled = triple_win(title="Nurses for Spanish hospitals", partner_countries=["MA"])
    named = publish(create_listing(spain_actor, titled), spain_actor, moderator)

    assert search(reader, q="nurse") == [str(named.pk), catalogue["triple_win"]]


def test_it_finds_a_listing_by_a_word_of_its_own_text(catalogue, reader):
    assert search(reader, q="strawberry") == [catalogue["harvest"]]
    assert search(reader, q="Triple Win") == [catalogue["triple_win"]]
    assert search(reader, q="hospitals") == [catalogue["triple_win"]]


def test_a_query_in_a_sentence_still_finds_the_listing(catalogue, reader):
    # Stop words of one language are ordinary words in another: the query still matches.
    assert search(reader, q="nurses in Germany") == [catalogue["triple_win"]]
    assert search(reader, q="enfermeras para hospitales") == [catalogue["triple_win"]]
    assert search(reader, q="strawberry harvest in Huelva") == [catalogue["harvest"]]


def test_it_finds_seasonal_farm_work_by_an_esco_job_title(catalogue, reader):
    # Neither listing says "picker": 9211's ESCO occupations do ("fruit and vegetable picker").
    found = search(reader, q="fruit picker")
    assert set(found) == {catalogue["harvest"], catalogue["farm_workers"]}
    assert search(reader, q="vineyard worker") and set(search(reader, q="vineyard worker")) == set(found)


def test_it_finds_construction_and_software_work_by_occupation(catalogue, reader):
    assert search(reader, q="construction labourers") == [catalogue["building"]]
    assert search(reader, q="peones de la construcción") == [catalogue["building"]]
    assert search(reader, q="software developer") == [catalogue["software"]]
    assert search(reader, q="concepteurs de logiciels") == [catalogue["software"]]


@pytest.mark.parametrize(
    ("query", "unrelated"),
    [
        ("nurses", ["building", "harvest", "software", "farm_workers"]),
        ("enfermera", ["building", "harvest", "software", "farm_workers"]),
        ("strawberry", ["building", "triple_win", "software", "farm_workers"]),
        ("software", ["building", "triple_win", "harvest", "farm_workers"]),
    ],
)
def test_a_search_does_not_return_unrelated_listings(catalogue, reader, query, unrelated):
    found = search(reader, q=query)
    assert found
    assert not {catalogue[name] for name in unrelated} & set(found)


def test_a_search_for_something_nobody_offers_is_empty(catalogue, reader):
    assert search(reader, q="astronaut") == []


def test_every_word_of_the_query_must_match(catalogue, reader):
    assert search(reader, q="nurses strawberry") == []


def test_punctuation_and_query_syntax_in_q_are_harmless(catalogue, reader):
    assert search(reader, q="nurses!") == [catalogue["triple_win"]]
    assert search(reader, q="nurse & | ! ( :*") == [catalogue["triple_win"]]
    assert search(reader, q="   ") != []  # only spaces: no search at all, every listing


def test_q_combines_with_the_other_filters(catalogue, reader):
    assert search(reader, q="fruit picker", direction="demand") == [catalogue["harvest"]]
    assert search(reader, q="fruit picker", direction="supply") == [catalogue["farm_workers"]]
    assert search(reader, q="fruit picker", owner_country="ma") == [catalogue["farm_workers"]]
    assert search(reader, q="nurses", owner_country="ES") == []
    assert search(reader, q="nurses", partner_country="TN", occupation="22") == [catalogue["triple_win"]]
    assert search(reader, q="nurses", partner_country="SN") == []


def test_q_with_ordering_follows_the_ordering(catalogue, reader):
    found = search(reader, q="fruit picker", ordering="-total_quantity")
    assert found == [catalogue["harvest"], catalogue["farm_workers"]]  # 950 places, then 500 workers
    assert search(reader, q="fruit picker", ordering="total_quantity") == found[::-1]


def test_a_search_never_returns_what_the_caller_may_not_read(
    catalogue, germany_actor, spain_actor, morocco, moderator, rosa, spain, anon_api
):
    draft = create_listing(germany_actor, triple_win(title="Second Triple Win cohort"))
    partners_only = publish(
        create_listing(
            germany_actor, triple_win(title="Triple Win, Philippines", visibility="partners", partner_countries=["PH"])
        ),
        germany_actor,
        moderator,
    )
    public = publish(
        create_listing(germany_actor, triple_win(title="Triple Win, open call", visibility="public")),
        germany_actor,
        moderator,
    )

    morocco_reader = token_client(*_member_of(morocco))
    assert set(search(morocco_reader, q="nurses")) == {catalogue["triple_win"], str(public.pk)}
    assert set(search(token_client(rosa, spain), q="enfermera")) == {catalogue["triple_win"], str(public.pk)}
    assert anon_api.get("/api/v1/listings/", {"q": "nurses"}).status_code == 401
    owner = token_client(germany_actor.user, germany_actor.organisation)
    assert set(search(owner, q="nurses")) == {
        catalogue["triple_win"],
        str(draft.pk),
        str(partners_only.pk),
        str(public.pk),
    }
    assert str(draft.pk) in search(owner, q="nurses", status="draft")
    assert search(morocco_reader, q="nurses", status="draft") == []


def test_a_draft_is_searchable_by_its_owner_as_soon_as_it_is_saved(germany_actor, charlie, morocco):
    draft = create_listing(germany_actor, triple_win())
    owner = token_client(germany_actor.user, germany_actor.organisation)
    assert search(owner, q="infirmières") == [str(draft.pk)]
    assert search(token_client(charlie, morocco), q="infirmières") == []


def test_an_edit_of_a_draft_is_searchable_at_once(germany_actor):
    owner = token_client(germany_actor.user, germany_actor.organisation)
    draft = create_listing(germany_actor, triple_win())
    response = owner.patch(
        f"/api/v1/listings/{draft.pk}/",
        {"title": "Caregivers for Bavaria", "occupation_lines": [{"isco_code": "5322", "quantity": 10}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert search(owner, q="nurses") == []
    assert search(owner, q="Bavaria") == [str(draft.pk)]


def test_an_approved_revision_is_what_the_search_finds(germany_actor, moderator, charlie, morocco, agency, mona):
    owner = token_client(germany_actor.user, germany_actor.organisation)
    listing = publish(create_listing(germany_actor, software()), germany_actor, moderator)
    edited = owner.patch(
        f"/api/v1/listings/{listing.pk}/", {"occupation_lines": [{"isco_code": "2221", "quantity": 5}]}, format="json"
    )
    assert edited.status_code == 200, edited.json()
    reader = token_client(charlie, morocco)
    # Pending: the published version is still the one found.
    assert search(reader, q="nurses") == []
    assert search(reader, q="software developers") == [str(listing.pk)]
    approved = token_client(mona, agency).post(f"/api/v1/listings/{listing.pk}/approve/")
    assert approved.status_code == 200, approved.json()
    assert search(reader, q="nurses") == [str(listing.pk)]
    assert search(reader, q="software developers") == []


def test_an_overlong_query_is_a_400_naming_q(reader):
    response = reader.get("/api/v1/listings/", {"q": "nurse " * 50})
    assert response.status_code == 400
    assert "q" in response.json()


def _member_of(organisation):
    user = member(organisation, "official", email=f"reader@{organisation.slug}.example", full_name="A Reader")
    return user, organisation
