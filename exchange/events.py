"""Notification events and the transactional outbox.

An event and its deliveries (one per subscription × channel, unique) are written
inside the transaction of the change that caused them: if the change rolls back,
so do they; if it commits, nothing can lose them. After commit each pending
delivery is enqueued; if the broker is down at that moment the beat sweeper
(``exchange.delivery.deliveries_sweep``) enqueues it later. Recipient sets are
computed in SQL.

Events and who receives them:

* ``listing.published``: subscriptions whose filters match the listing and whose
  organisation may see it (never the owner's own);
* ``listing.moderated`` (approved, changes requested, rejected, and the same for
  revisions): the owner;
* ``match.created``: both listing owners;
* ``interest.expressed``, ``message.posted``, ``match.accepted``,
  ``match.declined``: the other party;
* ``listing.closing_soon`` (7 days before the deadline): organisations that
  expressed interest in a match with the listing;
* ``test``: every channel of one subscription, on request.

An event addressed to an organisation reaches every active subscription of that
organisation, whatever its filters.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.tenancy import unscoped
from exchange.models import (
    Channel,
    ChannelState,
    ChannelType,
    Delivery,
    DeliveryStatus,
    Event,
    Frequency,
    Match,
    Subscription,
)
from opportunities.models import Listing, ListingStatus, Visibility

logger = logging.getLogger(__name__)


def _listing_data(listing: Listing, **extra: Any) -> dict[str, Any]:
    return {
        "listing_id": str(listing.pk),
        "title": listing.title,
        "direction": listing.direction,
        "owner_country": listing.owner_country,
        "url": f"{settings.SITE_URL}/api/v1/listings/{listing.pk}/",
        **extra,
    }


def _match_data(match: Match, **extra: Any) -> dict[str, Any]:
    return {
        "match_id": str(match.pk),
        "title": f"{match.demand.title} ↔ {match.supply.title}",
        "demand_id": str(match.demand_id),
        "supply_id": str(match.supply_id),
        "score": match.score,
        "url": f"{settings.SITE_URL}/api/v1/matches/{match.pk}/",
        **extra,
    }


# --- Writing the outbox ----------------------------------------------------------------------


def event_emit(*, type: str, data: dict[str, Any], subscriptions: QuerySet[Subscription]) -> Event | None:
    """Write an event and one delivery per (subscription, channel); enqueue them after commit.

    Call inside the transaction of the change. Returns None when nobody is to receive it.
    """
    with unscoped("the outbox writes deliveries for every receiving organisation"):
        channels = list(
            Channel.objects.filter(subscription__in=subscriptions, subscription__active=True)
            .exclude(state=ChannelState.DISABLED)
            .select_related("subscription")
        )
        if not channels:
            return None
        event = Event.objects.create(type=type, data=data)
        now = timezone.now()
        rows = [_delivery(event, channel, now) for channel in channels]
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    pending = [str(row.pk) for row in rows if row.status == DeliveryStatus.PENDING]
    if pending:
        transaction.on_commit(lambda: enqueue(pending))
    return event


def _delivery(event: Event, channel: Channel, now: Any) -> Delivery:
    status = DeliveryStatus.PENDING
    sent_at = None
    if channel.type == ChannelType.FEED:
        status, sent_at = DeliveryStatus.SENT, now  # the feed reads its deliveries
    elif channel.state == ChannelState.PAUSED:
        status = DeliveryStatus.PAUSED
    elif (
        channel.type == ChannelType.EMAIL
        and channel.subscription.frequency != Frequency.INSTANT
        and event.type != "test"
    ):
        status = DeliveryStatus.DIGEST
    return Delivery(
        event=event,
        subscription_id=channel.subscription_id,
        channel=channel,
        organisation_id=channel.organisation_id,
        status=status,
        next_attempt_at=now,
        sent_at=sent_at,
    )


def enqueue(delivery_ids: Iterable[str]) -> None:
    """Hand deliveries to the broker; if it is unreachable, the sweeper will do it later."""
    from exchange.tasks import deliver

    ids = list(delivery_ids)
    # The task runs in the receiving organisation's scope, so it is sent that organisation's id.
    with unscoped("looking up which organisation each delivery being enqueued belongs to"):
        owners = {
            str(pk): str(organisation_id)
            for pk, organisation_id in Delivery.objects.filter(pk__in=ids).values_list("pk", "organisation_id")
        }
    for delivery_id in ids:
        if str(delivery_id) not in owners:
            continue  # deleted since (its organisation or channel went away): nothing to send
        try:
            deliver.delay(delivery_id, organisation_id=owners[str(delivery_id)])
        except Exception:  # the broker is down: the rows are safe in PostgreSQL
            logger.warning("Broker unavailable; delivery %s left for the sweeper", delivery_id, exc_info=True)
            return


# --- Who receives what ---------------------------------------------------------------------------


def _sections(codes: list[str]) -> list[str]:
    from opportunities.models import Sector

    parents = dict(Sector.objects.filter(code__in=codes, level="division").values_list("code", "parent_id"))
    return sorted({*codes, *parents.values()})


KEYWORDS_SQL = (
    "exchange_subscription.keywords = '' OR EXISTS (SELECT 1 FROM opportunities_listing l WHERE l.id = %s"
    " AND l.search_vector @@ (websearch_to_tsquery('english', exchange_subscription.keywords)"
    " || websearch_to_tsquery('simple', exchange_subscription.keywords)))"
)


def subscriptions_for_listing(listing: Listing) -> QuerySet[Subscription]:
    """Active subscriptions whose filters match the listing and whose organisation may see it."""
    with unscoped("finding every organisation whose saved search matches a published listing"):
        qs = (
            Subscription.objects.filter(active=True, organisation__is_active=True)
            .exclude(organisation_id=listing.owner_id)
            .filter(Q(direction="") | Q(direction=listing.direction))
            .filter(Q(scheme_types=[]) | Q(scheme_types__contains=[listing.scheme_type]))
            .filter(Q(isco_prefixes=[]) | Q(isco_prefixes__overlap=listing.isco_prefixes))
            .filter(Q(sectors=[]) | Q(sectors__overlap=_sections(listing.sectors)))
            .filter(Q(owner_countries=[]) | Q(owner_countries__contains=[listing.owner_country]))
        )
        if listing.partner_countries:
            qs = qs.filter(Q(open_to_my_country=False) | Q(organisation__country__in=listing.partner_countries))
        if listing.visibility == Visibility.PARTNERS:
            # Only agencies and governments of the partner countries may see it.
            qs = qs.filter(Q(organisation__kind="agency") | Q(organisation__country__in=listing.partner_countries))
        # Keywords: the subscription's words against the listing's stored search vector.
        # Constant SQL; the only value is a bound parameter.
        qs = qs.extra(where=[KEYWORDS_SQL], params=[listing.pk])  # noqa: S610
        return qs


def subscriptions_of(organisation_ids: Iterable[Any]) -> QuerySet[Subscription]:
    with unscoped("an event addressed to named organisations"):
        return Subscription.objects.filter(active=True, organisation_id__in=list(organisation_ids))


# --- The events ------------------------------------------------------------------------------------

MODERATION_DECISIONS = {
    "approve": "approved",
    "request_changes": "changes_requested",
    "reject": "rejected",
    "revision_approve": "revision_approved",
    "revision_request_changes": "revision_changes_requested",
    "revision_reject": "revision_rejected",
}


def on_listing_event(listing: Listing, event: str, reason: str) -> None:
    """The listing outbox hook (opportunities.services.LISTING_OUTBOX), inside the transaction."""
    if event == "published":
        event_emit(
            type="listing.published", data=_listing_data(listing), subscriptions=subscriptions_for_listing(listing)
        )
    elif event.startswith("moderated:"):
        decision = MODERATION_DECISIONS.get(event.split(":", 1)[1], event)
        event_emit(
            type="listing.moderated",
            data=_listing_data(listing, decision=decision, reason=reason),
            subscriptions=subscriptions_of([listing.owner_id]),
        )


def matches_created(matches: Iterable[Match]) -> None:
    """``match.created`` to both owners of each new match (inside the matching transaction)."""
    for match in matches:
        event_emit(
            type="match.created",
            data=_match_data(match),
            subscriptions=subscriptions_of([match.demand_owner_id, match.supply_owner_id]),
        )


def on_match_event(match: Match, event: str, organisation_id: Any) -> None:
    """Dialogue events to the other party (exchange.services, inside the transaction)."""
    other = match.supply_owner_id if str(organisation_id) == str(match.demand_owner_id) else match.demand_owner_id
    extra = {"reason": match.decision_reason} if event in ("match.accepted", "match.declined") else {}
    event_emit(type=event, data=_match_data(match, **extra), subscriptions=subscriptions_of([other]))


def closing_soon(*, today: Any = None) -> int:
    """``listing.closing_soon`` for listings whose deadline is in 7 days; once per listing."""
    today = today or timezone.localdate()
    sent = 0
    with unscoped("a daily sweep over every published listing"), transaction.atomic():
        listings = Listing.objects.filter(
            status=ListingStatus.PUBLISHED, application_deadline=today + timedelta(days=7)
        )
        for listing in listings:
            if Event.objects.filter(type="listing.closing_soon", data__listing_id=str(listing.pk)).exists():
                continue
            interested = (
                Match.objects.filter(Q(demand=listing) | Q(supply=listing), interest_by__isnull=False)
                .values_list("interest_by_id", flat=True)
                .distinct()
            )
            if event_emit(
                type="listing.closing_soon",
                data=_listing_data(listing, application_deadline=listing.application_deadline.isoformat()),
                subscriptions=subscriptions_of(interested),
            ):
                sent += 1
    return sent


def event_send_test(*, subscription: Subscription) -> Event | None:
    """A ``test`` event to every channel of one subscription (its owner asked for it)."""
    with transaction.atomic():
        return event_emit(
            type="test",
            data={
                "subscription_id": str(subscription.pk),
                "title": f"Test of “{subscription.name}”",
                "message": "This is a test event from Corridor. Your channel works.",
                "url": f"{settings.SITE_URL}/api/v1/subscriptions/{subscription.pk}/",
            },
            subscriptions=Subscription.objects.with_scopes_disabled().filter(pk=subscription.pk),
        )
