"""Reads for the exchange, starting from the rules of ``exchange.access``."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.tenancy import Actor
from exchange.access import match_visible_to
from exchange.models import Match, Message


def match_list(*, actor: Actor) -> QuerySet[Match]:
    return match_visible_to(actor=actor).select_related(
        "demand", "supply", "demand__owner", "supply__owner", "interest_by"
    )


def message_list(*, actor: Actor, match: Match) -> QuerySet[Message]:
    """The thread of a match the actor can see (the caller resolved it through match_list)."""
    return match.messages.select_related("organisation", "author")
