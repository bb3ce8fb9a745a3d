"""The delivery engine: claim a delivery, act on its channel once, record the outcome.

Guarantees (docs/notifications.md):

* **Nothing lost.** Deliveries are rows written with the event (the outbox). A
  worker that never receives the message, dies mid-task, or loses Redis leaves
  the row due; the sweeper (beat, every 15 s) enqueues due rows again.
* **No second effect.** A worker claims a row atomically (``SELECT … FOR UPDATE
  SKIP LOCKED`` and a ``claimed_until`` lease); a duplicate message finds it
  claimed or done. An inbox item is unique per delivery; each e-mail recipient has
  a unique receipt. Webhooks are at least once, always with the delivery's id as
  ``webhook-id``.
* **Retries in the database.** A failure stores ``next_attempt_at`` from the
  schedule (``NOTIFICATION_RETRY_SCHEDULE``, with jitter); the sweeper sends it
  when due. There are no long broker countdowns. After the last attempt the
  delivery is ``dead`` (the attempt counter also caps a task that keeps killing
  its worker). A webhook answering 410 disables its channel; 429 waits for
  ``Retry-After``; an endpoint failing ``WEBHOOK_PAUSE_AFTER_FAILURES`` times in
  a row is paused and its organisation's admins are told by e-mail.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, Q, QuerySet, Value
from django.db.models.functions import Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.tenancy import unscoped
from exchange.models import (
    Channel,
    ChannelState,
    ChannelType,
    Delivery,
    DeliveryStatus,
    Notification,
)

logger = logging.getLogger(__name__)

RETRYABLE = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


def retry_delay(attempts: int) -> float | None:
    """Seconds until the next attempt after ``attempts`` tries, or None when they are spent."""
    schedule = settings.NOTIFICATION_RETRY_SCHEDULE
    if attempts >= len(schedule):
        return None
    base = schedule[attempts]
    return base + random.uniform(0, base * settings.NOTIFICATION_RETRY_JITTER)  # noqa: S311 - jitter, not security


def _claim(delivery_id: str) -> Delivery | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("channel", "event", "subscription")
            .filter(pk=delivery_id, status__in=RETRYABLE)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .first()
        )
        if delivery is None:
            return None
        if delivery.attempts >= len(settings.NOTIFICATION_RETRY_SCHEDULE):
            # Spent (e.g. a task that kept killing its worker): stop, visibly.
            delivery.status = DeliveryStatus.DEAD
            delivery.last_error = delivery.last_error or "Retries exhausted."
            delivery.save(update_fields=["status", "last_error"])
            return None
        delivery.attempts += 1
        delivery.claimed_until = now + timedelta(seconds=settings.NOTIFICATION_CLAIM_SECONDS)
        delivery.published_until = None  # a copy reached a worker: the claim lease governs from here
        delivery.save(update_fields=["attempts", "claimed_until", "published_until"])
    return delivery


def delivery_attempt(delivery_id: str) -> str:
    """Attempt one delivery; returns its status afterwards (or "skipped")."""
    with unscoped("a worker delivers for whichever organisation the row names"):
        delivery = _claim(delivery_id)
        if delivery is None:
            return "skipped"
        channel = delivery.channel
        try:
            if channel.type == ChannelType.INBOX:
                return _inbox(delivery)
            if channel.type == ChannelType.EMAIL:
                return _email(delivery)
            if channel.type == ChannelType.WEBHOOK:
                return _webhook(delivery)
            return _finish(delivery, DeliveryStatus.SENT)
        except Exception as exc:
            logger.warning("Delivery %s failed: %s", delivery.pk, exc, exc_info=True)
            return _fail(delivery, error=f"{type(exc).__name__}: {exc}")


def _finish(delivery: Delivery, status: str, **fields: Any) -> str:
    delivery.status = status
    delivery.claimed_until = None
    if status == DeliveryStatus.SENT:
        delivery.sent_at = timezone.now()
        delivery.last_error = ""
    for key, value in fields.items():
        setattr(delivery, key, value)
    delivery.save(
        update_fields=["status", "claimed_until", "sent_at", "last_error", "last_status_code", "next_attempt_at"]
    )
    return status


def _fail(delivery: Delivery, *, error: str, status_code: int | None = None, retry_after: int | None = None) -> str:
    delay = retry_after if retry_after is not None else retry_delay(delivery.attempts)
    if delay is None:
        return _finish(delivery, DeliveryStatus.DEAD, last_error=error[:2000], last_status_code=status_code)
    return _finish(
        delivery,
        DeliveryStatus.FAILED,
        last_error=error[:2000],
        last_status_code=status_code,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )


def _inbox(delivery: Delivery) -> str:
    with transaction.atomic():
        Notification.objects.get_or_create(
            delivery=delivery, defaults={"organisation_id": delivery.organisation_id, "event_id": delivery.event_id}
        )
        return _finish(delivery, DeliveryStatus.SENT)


def _email(delivery: Delivery) -> str:
    from exchange.notifications import emails

    if delivery.event.type != "test" and emails.burst_exceeded(delivery.channel):
        return _finish(delivery, DeliveryStatus.DIGEST)
    emails.send_delivery_email(delivery)  # per-recipient receipts make a retry skip who already has it
    return _finish(delivery, DeliveryStatus.SENT)


def _webhook(delivery: Delivery) -> str:
    from exchange.notifications import webhooks

    channel = delivery.channel
    body = webhooks.body_for(delivery.event)
    result = webhooks.post(channel=channel, delivery_id=str(delivery.pk), body=body, now=timezone.now())
    if result.ok:
        Channel.objects.filter(pk=channel.pk).update(consecutive_failures=0)
        return _finish(delivery, DeliveryStatus.SENT, last_status_code=result.status_code)
    if result.gone:
        with transaction.atomic():
            # The alert is owed in the transaction that disables the channel: once per change.
            if (
                Channel.objects.filter(pk=channel.pk)
                .exclude(state=ChannelState.DISABLED)
                .update(state=ChannelState.DISABLED)
            ):
                _tell_admins(channel, disabled=True)
        return _finish(
            delivery, DeliveryStatus.DEAD, last_status_code=410, last_error="The receiver answered 410 Gone."
        )
    status = _fail(delivery, error=result.error, status_code=result.status_code, retry_after=result.retry_after)
    _count_failure(channel)
    return status


def _count_failure(channel: Channel) -> None:
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        locked.consecutive_failures += 1
        fields = ["consecutive_failures"]
        if locked.consecutive_failures >= settings.WEBHOOK_PAUSE_AFTER_FAILURES and locked.state == ChannelState.ACTIVE:
            locked.state = ChannelState.PAUSED
            fields.append("state")
            Delivery.objects.filter(channel=locked, status__in=RETRYABLE).update(status=DeliveryStatus.PAUSED)
            _tell_admins(locked, disabled=False)  # owed in this transaction, through the e-mail outbox
        locked.save(update_fields=fields)


def _tell_admins(channel: Channel, *, disabled: bool) -> None:
    """Owe each admin of the channel's organisation one e-mail saying it was paused or disabled.

    Call inside the transaction that changes the channel's state: the e-mails go through
    the e-mail outbox (accounts/mail.py), one row per admin, keyed by the change.
    """
    from accounts.mail import email_enqueue
    from exchange.notifications.emails import email_recipients, member_locale

    changed = timezone.now().strftime("%Y%m%dT%H%M%S%f")
    kind = "disabled" if disabled else "paused"
    link = f"{settings.SITE_URL}/alerts/deliveries/?subscription={channel.subscription_id}"
    for admin in email_recipients(_admins_only(channel)):
        with member_locale(admin):
            what = _("disabled (it answered 410 Gone)") if disabled else _("paused after repeated failures")
            subject = _("Corridor: your webhook endpoint was %(what)s") % {"what": what}
            body = _(
                "The webhook endpoint %(url)s of the subscription “%(name)s” was %(what)s.\n"
                "Deliveries are kept. Fix the endpoint, then replay them from the delivery log:\n"
                "%(link)s\n"
                "(or POST /api/v1/deliveries/{id}/replay/ through the API) to resume."
            ) % {"url": channel.url, "name": channel.subscription.name, "what": what, "link": link}
        email_enqueue(
            key=f"webhook-{kind}:{channel.pk}:{admin.pk}:{changed}", to=admin.email, subject=subject, body=body
        )


def _admins_only(channel: Channel) -> Channel:
    proxy = Channel(pk=channel.pk, organisation_id=channel.organisation_id, type=ChannelType.EMAIL)
    proxy.members = []
    return proxy


# --- Sweeping and replaying -----------------------------------------------------------------------------


def deliveries_due(limit: int = 1000) -> list[str]:
    """Deliveries that should be published now: new ones the broker may have lost, and due retries.

    A row the sweeper published before is left alone until its ``published_until`` lease
    has passed: a copy may still be queued behind a slow worker, and publishing it again
    every sweep fed a backlog with duplicates (docs/reliability.md, "A slow receiver").
    """
    now = timezone.now()
    grace = now - timedelta(seconds=settings.NOTIFICATION_SWEEP_AFTER_SECONDS)
    with unscoped("the sweeper looks after every organisation's deliveries"):
        return [
            str(pk)
            for pk in _unclaimed(Delivery.objects.filter(status__in=RETRYABLE, next_attempt_at__lte=now), now)
            .filter(Q(published_until__isnull=True) | Q(published_until__lte=now))
            .filter(Q(attempts__gt=0) | Q(created_at__lte=grace) | Q(claimed_until__isnull=False))
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        ]


def _unclaimed(deliveries: QuerySet[Delivery], now: datetime) -> QuerySet[Delivery]:
    return deliveries.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))


def deliveries_sweep() -> int:
    """Publish the due deliveries, each under a lease that doubles while it waits; return how many.

    The lease is as long as the row has been due (at least ``NOTIFICATION_SWEEP_AFTER_SECONDS``,
    at most ``NOTIFICATION_REPUBLISH_MAX_SECONDS``): a row waiting behind a backlog is
    published again after 15 s, 30 s, 1 min, … rather than every sweep, and a message the
    broker lost (a Redis restart) is still published again once the lease has passed. A
    worker's claim clears the lease, so a failed attempt's retry is not held back by it.
    """
    from exchange.notifications.events import enqueue

    due = deliveries_due()
    if not due:
        return 0
    now = timezone.now()
    waited = ExpressionWrapper(Value(now) - F("next_attempt_at"), output_field=DurationField())
    lease = Greatest(
        Least(waited, Value(timedelta(seconds=settings.NOTIFICATION_REPUBLISH_MAX_SECONDS))),
        Value(timedelta(seconds=settings.NOTIFICATION_SWEEP_AFTER_SECONDS)),
    )
    with unscoped("the sweeper looks after every organisation's deliveries"):
        # Only rows no worker has claimed since they were chosen: a claim clears the lease.
        leased = _unclaimed(Delivery.objects.filter(pk__in=due, status__in=RETRYABLE), now)
        leased.update(published_until=ExpressionWrapper(Value(now) + lease, output_field=DateTimeField()))
        if not enqueue(due):  # the broker is down: the next sweep tries them all again
            Delivery.objects.filter(pk__in=due, published_until__gt=now).update(published_until=None)
    return len(due)


def delivery_replay(*, delivery: Delivery) -> Delivery:
    """Send a delivery again (the owner asked): a paused or disabled channel is resumed."""
    with unscoped("the caller resolved the delivery through its own organisation"), transaction.atomic():
        delivery = Delivery.objects.select_for_update().select_related("channel").get(pk=delivery.pk)
        channel = delivery.channel
        if channel.state != ChannelState.ACTIVE:
            Channel.objects.filter(pk=channel.pk).update(state=ChannelState.ACTIVE, consecutive_failures=0)
            Delivery.objects.filter(channel=channel, status=DeliveryStatus.PAUSED).exclude(pk=delivery.pk).update(
                status=DeliveryStatus.PENDING, next_attempt_at=timezone.now()
            )
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = timezone.now()
        delivery.claimed_until = None
        # Published below, after commit: the sweeper need not publish it again at once.
        delivery.published_until = timezone.now() + timedelta(seconds=settings.NOTIFICATION_SWEEP_AFTER_SECONDS)
        delivery.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_until", "published_until"])
        delivery_id = str(delivery.pk)

        def _enqueue() -> None:
            from exchange.notifications.events import enqueue

            enqueue([delivery_id])

        transaction.on_commit(_enqueue)
    return delivery
