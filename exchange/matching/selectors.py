"""Reads of matches, starting from the rules of ``exchange.access``."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.tenancy import Actor
from exchange.access import match_visible_to
from exchange.models import Match


def match_list(*, actor: Actor) -> QuerySet[Match]:
    return match_visible_to(actor=actor).select_related(
        "demand", "supply", "demand__owner", "supply__owner", "interest_by"
    )
