"""The listings part of the dashboard (config/dashboard.py).

* A government sees its own listings by state (one aggregate query) and what waits
  for it: listings a moderator sent back (with the moderator's reason), revisions
  sent back, and drafts not yet submitted.
* An agency moderator sees the moderation queue: how many items, how long the
  oldest has waited, and the five oldest with a link to review each.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, OuterRef, Subquery
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.access import is_agency_staff, is_moderator
from accounts.tenancy import Actor
from opportunities.access import awaiting_owner, can_post, feedback_rows, listing_visible_to
from opportunities.models import ListingStatus
from opportunities.web.moderation import moderation_queue

TEMPLATE = "opportunities/_dashboard.html"
OLDEST = 5
AWAITING = 10
# Always shown, even at zero; the end states only when some listing is in them.
MAIN_STATES = (
    ListingStatus.DRAFT,
    ListingStatus.SUBMITTED,
    ListingStatus.CHANGES_REQUESTED,
    ListingStatus.PUBLISHED,
)


def _listings_url() -> str:
    """The members' listing list (built by the listings pages); its path if not installed yet."""
    try:
        return reverse("opportunities:listings")
    except NoReverseMatch:
        return "/listings/"


def _listing_url(pk: Any) -> str | None:
    try:
        return reverse("opportunities:listing", kwargs={"pk": pk})
    except NoReverseMatch:
        return None


def section(request: HttpRequest) -> dict[str, Any] | None:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    if is_agency_staff(actor):
        return _agency(actor) if is_moderator(actor) else None
    return _government(actor)


def _government(actor: Actor) -> dict[str, Any]:
    mine = listing_visible_to(actor=actor).filter(owner=actor.organisation)
    counts = {row["status"]: row["n"] for row in mine.order_by().values("status").annotate(n=Count("id"))}
    base = _listings_url()
    states = [
        {"value": value, "label": label, "count": counts.get(value, 0), "url": f"{base}?status={value}&mine=on"}
        for value, label in ListingStatus.choices
        if value in MAIN_STATES or counts.get(value)
    ]
    context: dict[str, Any] = {
        "template": TEMPLATE,
        "kind": "government",
        "states": states,
        "total": sum(counts.values()),
        "can_act": bool(can_post(actor)),
    }
    if not context["can_act"]:
        return context
    # The moderator's reason: the last "request changes" step of each listing sent back.
    transitions, revisions = feedback_rows()  # the owner's own listings: insiders' rows only
    reason = transitions.filter(listing=OuterRef("pk"), action="request_changes").order_by("-created_at", "-id")
    revision_back = revisions.filter(listing=OuterRef("pk")).order_by("-created_at")
    awaiting = (
        mine.annotate(
            moderator_reason=Subquery(reason.values("reason")[:1]),
            moderated_at=Subquery(reason.values("created_at")[:1]),
            latest_revision_status=Subquery(revision_back.values("status")[:1]),
            revision_reason=Subquery(revision_back.values("reason")[:1]),
            revision_decided_at=Subquery(revision_back.values("decided_at")[:1]),
        )
        .filter(awaiting_owner(latest_revision_status="latest_revision_status"))
        .only("id", "title", "status", "updated_at", "created_at")
    )
    items = sorted(awaiting, key=_awaiting_order)
    for listing in items:
        listing.url = _listing_url(listing.pk)  # type: ignore[attr-defined]
        listing.revision_sent_back = listing.status == ListingStatus.PUBLISHED  # type: ignore[attr-defined]
    context.update(awaiting=items[:AWAITING], awaiting_count=len(items))
    return context


def _awaiting_order(listing: Any) -> tuple[int, Any]:
    """Sent back by a moderator first (oldest first), then drafts (least recently touched first)."""
    if listing.status == ListingStatus.CHANGES_REQUESTED:
        return 0, listing.moderated_at or listing.updated_at
    if listing.status == ListingStatus.PUBLISHED:
        return 0, listing.revision_decided_at or listing.updated_at
    return 1, listing.updated_at


def _agency(actor: Actor) -> dict[str, Any]:
    queue = moderation_queue(actor=actor)
    oldest = list(queue[:OLDEST])
    count = len(oldest) if len(oldest) < OLDEST else queue.count()
    for listing in oldest:
        listing.review_url = reverse("opportunities:moderation_review", kwargs={"pk": listing.pk})  # type: ignore[attr-defined]
    return {
        "template": TEMPLATE,
        "kind": "agency",
        "queue_count": count,
        "oldest": oldest,
        "oldest_since": oldest[0].waiting_since if oldest else None,  # type: ignore[attr-defined]
        "now": timezone.now(),
        "queue_url": reverse("opportunities:moderation"),
    }
