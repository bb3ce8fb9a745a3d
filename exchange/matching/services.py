"""The matching engine: candidates chosen in SQL by indexed columns, then scored.

For a published listing, the candidates are published listings of the opposite
direction such that (all in one indexed query, never a loop over listings):

* the owners are of different countries;
* each side's ``partner_countries`` admits the other's country (empty admits all);
* the time windows overlap;
* they share at least an ISCO major group (``isco_prefixes && majors``, a GIN
  array overlap): pairs with no occupation in common are not matches at all;
* each owner may read the other's listing (``opportunities.access``: a listing
  visible to partners only is matched with the partners only).

``candidates_in_python`` states the same rules as plain Python; a property test
checks that the two always agree.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.tenancy import unscoped
from exchange.matching.scoring import Line, Side, score
from exchange.models import Match, MatchState
from opportunities.access import (
    listing_readable_by,
    listing_readers,
    listings_readable_by_organisation,
    live_listings,
    open_to_country,
)
from opportunities.models import Direction, Listing, ListingStatus, Occupation, Sector

logger = logging.getLogger(__name__)


def candidates(listing: Listing) -> QuerySet[Listing]:
    """Published listings that may match ``listing`` (see the module docstring)."""
    opposite = Direction.SUPPLY if listing.direction == Direction.DEMAND else Direction.DEMAND
    majors = sorted({prefix for prefix in listing.isco_prefixes if len(prefix) == 1})
    qs = (
        live_listings()
        .filter(direction=opposite)
        .filter(open_to_country(listing.owner_country))  # and so of another country
        .filter(starts_on__lte=listing.ends_on, ends_on__gte=listing.starts_on)
        .filter(isco_prefixes__overlap=majors)
    )
    if listing.partner_countries:
        qs = qs.filter(owner_country__in=listing.partner_countries)
    # Each side readable by the other's owner (the one visibility rule, both ways).
    return qs.filter(owner__in=listing_readers(listing)) & listings_readable_by_organisation(listing.owner)


def admits(listing: Listing, country: str) -> bool:
    return not listing.partner_countries or country in listing.partner_countries


def is_candidate(listing: Listing, other: Listing) -> bool:
    """The same rules as ``candidates``, for one pair, in plain Python."""
    return (
        other.status == ListingStatus.PUBLISHED
        and other.direction != listing.direction
        and other.owner_country != listing.owner_country
        and other.starts_on <= listing.ends_on
        and other.ends_on >= listing.starts_on
        and bool({p for p in listing.isco_prefixes if len(p) == 1} & set(other.isco_prefixes))
        and admits(other, listing.owner_country)
        and admits(listing, other.owner_country)
        and listing_readable_by(listing, other.owner)
        and listing_readable_by(other, listing.owner)
    )


def candidates_in_python(listing: Listing, listings: list[Listing]) -> list[Listing]:
    return [other for other in listings if other.pk != listing.pk and is_candidate(listing, other)]


# --- Scoring inputs ----------------------------------------------------------------------


def _sections(codes: list[str], parents: dict[str, str]) -> tuple[str, ...]:
    return tuple(sorted({parents.get(code, code) for code in codes}))


def _side(listing: Listing, titles: dict[str, str], parents: dict[str, str]) -> Side:
    return Side(
        id=str(listing.pk),
        title=listing.title,
        owner_country=listing.owner_country,
        partner_countries=tuple(listing.partner_countries),
        starts_on=listing.starts_on,
        ends_on=listing.ends_on,
        sections=_sections(listing.sectors, parents),
        fair_recruitment=listing.fair_recruitment,
        pension_portability=listing.pension_portability,
        lines=tuple(
            Line(
                isco_code=line.occupation_id,
                title=titles.get(line.occupation_id, ""),
                quantity=line.quantity,
                skill_level=line.skill_level,
                languages=tuple((item["language"], item["level"]) for item in line.languages),
            )
            for line in listing.occupation_lines.all()
        ),
    )


def _reference(listings: list[Listing]) -> tuple[dict[str, str], dict[str, str]]:
    """English ISCO titles for every line code and its prefixes; ISIC division → section."""
    codes = {p for listing in listings for p in listing.isco_prefixes}
    titles = dict(Occupation.objects.filter(code__in=codes).values_list("code", "title_en"))
    sectors = {code for listing in listings for code in listing.sectors}
    # A division always has its section.
    parents = cast(
        dict[str, str], dict(Sector.objects.filter(code__in=sectors, level="division").values_list("code", "parent_id"))
    )
    return titles, parents


def score_pair(demand: Listing, supply: Listing) -> tuple[float, dict[str, Any]]:
    titles, parents = _reference([demand, supply])
    return score(_side(demand, titles, parents), _side(supply, titles, parents), titles)


# --- Keeping matches up to date ------------------------------------------------------------


def listing_match(listing_id: str) -> int:
    """(Re)compute the matches of one listing; retire or lapse them when it is no longer live.

    Runs as a system task over every tenant's published listings (matching is the
    point of the exchange); who may *see* a match is decided by the selectors.
    Returns the number of matches created or refreshed.
    """
    with unscoped("matching compares listings across tenants by design"), transaction.atomic():
        listing = (
            Listing.objects.select_for_update(of=("self",))
            .select_related("owner")
            .prefetch_related("occupation_lines")
            .filter(pk=listing_id)
            .first()
        )
        if listing is None:
            return 0
        involving = Q(demand=listing) | Q(supply=listing)
        if listing.status != ListingStatus.PUBLISHED:
            Match.objects.filter(involving, state=MatchState.SUGGESTED).update(
                state=MatchState.RETIRED, updated_at=timezone.now()
            )
            Match.objects.filter(involving, state__in=(MatchState.INTEREST_EXPRESSED, MatchState.IN_DIALOGUE)).update(
                state=MatchState.LAPSED, updated_at=timezone.now()
            )
            return 0
        others = list(candidates(listing).select_related("owner").prefetch_related("occupation_lines"))
        titles, parents = _reference([listing, *others])
        me = _side(listing, titles, parents)
        now = timezone.now()
        rows = []
        for other in others:
            other_side = _side(other, titles, parents)
            demand, supply = (listing, other) if listing.direction == Direction.DEMAND else (other, listing)
            d_side, s_side = (me, other_side) if listing.direction == Direction.DEMAND else (other_side, me)
            value, explanation = score(d_side, s_side, titles)
            rows.append(
                Match(
                    demand=demand,
                    supply=supply,
                    demand_owner_id=demand.owner_id,
                    supply_owner_id=supply.owner_id,
                    score=value,
                    explanation=explanation,
                    computed_at=now,
                )
            )
        existing = set(Match.objects.filter(involving).values_list("demand_id", "supply_id"))
        Match.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["demand", "supply"],
            update_fields=["score", "explanation", "computed_at", "updated_at"],
        )
        current = [other.pk for other in others]
        other_side_field = "supply" if listing.direction == Direction.DEMAND else "demand"
        # A pair that qualifies again (say after a revision) is suggested anew.
        Match.objects.filter(involving, state=MatchState.RETIRED, **{f"{other_side_field}__in": current}).update(
            state=MatchState.SUGGESTED
        )
        # Suggestions that no longer qualify go; pairs already in dialogue keep their thread.
        Match.objects.filter(involving, state=MatchState.SUGGESTED).exclude(
            **{f"{other_side_field}__in": current}
        ).update(state=MatchState.RETIRED)
        new_pairs = [(row.demand_id, row.supply_id) for row in rows if (row.demand_id, row.supply_id) not in existing]
        if new_pairs:
            from exchange.notifications.events import matches_created

            pair_filter = Q()
            for demand_id, supply_id in new_pairs:
                pair_filter |= Q(demand_id=demand_id, supply_id=supply_id)
            matches_created(Match.objects.filter(pair_filter).select_related("demand", "supply"))
        logger.info("Matched listing %s: %d candidates", listing.pk, len(rows))
        return len(rows)
