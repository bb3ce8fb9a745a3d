"""Notification events and the transactional outbox.

An event and its deliveries (one per subscription × channel, unique) are written
inside the transaction of the change that caused them: if the change rolls back,
so do they; if it commits, nothing can lose them. After commit each pending
delivery is enqueued; if the broker is down at that moment the beat sweeper
(``exchange.notifications.delivery.deliveries_sweep``) enqueues it later.
Recipient sets are computed in SQL.

Events and who receives them:

* ``listing.published``: subscriptions whose filters match the listing and whose
  organisation may see it (never the owner's own);
* ``listing.moderated`` (approved, changes requested, rejected, and the same for
  revisions): the owner;
* ``match.created``: both listing owners;
* ``interest.expressed``, ``message.posted``, ``match.accepted``,
  ``match.declined``: the other party;
* ``consent.requested``: the governments of an origin country whose agreement a
  published listing requires; ``consent.decided``: the listing's owner, when that
  government accepts or refuses (an acceptance also sends ``listing.published`` to
  the matching alerts of the newly admitted country);
* ``listing.closing_soon`` (7 days before the deadline): organisations that
  expressed interest in a match with the listing;
* ``suggestion.created``: the governments of the suggestion's two countries
  (written by ``exchange.profiles.suggestions``);
* ``test``: every channel of one subscription, on request.

An event addressed to an organisation reaches every active subscription of that
organisation, whatever its filters.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, router, transaction
from django.db.models import BooleanField, F, Func, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.tenancy import unscoped
from exchange.access import match_reader_ids
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
from opportunities.access import listing_readable_by, listing_readers, live_listings, origin_governments
from opportunities.models import Listing

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
#
# One statement writes an event and all its deliveries, whatever the number of
# recipients: the recipients (a subscription queryset, or the organisations an
# event is addressed to) are a subquery of an ``INSERT … SELECT``, so no row is
# fetched into Python and the plan stays one set-based join (docs/notifications.md).

# The delivery's first status, from its channel and subscription (``w`` is one
# wanted (event, channel) row of ``_FAN_OUT_SQL``).
_STATUS_SQL = f"""CASE
    WHEN w.type = '{ChannelType.FEED}' THEN '{DeliveryStatus.SENT}'
    WHEN w.state = '{ChannelState.PAUSED}' THEN '{DeliveryStatus.PAUSED}'
    WHEN w.type = '{ChannelType.EMAIL}' AND w.frequency <> '{Frequency.INSTANT}' AND NOT %s
        THEN '{DeliveryStatus.DIGEST}'
    ELSE '{DeliveryStatus.PENDING}' END"""

# Parameters, in order: the targets' own, is_test, now (next_attempt_at), now
# (created_at), now (sent_at of feeds), event type, now (event created_at),
# event ids, event data (JSON text). Feed deliveries are sent on writing: the feed
# reads its deliveries. An event nobody receives is not written at all.
_FAN_OUT_SQL = f"""
WITH targets(event_id, subscription_id) AS ({{targets}}),
wanted AS (
    SELECT DISTINCT t.event_id, ch.id AS channel_id, ch.subscription_id, ch.organisation_id,
           ch.type, ch.state, s.frequency
    FROM targets t
    JOIN exchange_subscription s ON s.id = t.subscription_id AND s.active
    JOIN exchange_channel ch ON ch.subscription_id = s.id AND ch.state <> '{ChannelState.DISABLED}'
),
deliveries AS (
    SELECT gen_random_uuid() AS id, w.event_id, w.subscription_id, w.channel_id, w.organisation_id,
           {_STATUS_SQL} AS status, w.type
    FROM wanted w
),
rows AS (
    SELECT d.*, %s::timestamptz AS next_attempt_at, %s::timestamptz AS created_at,
           CASE WHEN d.type = '{ChannelType.FEED}' THEN %s::timestamptz END AS sent_at
    FROM deliveries d
),
events AS (
    INSERT INTO exchange_event (id, type, created_at, data)
    SELECT e.id, %s, %s::timestamptz, e.data::jsonb
    FROM unnest(%s::uuid[], %s::text[]) AS e(id, data)
    WHERE e.id IN (SELECT r.event_id FROM rows r)
    RETURNING id
)
INSERT INTO exchange_delivery (id, event_id, subscription_id, channel_id, organisation_id, status, attempts,
                               next_attempt_at, last_error, created_at, sent_at)
SELECT r.id, r.event_id, r.subscription_id, r.channel_id, r.organisation_id, r.status, 0,
       r.next_attempt_at, '', r.created_at, r.sent_at
FROM rows r JOIN events e ON e.id = r.event_id
ON CONFLICT (event_id, channel_id) DO NOTHING
RETURNING id, event_id, status
"""  # noqa: S608 - constant SQL; every value is a bound parameter

# Events addressed to organisations: every active subscription of each.
_ADDRESSED_SQL = (
    "SELECT a.event_id, sub.id FROM unnest(%s::uuid[], %s::uuid[]) AS a(event_id, organisation_id)"
    " JOIN accounts_organisation org ON org.id = a.organisation_id AND org.is_active"
    " JOIN exchange_subscription sub ON sub.organisation_id = org.id"
)


def channels_for(subscriptions: QuerySet[Subscription]) -> QuerySet[Channel]:
    """The live channels of these subscriptions: the rows ``event_emit`` writes deliveries for."""
    with unscoped("the outbox writes deliveries for every receiving organisation"):
        return Channel.objects.filter(subscription__in=subscriptions.values("pk"), subscription__active=True).exclude(
            state=ChannelState.DISABLED
        )


def fan_out_sql(
    *, type: str, events: list[tuple[uuid.UUID, dict[str, Any]]], targets: tuple[str, Sequence[Any]], now: Any
) -> tuple[str, list[Any]]:
    """The one statement that writes ``events`` and their deliveries (also for ``EXPLAIN``).

    ``targets`` is SQL yielding ``(event_id, subscription_id)`` pairs, with its parameters.
    """
    sql, params = targets
    return _FAN_OUT_SQL.format(targets=sql), [
        *params,
        type == "test",
        now,
        now,
        now,
        type,
        now,
        [event_id for event_id, _data in events],
        [json.dumps(data, cls=DjangoJSONEncoder) for _event_id, data in events],
    ]


def _fan_out(
    *, type: str, events: list[tuple[uuid.UUID, dict[str, Any]]], targets: tuple[str, Sequence[Any]]
) -> dict[uuid.UUID, Event]:
    """Write the events that have receivers and their deliveries; enqueue the pending after commit."""
    if not events:
        return {}
    now = timezone.now()
    sql, params = fan_out_sql(type=type, events=events, targets=targets, now=now)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    pending = [str(delivery_id) for delivery_id, _event_id, status in rows if status == DeliveryStatus.PENDING]
    if pending:
        transaction.on_commit(lambda: enqueue(pending))
    written = {event_id for _delivery_id, event_id, _status in rows}
    db = router.db_for_write(Event)
    return {
        event_id: Event.from_db(db, ["id", "type", "created_at", "data"], [event_id, type, now, data])
        for event_id, data in events
        if event_id in written
    }


def event_emit(*, type: str, data: dict[str, Any], subscriptions: QuerySet[Subscription]) -> Event | None:
    """Write an event and one delivery per (subscription, live channel), in one statement.

    Call inside the transaction of the change. Returns None when nobody is to receive it.
    """
    event_id = uuid.uuid4()
    targets = subscription_targets(event_id, subscriptions)
    return _fan_out(type=type, events=[(event_id, data)], targets=targets).get(event_id)


def subscription_targets(event_id: uuid.UUID, subscriptions: QuerySet[Subscription]) -> tuple[str, list[Any]]:
    """``(event_id, subscription_id)`` for each of ``subscriptions``, as SQL for ``fan_out_sql``."""
    with unscoped("the outbox writes deliveries for every receiving organisation"):
        sql, params = subscriptions.values("pk").query.sql_with_params()
    return f"SELECT %s::uuid, q.id FROM ({sql}) AS q(id)", [event_id, *params]  # noqa: S608 - ORM-compiled


def events_emit_addressed(*, type: str, items: Sequence[tuple[dict[str, Any], Iterable[Any]]]) -> int:
    """Many events of one type, each addressed to organisations, in one statement.

    ``items`` are ``(data, organisation ids)``; each event reaches every active
    subscription of its organisations. Returns the number of events written.
    """
    events, event_ids, organisation_ids = [], [], []
    for data, organisations in items:
        event_id = uuid.uuid4()
        events.append((event_id, data))
        for organisation_id in dict.fromkeys(organisations):
            event_ids.append(event_id)
            organisation_ids.append(organisation_id)
    return len(_fan_out(type=type, events=events, targets=(_ADDRESSED_SQL, [event_ids, organisation_ids])))


# Up to this many deliveries are handed to the broker one message each, right after
# commit; a larger fan-out is handed over in chunks that a worker splits, so that an
# approval reaching thousands of subscribers publishes a handful of messages.
ENQUEUE_INLINE = 20
# The Celery queue of each channel type's deliveries (config/settings/base.py lists them all).
DELIVERY_QUEUES: dict[str, str] = {
    ChannelType.EMAIL: "email",
    ChannelType.WEBHOOK: "webhooks",
    ChannelType.INBOX: "inbox",
}
ENQUEUE_CHUNK = 500


def enqueue(delivery_ids: Iterable[str]) -> bool:
    """Hand deliveries to the broker; if it is unreachable, the sweeper will do it later.

    Returns False when the broker refused some of them.
    """
    from exchange.tasks import deliver_many

    ids = list(delivery_ids)
    if len(ids) <= ENQUEUE_INLINE:
        return deliveries_publish(ids) is not None
    try:
        with _publish_batch() as producer:
            for start in range(0, len(ids), ENQUEUE_CHUNK):
                deliver_many.apply_async(args=(ids[start : start + ENQUEUE_CHUNK],), producer=producer)
    except Exception:  # the broker is down: the rows are safe in PostgreSQL
        logger.warning("Broker unavailable; %d deliveries left for the sweeper", len(ids), exc_info=True)
        return False
    return True


def deliveries_publish(delivery_ids: Sequence[str]) -> int | None:
    """One ``exchange.deliver`` message per delivery, on its channel's queue; returns how many,
    or None when the broker refused them.

    One statement reads every delivery's organisation and channel type, and the messages
    go through one producer in one Redis pipeline (kombu's ``Producer.batch``): one round
    trip for the lot instead of one each. A failed pipeline may have pushed some of its
    messages, or none: either way the rows are still due and the sweeper publishes them
    again, and a second message for a delivery finds it claimed or done (delivery.py).
    """
    from exchange.tasks import deliver

    if not delivery_ids:
        return 0
    # The task runs in the receiving organisation's scope, so it is sent that organisation's
    # id; and on the queue of its channel's kind, so e-mail, webhooks and the inbox scale apart.
    with unscoped("looking up which organisation each delivery being enqueued belongs to"):
        rows = {
            str(pk): (str(organisation_id), channel_type)
            for pk, organisation_id, channel_type in Delivery.objects.filter(pk__in=delivery_ids).values_list(
                "pk", "organisation_id", "channel__type"
            )
        }
    published = 0
    try:
        with _publish_batch() as producer:
            queues = _BoundQueues(producer)
            for delivery_id in delivery_ids:
                if str(delivery_id) not in rows:
                    continue  # deleted since (its organisation or channel went away): nothing to send
                organisation_id, channel_type = rows[str(delivery_id)]
                deliver.apply_async(
                    args=(delivery_id,),
                    kwargs={"organisation_id": organisation_id},
                    queue=queues[DELIVERY_QUEUES.get(channel_type, "inbox")],
                    producer=producer,
                )
                published += 1
    except Exception:  # the broker is down: the rows are safe in PostgreSQL
        logger.warning("Broker unavailable; %d deliveries left for the sweeper", len(delivery_ids), exc_info=True)
        return None
    return published


@contextmanager
def _publish_batch() -> Iterator[Any]:
    """A producer from the application's pool whose messages reach Redis together, on leaving.

    Only with a real broker: eagerly (tests and development without Redis) each
    ``apply_async`` runs its task at once, as before.
    """
    from config.celery import app

    if app.conf.task_always_eager:
        yield None
        return
    with app.producer_or_acquire() as producer, producer.batch(max_size=2 * ENQUEUE_CHUNK):
        yield producer


class _BoundQueues(dict[str, Any]):
    """The deliveries' queues by name, each bound once to ``producer``'s channel.

    Celery declares a message's queue before publishing it (cached per connection), but
    binds an unbound queue to the channel again for every message; bound here, once per
    batch, the declaration is still made and checked, without that copy per message.
    Eagerly (no producer) the names are given to Celery as they are.
    """

    def __init__(self, producer: Any) -> None:
        super().__init__()
        self.producer = producer

    def __missing__(self, name: str) -> Any:
        if self.producer is None:
            return name
        from config.celery import app

        queue = self[name] = app.amqp.queues[name].bind(self.producer.channel)
        return queue


# --- Who receives what ---------------------------------------------------------------------------


def _sections(codes: list[str]) -> list[str]:
    from opportunities.models import Sector

    # A division always has its section.
    parents = cast(
        dict[str, str], dict(Sector.objects.filter(code__in=codes, level="division").values_list("code", "parent_id"))
    )
    return sorted({*codes, *parents.values()})


def _keywords_match(subscriptions: QuerySet[Subscription], listing: Listing) -> QuerySet[Subscription]:
    """The subscription's keywords (none, or a web search) against the listing's stored vector.

    The listing's vector is an uncorrelated scalar subquery (one InitPlan, computed
    once), and the keywords are the subscription's own column reached through the
    ORM, never by table name: nested in another query (the channels, the fan-out),
    it stays one plan with no subquery run per row.
    """
    words = F("keywords")
    query = SearchQuery(words, config="english", search_type="websearch") | SearchQuery(
        words, config="simple", search_type="websearch"
    )
    vector = Subquery(Listing.objects.filter(pk=listing.pk).values("search_vector")[:1])
    return subscriptions.filter(Q(keywords="") | Q(_TextMatch(vector, query)))


class _TextMatch(Func):
    """``vector @@ query`` as a boolean expression (``SearchVectorExact`` cannot take a subquery)."""

    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def subscriptions_for_listing(listing: Listing) -> QuerySet[Subscription]:
    """Active subscriptions whose filters match the listing and whose organisation may see it."""
    with unscoped("finding every organisation whose saved search matches a published listing"):
        qs = (
            Subscription.objects.filter(active=True)
            .exclude(organisation_id=listing.owner_id)
            .filter(Q(direction="") | Q(direction=listing.direction))
            .filter(Q(scheme_types=[]) | Q(scheme_types__contains=[listing.scheme_type]))
            .filter(Q(isco_prefixes=[]) | Q(isco_prefixes__overlap=listing.isco_prefixes))
            .filter(Q(sectors=[]) | Q(sectors__overlap=_sections(listing.sectors)))
            .filter(Q(owner_countries=[]) | Q(owner_countries__contains=[listing.owner_country]))
        )
        if listing.partner_countries:
            qs = qs.filter(Q(open_to_my_country=False) | Q(organisation__country__in=listing.partner_countries))
        # Only organisations that may read the listing hear of it.
        qs = qs.filter(organisation__in=listing_readers(listing))
        return _keywords_match(qs, listing)


def subscription_wants(
    subscription: Subscription, listing: Listing, *, sections: Sequence[str], keywords_found: Callable[[str], bool]
) -> bool:
    """The rules of ``subscriptions_for_listing`` for one subscription, in plain Python.

    ``sections`` are the listing's ISIC codes with their sections (``_sections``);
    ``keywords_found(words)`` says whether the listing's text matches a web search.
    The fan-out tests and ``manage.py bench_fanout`` hold the SQL to this.
    """
    organisation = subscription.organisation
    partners = listing.partner_countries
    return (
        subscription.active
        and organisation.pk != listing.owner_id
        and subscription.direction in ("", listing.direction)
        and (not subscription.scheme_types or listing.scheme_type in subscription.scheme_types)
        and (not subscription.isco_prefixes or bool(set(subscription.isco_prefixes) & set(listing.isco_prefixes)))
        and (not subscription.sectors or bool(set(subscription.sectors) & set(sections)))
        and (not subscription.owner_countries or listing.owner_country in subscription.owner_countries)
        and (not partners or not subscription.open_to_my_country or organisation.country in partners)
        and listing_readable_by(listing, organisation)
        and (not subscription.keywords or keywords_found(subscription.keywords))
    )


def subscriptions_of(organisation_ids: Iterable[Any]) -> QuerySet[Subscription]:
    with unscoped("an event addressed to named organisations"):
        return Subscription.objects.filter(
            active=True, organisation_id__in=list(organisation_ids), organisation__is_active=True
        )


# --- The events ------------------------------------------------------------------------------------

MODERATION_DECISIONS = {
    "approve": "approved",
    "request_changes": "changes_requested",
    "reject": "rejected",
    "revision_approve": "revision_approved",
    "revision_request_changes": "revision_changes_requested",
    "revision_reject": "revision_rejected",
}


def _consent_data(listing: Listing, country: str, **extra: Any) -> dict[str, Any]:
    return {
        "listing_id": str(listing.pk),
        "title": listing.title,
        "owner_country": listing.owner_country,
        "origin_country": country,
        "url": f"{settings.SITE_URL}/api/v1/listings/{listing.pk}/consents/",
        **extra,
    }


def on_listing_event(listing: Listing, event: str, reason: str) -> None:
    """The listing outbox hook (opportunities.services.LISTING_OUTBOX), inside the transaction."""
    if event == "published":
        event_emit(
            type="listing.published", data=_listing_data(listing), subscriptions=subscriptions_for_listing(listing)
        )
    elif event.startswith("admitted:"):
        # An origin government accepted: its country's alerts hear of the listing now.
        country = event.split(":", 1)[1]
        event_emit(
            type="listing.published",
            data=_listing_data(listing),
            subscriptions=subscriptions_for_listing(listing).filter(organisation__country=country),
        )
    elif event.startswith("consent_requested:"):
        country = event.split(":", 1)[1]
        with unscoped("an event addressed to the origin country's governments"):
            governments = list(origin_governments(country).values_list("pk", flat=True))
        event_emit(
            type="consent.requested", data=_consent_data(listing, country), subscriptions=subscriptions_of(governments)
        )
    elif event.startswith("consent_decided:"):
        country = event.split(":", 1)[1]
        with unscoped("the decision on a listing's consent, for its owner"):
            status = listing.origin_consents.filter(country=country).values_list("status", flat=True).first()
        event_emit(
            type="consent.decided",
            data=_consent_data(listing, country, decision=status),
            subscriptions=subscriptions_of([listing.owner_id]),
        )
    elif event.startswith("moderated:"):
        decision = MODERATION_DECISIONS.get(event.split(":", 1)[1], event)
        event_emit(
            type="listing.moderated",
            data=_listing_data(listing, decision=decision, reason=reason),
            subscriptions=subscriptions_of([listing.owner_id]),
        )


def matches_created(matches: Iterable[Match]) -> int:
    """``match.created`` to the readers of each new match (its two governments), in one statement.

    Inside the matching transaction. ``matches`` should come with their demand and
    supply (``select_related``): a run of hundreds of new matches costs the same
    few statements as one. Returns the number of events written.
    """
    return events_emit_addressed(
        type="match.created",
        items=[(_match_data(match), match_reader_ids(match)) for match in matches],
    )


def on_match_event(match: Match, event: str, organisation_id: Any) -> None:
    """Dialogue events to the other party (exchange.dialogue.services, inside the transaction)."""
    other = match.supply_owner_id if str(organisation_id) == str(match.demand_owner_id) else match.demand_owner_id
    extra = {"reason": match.decision_reason} if event in ("match.accepted", "match.declined") else {}
    event_emit(type=event, data=_match_data(match, **extra), subscriptions=subscriptions_of([other]))


def closing_soon(*, today: Any = None) -> int:
    """``listing.closing_soon`` for listings whose deadline is in 7 days; once per listing."""
    today = today or timezone.localdate()
    sent = 0
    with unscoped("a daily sweep over every published listing"), transaction.atomic():
        listings = live_listings().filter(application_deadline=today + timedelta(days=7))
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
                subscriptions=subscriptions_of(interested).filter(organisation__in=listing_readers(listing)),
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
