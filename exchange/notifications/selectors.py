"""Reads of subscriptions, their channels, the in-app inbox and the delivery log.

Everything here is private to one organisation. The models' default manager is
django-scopes' fail-closed manager, so every query must run inside
``tenant_scope(actor)`` (the API base does that); the selectors filter on the
actor's organisation as well, so a caller that disabled scopes (a test, a
command) still sees only that organisation's rows. The one deliberate exception
is ``feed_channel_by_token``, whose token says which organisation it belongs to.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.urls import reverse

from accounts.tenancy import Actor, unscoped
from exchange.models import Channel, ChannelType, Delivery, Event, Notification, Subscription

FEED_SIZE = 50


def organisation_id_of(actor: Actor) -> Any:
    """The acting organisation's id, or None for an anonymous actor or one with no organisation."""
    return actor.organisation.pk if actor.is_authenticated and actor.organisation is not None else None


def subscription_list(*, actor: Actor) -> QuerySet[Subscription]:
    """The acting organisation's subscriptions, each with its channels (two queries)."""
    org_id = organisation_id_of(actor)
    if org_id is None:
        return Subscription.objects.none()
    return (
        Subscription.objects.filter(organisation_id=org_id)
        .prefetch_related(Prefetch("channels", queryset=Channel.objects.order_by("created_at", "id")))
        .order_by("name", "created_at", "id")
    )


def notification_list(*, actor: Actor, unread: bool | None = None) -> QuerySet[Notification]:
    """The acting organisation's inbox, newest first, with each item's event."""
    org_id = organisation_id_of(actor)
    if org_id is None:
        return Notification.objects.none()
    items = Notification.objects.filter(organisation_id=org_id).select_related("event")
    if unread is not None:
        items = items.filter(read_at__isnull=unread)
    return items.order_by("-created_at", "-id")


def notification_unread_count(*, actor: Actor) -> int:
    return notification_list(actor=actor, unread=True).count()


def delivery_list(*, actor: Actor) -> QuerySet[Delivery]:
    """The acting organisation's delivery log, newest first."""
    org_id = organisation_id_of(actor)
    if org_id is None:
        return Delivery.objects.none()
    return (
        Delivery.objects.filter(organisation_id=org_id)
        .select_related("event", "channel")
        .order_by("-created_at", "-id")
    )


def feed_url(channel: Channel) -> str | None:
    """The absolute URL of a feed channel (its token is the only credential), else None."""
    if channel.type != ChannelType.FEED or not channel.feed_token:
        return None
    return settings.SITE_URL + reverse("subscription-feed", kwargs={"token": channel.feed_token})


def feed_channel_by_token(*, token: str) -> Channel | None:
    """The feed channel a token names, with its organisation, or None.

    Crosses tenants on purpose: the request carries no login, and the token is
    what says which organisation it belongs to. The caller then enters that
    organisation's scope for everything else.
    """
    if not token:
        return None
    with unscoped("feed token identifies its organisation"):
        return (
            Channel.objects.filter(type=ChannelType.FEED, feed_token=token, organisation__is_active=True)
            .select_related("organisation", "subscription")
            .first()
        )


def feed_entries(*, channel: Channel) -> list[Event]:
    """The newest events delivered to a feed channel (call inside its organisation's scope)."""
    deliveries = (
        Delivery.objects.filter(channel=channel, organisation_id=channel.organisation_id)
        .select_related("event")
        .order_by("-event__created_at", "-event_id")[:FEED_SIZE]
    )
    return [delivery.event for delivery in deliveries]


def subscriptions_with_last_delivery(subscriptions: QuerySet[Subscription]) -> QuerySet[Subscription]:
    """Annotate each subscription with its latest delivery's ``last_status`` and
    ``last_delivery_at`` (None when it has none): two correlated subqueries."""
    latest = Delivery.objects.filter(subscription=OuterRef("pk")).order_by("-created_at", "-id")
    return subscriptions.annotate(
        last_status=Subquery(latest.values("status")[:1]),
        last_delivery_at=Subquery(latest.values("created_at")[:1]),
    )
