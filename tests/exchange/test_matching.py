"""Matching on realistic pairs, with the explanation a person reads asserted."""

from __future__ import annotations

import pytest

from exchange.models import Match
from opportunities.services import listing_transition
from tests.exchange.conftest import offer, published, run_on_commit, scheme
from tests.opportunities.conftest import days

pytestmark = pytest.mark.django_db


def triple_win(**overrides):
    return scheme(
        title="Triple Win: nurses for German hospitals",
        scheme_type="talent_partnership",
        partner_countries=["PH"],
        qualification_recognition=True,
        fair_recruitment=True,
        occupation_lines=[
            {"isco_code": "2221", "quantity": 450, "languages": [{"language": "de", "level": "B1"}]},
        ],
        **overrides,
    )


def philippine_nurses(**overrides):
    payload = {
        "title": "Registered nurses ready for deployment",
        "scheme_type": "talent_partnership",
        "occupation_lines": [
            {
                "isco_code": "2221",
                "quantity": 300,
                "languages": [{"language": "de", "level": "A2"}, {"language": "en", "level": "C1"}],
            },
        ],
    }
    return offer(**{**payload, **overrides})


def test_a_care_worker_partnership_meets_a_nurses_offer_with_a_language_gap(
    germany_actor, philippines_actor, moderator
):
    demand = published(germany_actor, moderator, triple_win())
    supply = published(philippines_actor, moderator, philippine_nurses())
    match = Match.objects.get(demand=demand, supply=supply)
    explanation = match.explanation
    assert explanation["occupations"] == [
        {
            "demand": {"isco_code": "2221", "title": "Nursing professionals", "quantity": 450},
            "supply": {"isco_code": "2221", "title": "Nursing professionals", "quantity": 300},
            "level": "unit_group",
            "shared_code": "2221",
            "shared_title": "Nursing professionals",
            "description": "2221 meets 2221 at the unit group",
        }
    ]
    assert explanation["languages"] == [
        {
            "language": "de",
            "required": "B1",
            "offered": "A2",
            "met": False,
            "isco_code": "2221",
            "message": "requires de B1, offer has A2",
        }
    ]
    assert "2221: requires de B1, offer has A2." in explanation["missing"]
    assert explanation["quantities"] == {"demand": 450, "supply": 300, "demand_matched": 450, "supply_matched": 300}
    assert "The offer covers 300 of the 450 places matched." in explanation["missing"]
    assert explanation["eligibility"] == {
        "demand_admits_supply": "PH is a partner country",
        "supply_admits_demand": "open to all countries",
    }
    assert explanation["window"]["start"] == days(60) and explanation["window"]["end"] == days(300)
    # The worked example of docs/matching.md: same unit group, a language gap, a shortfall.
    assert match.score == pytest.approx(0.8)
    assert match.explanation["components"] == {
        "occupation": 1.0,
        "quantity": 0.6667,
        "language": 0.5,
        "skill": 1.0,
        "sector": 0.5,
        "conditions": 0.5,
    }
    assert match.state == "suggested"


def test_closing_the_language_gap_raises_the_score(germany_actor, philippines_actor, moderator):
    demand = published(germany_actor, moderator, triple_win())
    weak = published(philippines_actor, moderator, philippine_nurses())
    strong = published(
        philippines_actor,
        moderator,
        philippine_nurses(
            title="Nurses with German B1",
            occupation_lines=[{"isco_code": "2221", "quantity": 450, "languages": [{"language": "de", "level": "B1"}]}],
        ),
    )
    assert Match.objects.get(demand=demand, supply=strong).score > Match.objects.get(demand=demand, supply=weak).score
    assert Match.objects.get(demand=demand, supply=strong).explanation["languages"][0]["met"] is True


def test_a_seasonal_scheme_meets_farm_workers_at_unit_and_major_group(italy_official, moldova_actor, moderator):
    demand = published(
        italy_official,
        moderator,
        scheme(
            title="Decreto flussi: seasonal agriculture",
            partner_countries=["MD", "MA"],
            sectors=["A"],
            occupation_lines=[{"isco_code": "9211", "quantity": 200}, {"isco_code": "6111", "quantity": 50}],
        ),
    )
    supply = published(
        moldova_actor,
        moderator,
        offer(
            title="Farm and forestry workers",
            sectors=["01"],
            occupation_lines=[{"isco_code": "9211", "quantity": 300}, {"isco_code": "6210", "quantity": 40}],
        ),
    )
    explanation = Match.objects.get(demand=demand, supply=supply).explanation
    pairs = {(p["demand"]["isco_code"], p["supply"]["isco_code"]): p for p in explanation["occupations"]}
    assert pairs[("9211", "9211")]["level"] == "unit_group"
    six = pairs[("6111", "6210")]
    assert six["level"] == "major_group" and six["shared_code"] == "6"
    assert six["shared_title"] == "Skilled agricultural, forestry and fishery workers"
    assert six["description"] == "6111 meets 6210 at the major group (6)"
    assert explanation["sectors"]["shared"] == ["A"]  # division 01 belongs to section A


def test_windows_that_do_not_overlap_make_no_match(italy_official, moldova_actor, moderator):
    published(italy_official, moderator, scheme(starts_on=days(60), ends_on=days(120), application_deadline=days(30)))
    published(moldova_actor, moderator, offer(starts_on=days(121), ends_on=days(400), application_deadline=days(100)))
    assert Match.objects.count() == 0


def test_partner_countries_that_exclude_the_other_side_make_no_match(italy_official, moldova_actor, moderator):
    published(italy_official, moderator, scheme(partner_countries=["MA", "SN"]))
    published(moldova_actor, moderator, offer())
    assert Match.objects.count() == 0


def test_a_supply_listing_that_excludes_the_destination_makes_no_match(italy_official, moldova_actor, moderator):
    published(italy_official, moderator, scheme())
    published(moldova_actor, moderator, offer(partner_countries=["DE", "AT"]))
    assert Match.objects.count() == 0


def test_listings_of_the_same_country_or_direction_never_match(italy_official, moderator, alice, italy):
    published(italy_official, moderator, scheme())
    published(italy_official, moderator, scheme(title="Another Italian scheme"))
    assert Match.objects.count() == 0


def test_no_occupation_in_common_is_no_match(italy_official, moldova_actor, moderator):
    published(italy_official, moderator, scheme(occupation_lines=[{"isco_code": "2512", "quantity": 10}]))
    published(moldova_actor, moderator, offer(occupation_lines=[{"isco_code": "9211", "quantity": 10}]))
    assert Match.objects.count() == 0


def test_unpublished_listings_are_never_matched(italy_official, moldova_actor, moderator):
    from tests.opportunities.conftest import create_listing

    published(italy_official, moderator, scheme())
    draft = create_listing(moldova_actor, offer())
    run_on_commit(listing_transition, actor=moldova_actor, listing=draft, action="submit")
    assert Match.objects.count() == 0


def test_closing_a_listing_retires_its_suggestions_and_lapses_its_dialogues(italy_official, moldova_actor, moderator):
    demand = published(italy_official, moderator, scheme())
    first = published(moldova_actor, moderator, offer())
    second = published(moldova_actor, moderator, offer(title="Second offer"))
    Match.objects.filter(supply=second).update(state="in_dialogue")
    run_on_commit(listing_transition, actor=italy_official, listing=demand, action="close")
    assert Match.objects.get(supply=first).state == "retired"
    assert Match.objects.get(supply=second).state == "lapsed"


def test_an_approved_revision_recomputes_the_matches(italy_official, moldova_actor, moderator, bob, italy):
    from tests.conftest import token_client

    demand = published(italy_official, moderator, scheme(occupation_lines=[{"isco_code": "9211", "quantity": 100}]))
    supply = published(moldova_actor, moderator, offer(occupation_lines=[{"isco_code": "9212", "quantity": 100}]))
    before = Match.objects.get(demand=demand, supply=supply)
    assert before.explanation["occupations"][0]["level"] == "minor_group"
    token_client(bob, italy).patch(
        f"/api/v1/listings/{demand.id}/", {"occupation_lines": [{"isco_code": "9212", "quantity": 100}]}, format="json"
    )
    run_on_commit(listing_transition, actor=moderator, listing=demand, action="approve")
    after = Match.objects.get(demand=demand, supply=supply)
    assert after.explanation["occupations"][0]["level"] == "unit_group"
    assert after.score > before.score and after.pk == before.pk


def test_a_revision_that_excludes_the_partner_retires_the_suggestion(
    italy_official, moldova_actor, moderator, bob, italy
):
    from tests.conftest import token_client

    demand = published(italy_official, moderator, scheme())
    published(moldova_actor, moderator, offer())
    token_client(bob, italy).patch(f"/api/v1/listings/{demand.id}/", {"partner_countries": ["MA"]}, format="json")
    run_on_commit(listing_transition, actor=moderator, listing=demand, action="approve")
    assert Match.objects.get().state == "retired"
