"""Suggestions from evidence: a destination's shortage meets an origin's surplus, and no listing pair does yet.

The rule (docs/profiles.md, "Suggestions from evidence"):

* Evidence comes only from *published* profile versions (never a draft, never a
  superseded version): a destination country's ``shortage`` row and another
  country's ``surplus`` row whose ISCO-08 codes meet at the sub-major level or
  closer, by the matching engine's own rule (``exchange.matching.scoring.meet_level``),
  or that name the same group. The ISCO group of the suggestion is where they meet
  (their common prefix): a shortage of 2221 and a surplus of 2222 meet in 222.
* It is not a suggestion if a listing pair already connects the two countries in
  that group: a live demand listing of the destination's government open to the
  origin, and a live supply listing of the origin's government, with occupation
  lines on the group's branch that meet as closely (``opportunities.access``
  decides what is live and what is open to a country).
* One suggestion per destination, origin and group, and only the most specific
  groups: a group that holds another suggestion of the same two countries is left out. Where several rows give the
  same one, the evidence is the pair from the latest reference years, then the
  most severe, then the most recent time periods.

``suggestions_refresh`` creates the missing open suggestions (and tells both
governments: ``suggestion.created``), updates the evidence of open ones, and
removes open ones whose evidence is gone or that a listing pair now connects.
Dismissed and acted-on suggestions stay as they are (and, by the unique
constraint, are not suggested again). It runs as a system task over every tenant
(profiles are published, listings open and close); who may *see* a suggestion is
``exchange.access.suggestion_visible_to``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from accounts.tenancy import unscoped
from exchange import access
from exchange.matching.scoring import LEVEL_NAMES, meet_level
from exchange.models import ProfileSkill, ProfileStatus, Suggestion, SuggestionState
from exchange.models.profiles import Severity, SkillKind
from exchange.notifications.events import events_emit_addressed
from opportunities.access import live_listings, open_to_country
from opportunities.models import Direction, Occupation

# Codes meet closely enough at the sub-major group (2 digits) or closer: the minor group
# (3) or the unit group (4). A meeting at the major group only (1) is too loose to suggest.
MIN_LEVEL = 2
SEVERITY_RANK: dict[str, int] = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2}
# One lock for every refresh, so two workers never create the same suggestion at once.
_LOCK_KEY = "exchange.suggestions_refresh"

Key = tuple[str, str, str]  # destination country, origin country, ISCO group


def meeting_group(shortage_code: str, surplus_code: str) -> str | None:
    """The ISCO group where two codes meet closely enough to suggest, or None."""
    level = meet_level(shortage_code, surplus_code)
    if shortage_code == surplus_code or level >= MIN_LEVEL:
        return shortage_code[:level]
    return None


def _on_branch(code: str, group: str) -> bool:
    """A code inside the group, or a broader group that contains it."""
    return code.startswith(group) or group.startswith(code)


def lines_meet_in(demand_codes: Iterable[str], supply_codes: Iterable[str], group: str) -> bool:
    """Whether a demand line and a supply line meet in ``group`` (the same rule as the rows)."""
    demand = [c for c in demand_codes if _on_branch(c, group)]
    supply = [c for c in supply_codes if _on_branch(c, group)]
    return any(meeting_group(d, s) is not None for d in demand for s in supply)


def _row_evidence(row: ProfileSkill) -> dict[str, Any]:
    profile = row.profile
    return {
        "id": str(row.pk),
        "isco_code": row.occupation_id,
        "severity": row.severity,
        "time_period": row.time_period,
        "source": row.source,
        "profile": {
            "id": str(profile.pk),
            "country": str(profile.country),
            "year": profile.year,
            "version": profile.version,
        },
    }


def _strength(row: ProfileSkill) -> tuple[int, int, int]:
    return (row.profile.year, SEVERITY_RANK.get(row.severity, 0), row.time_period)


def _published_rows(kind: str) -> list[ProfileSkill]:
    return list(
        ProfileSkill.objects.filter(kind=kind, profile__status=ProfileStatus.PUBLISHED)
        .select_related("profile")
        .order_by("pk")
    )


def _wanted(countries: set[str] | None) -> dict[Key, tuple[ProfileSkill, ProfileSkill, str]]:
    """Every (destination, origin, group) the published rows support, with its strongest pair."""
    shortages, surpluses = _published_rows(SkillKind.SHORTAGE), _published_rows(SkillKind.SURPLUS)
    by_major: dict[str, list[ProfileSkill]] = defaultdict(list)
    for row in surpluses:
        by_major[row.occupation_id[:1]].append(row)
    wanted: dict[Key, tuple[ProfileSkill, ProfileSkill, str]] = {}
    for shortage in shortages:
        destination = str(shortage.profile.country)
        for surplus in by_major.get(shortage.occupation_id[:1], []):
            origin = str(surplus.profile.country)
            if origin == destination or (countries is not None and not {destination, origin} & countries):
                continue
            group = meeting_group(shortage.occupation_id, surplus.occupation_id)
            if group is None:
                continue
            key = (destination, origin, group)
            level = LEVEL_NAMES.get(meet_level(shortage.occupation_id, surplus.occupation_id), "")
            held = wanted.get(key)
            if held is None or (_strength(shortage), _strength(surplus)) > (_strength(held[0]), _strength(held[1])):
                wanted[key] = (shortage, surplus, level)
    return _most_specific(wanted)


def _most_specific(wanted: dict[Key, Any]) -> dict[Key, Any]:
    """Drop a group another suggestion of the same two countries lies inside.

    Cooks (5120) short in one country and cooks and waiters (5120, 5131) in
    surplus in another give 5120; that 5120 and 5131 also meet in 51 says nothing more.
    """
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for destination, origin, group in wanted:
        groups[(destination, origin)].add(group)
    return {
        key: value
        for key, value in wanted.items()
        if not any(other != key[2] and other.startswith(key[2]) for other in groups[key[:2]])
    }


def _line_codes(listings: Any) -> Iterable[tuple[str, list[str]]]:
    for listing in listings.prefetch_related("occupation_lines"):
        yield listing.owner_country, [line.occupation_id for line in listing.occupation_lines.all()]


def _connected(keys: Iterable[Key]) -> set[Key]:
    """The keys a live listing pair already connects (a few queries, whatever the number of keys)."""
    keys = list(keys)
    if not keys:
        return set()
    countries = {c for key in keys for c in key[:2]}
    live = live_listings().filter(owner_country__in=countries)
    supply: dict[str, list[list[str]]] = defaultdict(list)  # origin → each live supply listing's line codes
    for owner_country, codes in _line_codes(live.filter(direction=Direction.SUPPLY)):
        supply[owner_country].append(codes)
    # (destination, origin) → each live demand listing of the destination open to the origin
    demand: dict[tuple[str, str], list[list[str]]] = defaultdict(list)
    for origin in {key[1] for key in keys}:
        for owner_country, codes in _line_codes(live.filter(open_to_country(origin), direction=Direction.DEMAND)):
            demand[(owner_country, origin)].append(codes)
    return {
        (destination, origin, group)
        for destination, origin, group in keys
        if any(
            lines_meet_in(d, s, group) for d in demand.get((destination, origin), []) for s in supply.get(origin, [])
        )
    }


def _evidence(shortage: ProfileSkill, surplus: ProfileSkill, level: str) -> dict[str, Any]:
    return {"shortage": _row_evidence(shortage), "surplus": _row_evidence(surplus), "level": level}


def suggestion_event_data(suggestion: Suggestion, titles: dict[str, str]) -> dict[str, Any]:
    """The payload of ``suggestion.created`` (docs/notifications.md)."""
    code = suggestion.occupation_id
    return {
        "suggestion_id": str(suggestion.pk),
        "title": f"{code} {titles.get(code, '')}".strip(),
        "destination_country": str(suggestion.destination_country),
        "origin_country": str(suggestion.origin_country),
        "isco_code": code,
        "evidence": suggestion.evidence,
        "url": f"{settings.SITE_URL}/api/v1/suggestions/{suggestion.pk}/",
    }


def suggestions_refresh(*, countries: Iterable[str] | None = None) -> list[Suggestion]:
    """Recompute the open suggestions (of ``countries`` only, if given); return the new ones.

    A system task's service: it reads every country's published profiles and live
    listings (``unscoped``), in one transaction under an advisory lock.
    """
    only = {str(c) for c in countries} if countries is not None else None
    with unscoped("suggestions compare published profiles and listings across tenants by design"), transaction.atomic():
        with connection.cursor() as cursor:
            # Refreshes take turns on one lock, and waiting for the one running is the point: the
            # connection's lock_timeout (a request's few seconds) would fail a refresh whenever
            # another took longer, as under the soak's load. statement_timeout still bounds the wait.
            cursor.execute("SELECT current_setting('lock_timeout')")
            lock_timeout = cursor.fetchone()[0]
            cursor.execute("SET LOCAL lock_timeout = 0")
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_LOCK_KEY])
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [lock_timeout])
        wanted = _wanted(only)
        connected = _connected(wanted)
        existing_rows = Suggestion.objects.select_for_update()
        if only is not None:
            existing_rows = existing_rows.filter(Q(destination_country__in=only) | Q(origin_country__in=only))
        existing = {(str(s.destination_country), str(s.origin_country), s.occupation_id): s for s in existing_rows}

        stale = [
            s.pk
            for key, s in existing.items()
            if s.state == SuggestionState.OPEN and (key not in wanted or key in connected)
        ]
        if stale:
            Suggestion.objects.filter(pk__in=stale).delete()

        created: list[Suggestion] = []
        for key, (shortage, surplus, level) in sorted(wanted.items()):
            if key in connected:
                continue
            evidence = _evidence(shortage, surplus, level)
            current = existing.get(key)
            if current is None:
                destination, origin, group = key
                created.append(
                    Suggestion(
                        destination_country=destination,
                        origin_country=origin,
                        occupation_id=group,
                        shortage=shortage,
                        surplus=surplus,
                        evidence=evidence,
                    )
                )
            elif current.state == SuggestionState.OPEN and (
                current.evidence != evidence or (current.shortage_id, current.surplus_id) != (shortage.pk, surplus.pk)
            ):
                current.evidence, current.shortage, current.surplus = evidence, shortage, surplus
                current.save(update_fields=["evidence", "shortage", "surplus", "updated_at"])
        if created:
            Suggestion.objects.bulk_create(created)
            _announce(created)
        return created


def _announce(created: list[Suggestion]) -> None:
    """``suggestion.created`` to the governments of both countries, inside the transaction."""
    titles = dict(Occupation.objects.filter(pk__in={s.occupation_id for s in created}).values_list("code", "title_en"))
    events_emit_addressed(
        type="suggestion.created",
        items=[
            (suggestion_event_data(s, titles), list(access.suggestion_parties(s).values_list("pk", flat=True)))
            for s in created
        ],
    )


def suggestions_refresh_for_listing(listing_id: str) -> list[Suggestion]:
    """After a listing opened or closed: only the pairs its owner's country is in can change
    (a listing pair joins the destination's listing and the origin's)."""
    from opportunities.models import Listing

    with unscoped("a system task reads the owner country of the listing that changed"):
        owner_country = Listing.objects.filter(pk=listing_id).values_list("owner_country", flat=True).first()
    return suggestions_refresh(countries=None if owner_country is None else [owner_country])
