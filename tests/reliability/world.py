"""The fault suite's small world: Italy publishes schemes, Moldova subscribes to them.

Helpers here build data and read outcomes; the faults themselves are in ``harness``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from accounts.tenancy import Actor, tenant_scope, unscoped
from exchange.models import Channel, Delivery, Notification, Subscription
from exchange.notifications.webhooks import new_secret
from opportunities.models import Listing
from opportunities.services import listing_transition
from tests.opportunities.conftest import create_listing, days


def scheme(**overrides: Any) -> dict[str, Any]:
    """A seasonal farm-work scheme open to Moldova: Moldova's subscriptions want it."""
    base: dict[str, Any] = {
        "direction": "demand",
        "title": "Seasonal harvest",
        "scheme_type": "seasonal",
        "starts_on": days(60),
        "ends_on": days(300),
        "application_deadline": days(30),
        "partner_countries": ["MD"],
        "occupation_lines": [{"isco_code": "9211", "quantity": 100}],
    }
    base.update(overrides)
    return base


def offer(**overrides: Any) -> dict[str, Any]:
    """Moldova's farm workers: the supply side a scheme above is matched with."""
    return scheme(direction="supply", title="Farm workers ready to go", partner_countries=[], **overrides)


def subscribe(
    organisation: Any, *, webhook: str = "", inbox: bool = False, email_to: Iterable[Any] = (), name: str = ""
) -> Subscription:
    """A saved search of ``organisation`` wanting every listing, with the channels asked for."""
    with unscoped("test setup"):
        subscription = Subscription.objects.create(
            organisation=organisation, name=name or f"Alerts of {organisation.slug}"
        )
        if webhook:
            Channel.objects.create(
                subscription=subscription, organisation=organisation, type="webhook", url=webhook, secret=new_secret()
            )
        if inbox:
            Channel.objects.create(subscription=subscription, organisation=organisation, type="inbox")
        members = [user.pk for user in email_to]
        if members:
            Channel.objects.create(subscription=subscription, organisation=organisation, type="email", members=members)
        return subscription


def submitted(owner: Actor, payload: dict[str, Any]) -> Listing:
    listing = create_listing(owner, payload)
    with tenant_scope(owner):
        return listing_transition(actor=owner, listing=listing, action="submit")


def approve(moderator: Actor, listing: Listing) -> Listing:
    with tenant_scope(moderator):
        return listing_transition(actor=moderator, listing=listing, action="approve")


def publish(owner: Actor, moderator: Actor, payload: dict[str, Any]) -> Listing:
    """Each step commits for real, and its after-commit hooks publish to the broker."""
    return approve(moderator, submitted(owner, payload))


def deliveries() -> list[Delivery]:
    with unscoped("assertion"):
        return list(Delivery.objects.select_related("channel", "event").order_by("created_at"))


def statuses() -> list[tuple[str, str, str, int]]:
    """(event, channel, status, attempts) of every delivery: what an operator's delivery log shows."""
    return [(d.event.type, d.channel.type, d.status, d.attempts) for d in deliveries()]


def all_done(expected: int) -> bool:
    """``expected`` deliveries exist and each ended sent or dead (nothing left in flight)."""
    rows = deliveries()
    return len(rows) == expected and all(d.status in ("sent", "dead") for d in rows)


def inbox_items(organisation: Any) -> int:
    with unscoped("assertion"):
        return Notification.objects.filter(organisation=organisation).count()


def nothing_lost(events: Iterable[str] | None = None) -> None:
    """NL: one delivery per (event, channel) of each committed event, each ending sent or dead."""
    rows = [d for d in deliveries() if events is None or d.event.type in events]
    keys = [(d.event_id, d.channel_id) for d in rows]
    assert len(keys) == len(set(keys)), f"two deliveries for one event and channel: {statuses()}"
    assert all(d.status in ("sent", "dead") for d in rows), f"a delivery never finished: {statuses()}"


def emails_about(subject_part: str) -> list[tuple[str, str]]:
    """(recipient, subject) of every e-mail owed or sent whose subject mentions ``subject_part``.

    Admin alerts may be sent inline (Django's outbox in tests) or through the e-mail
    outbox (``accounts.OutboundEmail``); both count as the partner being told.
    """
    from django.core import mail

    from accounts.models import OutboundEmail

    found = {(to, str(m.subject)) for m in mail.outbox if subject_part in m.subject for to in m.to}
    found |= {(e.to, e.subject) for e in OutboundEmail.objects.filter(subject__contains=subject_part)}
    return sorted(found)
