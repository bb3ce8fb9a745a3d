"""Official records: a printable page of one listing, with a content hash (issue 16).

A record shows the authoritative fields of an object, the moderation decision and
its date, and a SHA-256 hash of a canonical JSON form of those fields, so that a
printed or PDF copy can be checked against the platform later. The canonical form
(docs/governance.md) is::

    json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

where ``fields`` holds only values every reader of the record sees alike: ids,
titles, codes, ISO 8601 dates, decimals as strings. Anything shown per audience (a
moderator's reason, who decided) is printed beside the record, never hashed, so
every reader computes the same hash. The page prints the canonical JSON itself, so
the hash can be recomputed from the paper with ``sha256sum``.

Readers: exactly those of the listing's page (``opportunities.access.listing_visible_to``
through ``listing_list``); the reason of the decision only to those
``can_see_moderation_feedback`` allows. Partnership and match records are in
``exchange.web.records`` and use the same helpers.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.tenancy import Actor
from config.web import actor_required
from opportunities.access import can_see_moderation_feedback, listing_history
from opportunities.models import Listing, ListingStatus
from opportunities.selectors import listing_list

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

RECORD_VERSION = 1


def _plain(value: Any) -> Any:
    """A JSON value with one spelling: dates ISO 8601, decimals as strings, sets sorted."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def canonical_json(fields: dict[str, Any]) -> str:
    """The canonical JSON text of a record's authoritative fields (docs/governance.md)."""
    return json.dumps(_plain(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(fields: dict[str, Any]) -> str:
    """SHA-256, in lower-case hex, of the UTF-8 bytes of ``canonical_json(fields)``."""
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


def render_record(
    request: HttpRequest,
    *,
    kind: str,
    title: str,
    fields: dict[str, Any],
    rows: Sequence[tuple[StrOrPromise, Any]],
    decision: dict[str, Any],
    back_url: str,
) -> HttpResponse:
    """The printable page; ``fields`` are hashed, ``rows`` and ``decision`` are what a person reads."""
    canonical = canonical_json(fields)
    context = {
        "kind": kind,
        "title": title,
        "rows": rows,
        "decision": decision,
        "canonical": canonical,
        "hash": hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        "printed_at": timezone.now(),
        "back_url": back_url,
    }
    response = render(request, "records/record.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


# --- Listings --------------------------------------------------------------------------


def listing_record_fields(listing: Listing, published: Any) -> dict[str, Any]:
    """The authoritative fields of a listing record (the same for every reader)."""
    return {
        "record": "listing",
        "version": RECORD_VERSION,
        "id": str(listing.pk),
        "owner": {"id": str(listing.owner_id), "name": listing.owner.name, "country": listing.owner_country},
        "direction": listing.direction,
        "status": listing.status,
        "title": listing.title,
        "summary": listing.summary,
        "scheme_type": listing.scheme_type,
        "occupations": [
            {"isco": line.occupation_id, "quantity": line.quantity} for line in listing.occupation_lines.all()
        ],
        "sectors": sorted(listing.sectors),
        "partner_countries": sorted(listing.partner_countries),
        "starts_on": listing.starts_on,
        "ends_on": listing.ends_on,
        "application_deadline": listing.application_deadline,
        "circular": listing.circular,
        "fair_recruitment": listing.fair_recruitment,
        "wage_floor_monthly": listing.wage_floor_monthly,
        "currency": listing.currency,
        "annual_cap": listing.annual_cap,
        "decision": {"status": ListingStatus.PUBLISHED, "at": published.created_at} if published else None,
    }


@actor_required
def listing_print_view(request: HttpRequest, pk: Any) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    listing = get_object_or_404(listing_list(actor=actor), pk=pk)
    history = list(listing_history(actor, listing))
    published = next((t for t in reversed(history) if t.to_status == ListingStatus.PUBLISHED), None)
    decision: dict[str, Any] = {"label": _("Not published"), "date": None}
    if published is not None:
        decision = {
            "label": _("Published after moderation"),
            "date": published.created_at,
            "by": published.organisation.name if published.organisation else "",
        }
        if can_see_moderation_feedback(actor, listing) and published.reason:
            decision["reason"] = published.reason
    rows = [
        (gettext_lazy("Offered by"), f"{listing.owner.name} ({listing.owner_country})"),
        (gettext_lazy("Direction"), listing.get_direction_display()),
        (gettext_lazy("Scheme type"), listing.get_scheme_type_display()),
        (gettext_lazy("Status"), listing.get_status_display()),
        (gettext_lazy("Summary"), listing.summary),
        (
            gettext_lazy("Occupations (ISCO-08)"),
            "; ".join(f"{line.occupation_id} × {line.quantity}" for line in listing.occupation_lines.all()),
        ),
        (gettext_lazy("Sectors (ISIC Rev.4)"), ", ".join(sorted(listing.sectors))),
        (gettext_lazy("Partner countries"), ", ".join(sorted(listing.partner_countries)) or _("Open to all")),
        (gettext_lazy("Window"), f"{listing.starts_on.isoformat()} – {listing.ends_on.isoformat()}"),
        (gettext_lazy("Application deadline"), listing.application_deadline.isoformat()),
        (gettext_lazy("Fair recruitment: workers pay no fees"), _("Yes") if listing.fair_recruitment else _("No")),
    ]
    return render_record(
        request,
        kind=_("Listing"),
        title=listing.title,
        fields=listing_record_fields(listing, published),
        rows=rows,
        decision=decision,
        back_url=f"/listings/{listing.pk}/",
    )
