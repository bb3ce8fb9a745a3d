"""The alerts part of the dashboard (config/dashboard.py): unread notifications, failing webhooks.

* the unread inbox items: how many, and the five newest with a link to each;
* webhook endpoints that are failing (paused, disabled, or failing in a row) and how
  many deliveries are retrying or dead in the last week, each linking to the
  delivery log.

Reads go through ``exchange.notifications.selectors`` (inside the actor's scope).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import Actor
from exchange.models import Channel, ChannelState, ChannelType, DeliveryStatus
from exchange.notifications.selectors import delivery_list, notification_list
from exchange.web.inbox import decorate
from exchange.web.subscriptions import channel_problem

TEMPLATE = "exchange/_dashboard_alerts.html"
LATEST = 5
RECENT = timedelta(days=7)


def section(request: HttpRequest) -> dict[str, Any] | None:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    unread = notification_list(actor=actor, unread=True)
    latest = [decorate(n) for n in unread[:LATEST]]
    unread_count = len(latest) if len(latest) < LATEST else unread.count()
    failing = list(
        Channel.objects.filter(organisation_id=actor.organisation.pk if actor.organisation else None)  # type: ignore[misc]  # None: no rows
        .filter(type=ChannelType.WEBHOOK)
        .filter(Q(state__in=(ChannelState.PAUSED, ChannelState.DISABLED)) | Q(consecutive_failures__gt=0))
        .select_related("subscription")
        .order_by("subscription__name", "created_at")
    )
    for channel in failing:
        channel.problem = channel_problem(channel)  # type: ignore[attr-defined]
    troubled = (
        delivery_list(actor=actor)
        .filter(status__in=(DeliveryStatus.FAILED, DeliveryStatus.DEAD, DeliveryStatus.PAUSED))
        .filter(created_at__gte=timezone.now() - RECENT)
        .count()
    )
    deliveries_url = reverse("exchange:deliveries")
    return {
        "template": TEMPLATE,
        "unread_count": unread_count,
        "latest": latest,
        "failing": failing,
        "troubled": troubled,
        "inbox_url": reverse("exchange:inbox"),
        "deliveries_url": deliveries_url,
        "subscriptions_url": reverse("exchange:subscriptions"),
    }
