"""Reads for the exchange. A match, and its thread, is visible to its two governments only."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.tenancy import Actor
from exchange.models import Match, Message


def match_visible_to(*, actor: Actor) -> QuerySet[Match]:
    if not actor.is_authenticated:
        return Match.objects.none()
    org = actor.organisation
    return Match.objects.filter(Q(demand_owner=org) | Q(supply_owner=org))


def match_list(*, actor: Actor) -> QuerySet[Match]:
    return match_visible_to(actor=actor).select_related(
        "demand", "supply", "demand__owner", "supply__owner", "interest_by"
    )


def message_list(*, actor: Actor, match: Match) -> QuerySet[Message]:
    """The thread of a match the actor can see (the caller resolved it through match_list)."""
    return match.messages.select_related("organisation", "author")
