"""The corridor between an origin and a destination country, as one reader may see it (docs/corridors.md).

Every part starts from the access layer: listings from
``opportunities.access.listing_visible_to`` (directions decided with
``open_to_country``), matches from ``exchange.access.match_visible_to``,
partnerships from ``partnership_visible_to``, the ledger's sums from
``corridor_outcome_totals`` shown per ``corridor_ledger_audience``, profiles
from ``profile_visible_to`` and suggestions from ``suggestion_visible_to``.
Counts are summed in SQL: the corridor costs a fixed number of queries however
many listings, matches or ledger entries it has.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django_countries import countries

from accounts.tenancy import Actor
from exchange import access
from exchange.models import (
    MatchState,
    MemberState,
    MigrationProfile,
    Observation,
    OutcomeStage,
    Partnership,
    PartnershipMember,
    PartnershipStatus,
    ProfileSkill,
    ProfileStatus,
    Suggestion,
    SuggestionState,
)
from exchange.models.profiles import TOTAL_AGE, Indicator, Sex, SkillKind
from exchange.outcomes.ledger import small_cell
from exchange.profiles.suggestions import meeting_group
from opportunities.access import LIVE, PUBLISHED_ONCE, Audience, listing_visible_to, naming_country, open_to_country
from opportunities.models import Direction, Listing, Occupation, OccupationLine

# The profile indicators shown side by side: the stocks, then the remittances.
STOCK_INDICATORS = ("MIG_STOCK_IN", "MIG_STOCK_IN_PCT", "MIG_STOCK_OUT", "NET_MIGRATION")
REMITTANCE_INDICATORS = ("REMIT_IN_USD", "REMIT_IN_GDP", "REMIT_OUT_USD", "REMIT_COST")
CORRIDOR_INDICATORS = STOCK_INDICATORS + REMITTANCE_INDICATORS


def parse_corridor(origin: str, destination: str) -> tuple[str, str] | None:
    """Two different known ISO 3166-1 alpha-2 codes, upper case; anything else is None (a 404)."""
    known = dict(countries)
    if origin == destination or origin not in known or destination not in known:
        return None
    if not (len(origin) == 2 and origin.isalpha() and origin.isupper()):
        return None
    if not (len(destination) == 2 and destination.isalpha() and destination.isupper()):
        return None
    return origin, destination


def country_name(code: str) -> str:
    return str(dict(countries).get(code, code))


def corridor_listing_filter(origin: str, destination: str) -> Q:
    """The corridor's listings both ways: the destination's demand listings open to the origin, and the
    origin's supply listings open to the destination (``open_to_country``: naming it, or open to all)."""
    demand = Q(direction=Direction.DEMAND, owner_country=destination) & open_to_country(origin)
    supply = Q(direction=Direction.SUPPLY, owner_country=origin) & open_to_country(destination)
    return demand | supply


def corridor_listings(*, actor: Actor, origin: str, destination: str) -> QuerySet[Listing]:
    """The corridor's published listings (and their history: closed, withdrawn, expired) the actor may read."""
    return (
        listing_visible_to(actor=actor)
        .filter(corridor_listing_filter(origin, destination), PUBLISHED_ONCE)
        .order_by("direction", "-published_at", "title")
    )


def places_by_major_group(listings: QuerySet[Listing]) -> list[dict[str, Any]]:
    """Places (demand) and workers (supply) of the *published* listings, by ISCO major group: one query
    for the sums, one for the groups' titles."""
    live = listings.filter(LIVE).order_by().values("pk")
    sums = (
        OccupationLine.objects.filter(listing__in=live)
        .annotate(major=Substr("occupation_id", 1, 1))
        .values("major", "listing__direction")
        .annotate(total=Sum("quantity"))
        .order_by("major")
    )
    rows: dict[str, dict[str, Any]] = {}
    for row in sums:
        entry = rows.setdefault(row["major"], {"group": row["major"], "title": "", "places": 0, "workers": 0})
        entry["places" if row["listing__direction"] == Direction.DEMAND else "workers"] += row["total"]
    if rows:
        for occupation in Occupation.objects.filter(code__in=list(rows)):
            rows[occupation.code]["title"] = occupation.title
    return [rows[code] for code in sorted(rows)]


def matches_by_state(*, actor: Actor, origin: str, destination: str) -> dict[str, int]:
    """The matches between the destination's demand and the origin's supply that the actor may read, by
    state (every state, 0 when none). A reader who is neither party reads none, so counts none."""
    counts = (
        access.match_visible_to(actor=actor)
        .filter(demand__owner_country=destination, supply__owner_country=origin)
        .values("state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    found = {row["state"]: row["n"] for row in counts}
    return {state: found.get(state, 0) for state in MatchState.values}


def partnerships_in_force(*, actor: Actor, origin: str, destination: str) -> QuerySet[Partnership]:
    """The partnerships in force the actor may read whose confirmed members include a government of each
    country."""

    def confirmed(country: str) -> Exists:
        return Exists(
            PartnershipMember.objects.filter(
                partnership=OuterRef("pk"), state=MemberState.CONFIRMED, organisation__country=country
            )
        )

    return (
        access.partnership_visible_to(actor=actor)
        .filter(confirmed(origin), confirmed(destination), status=PartnershipStatus.IN_FORCE)
        .order_by("name", "pk")
    )


@dataclass
class Pipeline:
    """The outcome pipeline summed over the corridor's schemes: a figure per stage, sexes summed."""

    exact: bool
    stages: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, int | str | None]:
        return {row["stage"]: row["count"] for row in self.stages}


def outcome_pipeline(*, actor: Actor, origin: str, destination: str) -> Pipeline:
    """Effective ledger entries (corrections replace what they correct) by stage, in one query over the kept
    sums (``exchange.outcomes.totals``); exact for the corridor's two governments and the agencies, through
    ``small_cell`` for everyone else."""
    kept = access.corridor_outcome_totals(actor=actor, origin=origin, destination=destination)
    sums = {row["stage"]: row["total"] for row in kept.values("stage").annotate(total=Sum("people")).order_by()}
    exact = access.corridor_ledger_audience(actor, origin, destination) is Audience.INSIDER
    stages = []
    for stage in OutcomeStage:
        total = sums.get(stage.value, 0)
        stages.append({"stage": stage.value, "label": stage.label, "count": total if exact else small_cell(total)})
    return Pipeline(exact=exact, stages=stages)


@dataclass
class CountryProfile:
    """One country's current published profile (the latest reference year the reader may read)."""

    profile: MigrationProfile | None
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)


def _current_profiles(actor: Actor, codes: list[str]) -> dict[str, MigrationProfile]:
    profiles = (
        access.profile_visible_to(actor=actor)
        .filter(country__in=codes, status=ProfileStatus.PUBLISHED)
        .order_by("country", "-year", "-version")
        .distinct("country")
    )
    return {str(profile.country): profile for profile in profiles}


def corridor_profiles(*, actor: Actor, origin: str, destination: str) -> dict[str, CountryProfile]:
    """Each country's current published profile with its stock and remittance figures (total, all ages, the
    latest time period of each indicator): three queries."""
    profiles = _current_profiles(actor, [origin, destination])
    shown = {code: CountryProfile(profile=profiles.get(code)) for code in (origin, destination)}
    if profiles:
        figures = Observation.objects.filter(
            profile__in=list(profiles.values()), indicator_id__in=CORRIDOR_INDICATORS, sex=Sex.TOTAL, age=TOTAL_AGE
        ).order_by("profile_id", "indicator_id", "-time_period")
        by_profile = {profile.pk: code for code, profile in profiles.items()}
        for figure in figures:
            slot = shown[by_profile[figure.profile_id]].figures
            slot.setdefault(figure.indicator_id, {"period": figure.time_period, "value": figure.value})
    return shown


def corridor_indicators() -> list[Indicator]:
    """The indicators the corridor shows, in the order of ``CORRIDOR_INDICATORS``."""
    found = {indicator.code: indicator for indicator in Indicator.objects.filter(code__in=CORRIDOR_INDICATORS)}
    return [found[code] for code in CORRIDOR_INDICATORS if code in found]


def meeting_skills(profiles: dict[str, CountryProfile], *, origin: str, destination: str) -> list[dict[str, Any]]:
    """The destination's shortages and the origin's surpluses that meet (``meeting_group``), one query."""
    wanted = profiles[destination].profile
    offered = profiles[origin].profile
    if wanted is None or offered is None:
        return []
    rows = ProfileSkill.objects.filter(
        Q(profile=wanted, kind=SkillKind.SHORTAGE) | Q(profile=offered, kind=SkillKind.SURPLUS),
        occupation__isnull=False,
    ).select_related("occupation")
    by_kind: dict[str, list[ProfileSkill]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row)
    meets = []
    for shortage in by_kind[SkillKind.SHORTAGE]:
        for surplus in by_kind[SkillKind.SURPLUS]:
            group = meeting_group(str(shortage.occupation_id), str(surplus.occupation_id))
            if group is not None:
                meets.append({"group": group, "shortage": shortage, "surplus": surplus})
    return sorted(meets, key=lambda m: (m["group"], m["shortage"].occupation_id, m["surplus"].occupation_id))


def open_suggestions(*, actor: Actor, origin: str, destination: str) -> QuerySet[Suggestion]:
    """The open suggestions for the pair (destination short, origin offering) the actor may read."""
    return (
        access.suggestion_visible_to(actor=actor)
        .filter(destination_country=destination, origin_country=origin, state=SuggestionState.OPEN)
        .select_related("occupation")
        .order_by("occupation_id")
    )


@dataclass
class CorridorView:
    origin: str
    destination: str
    listings: list[Listing]
    by_major_group: list[dict[str, Any]]
    matches: dict[str, int]
    partnerships: list[Partnership]
    pipeline: Pipeline
    profiles: dict[str, CountryProfile]
    indicators: list[Indicator]
    meeting: list[dict[str, Any]]
    suggestions: list[Suggestion]


def corridor_view(*, actor: Actor, origin: str, destination: str) -> CorridorView:
    """Everything the corridor shows this reader: a fixed number of queries."""
    listings = corridor_listings(actor=actor, origin=origin, destination=destination)
    profiles = corridor_profiles(actor=actor, origin=origin, destination=destination)
    return CorridorView(
        origin=origin,
        destination=destination,
        listings=list(listings),
        by_major_group=places_by_major_group(listings),
        matches=matches_by_state(actor=actor, origin=origin, destination=destination),
        partnerships=list(partnerships_in_force(actor=actor, origin=origin, destination=destination)),
        pipeline=outcome_pipeline(actor=actor, origin=origin, destination=destination),
        profiles=profiles,
        indicators=corridor_indicators(),
        meeting=meeting_skills(profiles, origin=origin, destination=destination),
        suggestions=list(open_suggestions(actor=actor, origin=origin, destination=destination)),
    )


def reader_corridors(*, actor: Actor) -> list[dict[str, Any]]:
    """The corridors the reader's country is in, from the listings it may read (one query): each pair with
    its number of listings."""
    code = actor.country
    if not code:
        return []
    visible = listing_visible_to(actor=actor).filter(LIVE)
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    for direction, owner, partners in visible.filter(naming_country(code)).values_list(
        "direction", "owner_country", "partner_countries"
    ):
        others = [c for c in partners if c != owner] if partners else []
        if owner == code:
            for other in others:
                pair = (other, code) if direction == Direction.DEMAND else (code, other)
                pairs[pair] += 1
        else:
            pair = (code, owner) if direction == Direction.DEMAND else (owner, code)
            pairs[pair] += 1
    return [
        {
            "origin": o,
            "destination": d,
            "origin_name": country_name(o),
            "destination_name": country_name(d),
            "listings": n,
        }
        for (o, d), n in sorted(pairs.items())
    ]
