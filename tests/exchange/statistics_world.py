"""A small world whose every statistic is counted by hand in the tests.

Published through the real services (``published``); the matches are replaced by four
of known states, the moderation times and one publication date set by hand, and the
ledger entries written directly (the ledger's services live on their own branch).

Listings (quantities are places for demand, workers for supply):

====  ===========  ==========  =======  =========================  ====================  =====
id    owner        direction   visib.   scheme type                lines                 ISIC
====  ===========  ==========  =======  =========================  ====================  =====
D1    Italy        demand      public   seasonal                   9211×50, 6111×20      A
D2    Germany      demand      members  talent_partnership         2221×20               Q
S1    Philippines  supply      public   talent_partnership         2221×4                86→Q
S2    Moldova      supply      (draft)  seasonal                   9211×40               A
====  ===========  ==========  =======  =========================  ====================  =====

D2 was published on 2025-06-01 (set by hand); the others today.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Organisation
from accounts.tenancy import Actor, unscoped
from exchange.models import Match, OutcomeEntry
from opportunities.models import Listing, ListingTransition
from tests.exchange.conftest import offer, published, scheme
from tests.opportunities.conftest import TODAY, create_listing

YEAR = str(TODAY.year)
LAST_YEAR = str(TODAY.year - 1)


@dataclass
class World:
    d1: Listing
    d2: Listing
    s1: Listing
    s2: Listing
    wrong_arrival: OutcomeEntry


def _at(day: datetime.date, hours: float) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=datetime.UTC) + datetime.timedelta(hours=hours)


@pytest.fixture(name="world")
def world_fixture(
    italy: Organisation,
    bob: Any,
    germany_actor: Actor,
    philippines_actor: Actor,
    moldova_actor: Actor,
    italy_official: Actor,
    moderator: Actor,
) -> World:
    d1 = published(
        italy_official,
        moderator,
        scheme(
            title="Seasonal harvest, Apulia",
            visibility="public",
            sectors=["A"],
            partner_countries=["MA", "MD"],
            allocations=[{"country": "MA", "places": 40}, {"country": "MD", "places": 30}],
            fair_recruitment=True,
            gender_target_percent=30,
            occupation_lines=[{"isco_code": "9211", "quantity": 50}, {"isco_code": "6111", "quantity": 20}],
        ),
    )
    d2 = published(
        germany_actor,
        moderator,
        scheme(
            title="Nurses for Bavaria",
            visibility="members",
            scheme_type="talent_partnership",
            sectors=["Q"],
            partner_countries=["PH"],
            allocations=[{"country": "PH", "places": 25}],
            pension_portability=True,
            occupation_lines=[{"isco_code": "2221", "quantity": 20}],
        ),
    )
    s1 = published(
        philippines_actor,
        moderator,
        offer(
            title="Registered nurses",
            visibility="public",
            scheme_type="talent_partnership",
            sectors=["86"],
            qualification_recognition=True,
            occupation_lines=[{"isco_code": "2221", "quantity": 4}],
        ),
    )
    s2 = create_listing(moldova_actor, offer(title="Farm workers (draft)", sectors=["A"]))
    with unscoped("the statistics tests set the world's matches, times and ledger by hand"):
        Listing.objects.filter(pk=d2.pk).update(published_at=_at(datetime.date(2025, 6, 1), 9))
        # Moderation: each listing submitted on 5 January of last year and decided 10, 20 and 30 hours later.
        day = datetime.date(TODAY.year - 1, 1, 5)
        for listing, hours in ((d1, 10), (d2, 20), (s1, 30)):
            steps = ListingTransition.objects.filter(listing=listing)
            steps.filter(to_status="submitted").update(created_at=_at(day, 0))
            steps.filter(action="approve").update(created_at=_at(day, hours))
        Match.objects.all().delete()
        now = timezone.now()
        for demand, supply, state in (
            (d1, s1, "agreed"),
            (d2, s1, "in_dialogue"),
            (d1, s2, "interest_expressed"),
            (d2, s2, "declined"),
        ):
            Match.objects.create(
                demand=demand,
                supply=supply,
                demand_owner=demand.owner,
                supply_owner=supply.owner,
                score=0.5,
                state=state,
                computed_at=now,
            )

        def entry(listing: Listing, origin: str, stage: str, sex: str, count: int, **kw: Any) -> OutcomeEntry:
            return OutcomeEntry.objects.create(
                listing=listing,
                origin_country=origin,
                period=kw.pop("period", YEAR),
                stage=stage,
                sex=sex,
                count=count,
                organisation=listing.owner,
                **kw,
            )

        entry(d1, "MA", "selected", "F", 5)
        entry(d1, "MA", "selected", "M", 15)
        wrong = entry(d1, "MA", "arrived", "M", 40)
        entry(d1, "MA", "arrived", "M", 47, corrects=wrong, reason="Seven arrivals were missed.")
        entry(d1, "MA", "returned", "M", 18)
        entry(d1, "MD", "re_engaged", "X", 3)
        entry(d1, "MA", "withdrawn", "M", 6, period=LAST_YEAR)
        entry(d2, "PH", "selected", "F", 10)
    return World(d1=d1, d2=d2, s1=s1, s2=s2, wrong_arrival=wrong)
