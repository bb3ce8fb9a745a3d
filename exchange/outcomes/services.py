"""Writes to the outcomes ledger: record an entry or a correction (append-only).

``outcome_record`` is the one write. It locks the listing's row, so that two
entries for the same ledger are checked one after the other (the pipeline and
allocation rules read the ledger's totals), asks ``exchange.access`` who may
write for the entry's origin, validates the entry with ``OutcomeEntryInput`` on
the ledger as it stands under the lock, saves it and writes an audit row, all in
one transaction: a refused or invalid entry leaves nothing behind.

Raises ``PermissionDenied`` (403) or ``StateConflict`` (409) from
``access.can_record_outcomes``, and DRF's ``ValidationError`` (400, naming the
field) from the input.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.services import audit_record
from accounts.tenancy import Actor, through_access
from exchange import access
from exchange.models import OutcomeEntry
from exchange.outcomes.inputs import LedgerBook, OutcomeEntryInput
from opportunities.models import Listing


@through_access("the listing's row lock, for a listing the caller resolved through the ledger rule")
def _lock(listing: Listing) -> Listing:
    return Listing.objects.select_for_update().get(pk=listing.pk)


def _check_writer(actor: Actor, listing: Listing, data: dict[str, Any]) -> None:
    access.can_record_outcomes(actor, listing).check()  # who asks comes before what they sent
    origin = str(data.get("origin_country") or "").strip().upper() or None
    if origin is not None:
        access.can_record_outcomes(actor, listing, origin).check()


def build_entry(*, actor: Actor, listing: Listing, values: dict[str, Any]) -> OutcomeEntry:
    """An unsaved entry from validated values, reported by the actor for its organisation."""
    return OutcomeEntry(
        listing=listing,
        match=values.get("match"),
        origin_country=values["origin_country"],
        occupation_id=values.get("occupation"),
        period=values["period"],
        stage=values["stage"],
        sex=values["sex"],
        count=values["count"],
        corrects=values.get("corrected_entry"),
        reason=values.get("reason", "").strip(),
        organisation=actor.org,
        reported_by=actor.user,
        reported_by_email=actor.user.email if actor.user is not None else "",
    )


@through_access("a service writes into a ledger its caller resolved through exchange.access")
def outcome_record(*, actor: Actor, listing: Listing, data: dict[str, Any]) -> OutcomeEntry:
    """Append one entry (or a correction, with ``corrects`` and ``reason``) to the listing's ledger."""
    _check_writer(actor, listing, data)
    with transaction.atomic():
        locked = _lock(listing)
        _check_writer(actor, locked, data)  # the listing may have changed before the lock
        body = OutcomeEntryInput(data=data, listing=locked, book=LedgerBook.load(locked))
        body.is_valid(raise_exception=True)
        entry = build_entry(actor=actor, listing=locked, values=body.validated_data)
        entry.save()
        audit_record(
            actor=actor,
            action="outcome.corrected" if entry.corrects_id else "outcome.recorded",
            obj=locked,
            changes={
                "entry": str(entry.pk),
                "corrects": str(entry.corrects_id) if entry.corrects_id else None,
                "origin_country": str(entry.origin_country),
                "stage": entry.stage,
                "sex": entry.sex,
                "period": entry.period,
                "count": entry.count,
            },
        )
    return entry
