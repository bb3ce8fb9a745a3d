"""Reads of the outcomes ledger: a listing's entries (the history) for a caller that may read it.

Callers resolve the listing through ``exchange.access.ledger_listings_visible_to``
first (another listing's ledger is a 404); these functions then read that one
ledger. Who sees an entry's reporter is ``exchange.access.can_see_reporter``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from accounts.tenancy import through_access
from exchange.models import OutcomeEntry
from opportunities.models import Listing


@through_access("one ledger, of a listing the caller resolved through exchange.access")
def ledger_entries(listing: Listing) -> QuerySet[OutcomeEntry]:
    """Every entry of the listing's ledger, corrected ones included."""
    return OutcomeEntry.objects.filter(listing=listing)


@through_access("one ledger's history, of a listing the caller resolved through exchange.access")
def entry_list(listing: Listing, *, filters: dict[str, Any] | None = None) -> QuerySet[OutcomeEntry]:
    """The history, oldest first, each entry with the id of the entry that corrects it (if any)."""
    correction = OutcomeEntry.objects.filter(corrects=OuterRef("pk")).values("pk")[:1]
    rows = (
        OutcomeEntry.objects.filter(listing=listing, **(filters or {}))
        .select_related("organisation", "occupation", "reported_by")
        .annotate(corrected_by=Subquery(correction))
        .order_by("created_at", "id")
    )
    return rows


@through_access("whether an entry of a ledger the caller reads is corrected already")
def is_corrected(entry_id: Any) -> bool:
    return OutcomeEntry.objects.filter(corrects_id=entry_id).exists()
