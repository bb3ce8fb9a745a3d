"""Retention of notification data: what is purged, when, and what is never touched.

Officials are the data subjects here (GDPR-style storage limitation, issue 16). A
delivery log is worth keeping while someone may still ask "did our webhook get
it?"; after that it is only risk. Daily, from beat (``exchange.purge_notifications``):

1. **Inbox items** (``Notification``) created more than ``INBOX_RETENTION_DAYS``
   (365) ago are deleted, with the delivery that made them (and its e-mail receipts).
2. **Deliveries** created more than ``DELIVERY_RETENTION_DAYS`` (180) ago whose
   status is final, ``sent`` or ``dead``, are deleted with their receipts, unless
   an inbox item still younger than its own limit holds them (the inbox page reads
   the item through its delivery); those keep their row, but their log, the last
   error and status code, is cleared.
3. **Events** (the payload: ids, titles, links) created more than
   ``DELIVERY_RETENTION_DAYS`` ago that no delivery and no inbox item references any
   more are deleted.
4. **Outbound e-mails** (``accounts.OutboundEmail``: the address, subject and body of
   every e-mail the outbox sent, alerts and digests included) created more than
   ``DELIVERY_RETENTION_DAYS`` ago whose status is final, ``sent`` or ``dead``, are
   deleted: the same delivery log, for the e-mail channel and the account e-mails.

Never purged: an e-mail still owed (``pending``, ``failed``), nor a delivery that is
still owed (``pending``, ``failed`` and awaiting a retry, ``paused`` with its channel,
waiting for a ``digest``), whatever its age, nor the event it carries. Subscriptions
and channels are configuration, not logs, and stay. Ages are counted from
``created_at``. Deletes run in batches of ``BATCH`` so that a first run over a large
backlog holds no long locks.
"""

from __future__ import annotations

import datetime
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import OutboundEmail, OutboundEmailStatus
from accounts.services import audit_record
from accounts.tenancy import unscoped
from exchange.models import Delivery, DeliveryStatus, Event, Notification

FINAL = (DeliveryStatus.SENT, DeliveryStatus.DEAD)
BATCH = 1000


def _delete_in_batches(queryset: Any) -> int:
    deleted = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:BATCH])
        if not ids:
            return deleted
        with transaction.atomic():
            deleted += queryset.model.objects.filter(pk__in=ids).delete()[1].get(queryset.model._meta.label, 0)


def notifications_purge(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Purge the notification data past its retention (the module docstring says exactly what).

    Crosses tenants on purpose (a sweep). Returns the counts, also written to one audit row.
    """
    now = now or timezone.now()
    delivery_cutoff = now - datetime.timedelta(days=settings.DELIVERY_RETENTION_DAYS)
    inbox_cutoff = now - datetime.timedelta(days=settings.INBOX_RETENTION_DAYS)
    counts: dict[str, int] = {}
    with unscoped("the retention sweep purges every organisation's old notification data"):
        old_inbox = Delivery.objects.filter(notification__created_at__lt=inbox_cutoff, status__in=FINAL)
        counts["inbox_items"] = _delete_in_batches(old_inbox)

        held = Notification.objects.filter(delivery=OuterRef("pk"))
        old = Delivery.objects.filter(created_at__lt=delivery_cutoff, status__in=FINAL)
        counts["deliveries"] = _delete_in_batches(old.filter(~Exists(held)))
        counts["logs_cleared"] = (
            old.filter(Exists(held))
            .exclude(last_error="", last_status_code=None)
            .update(last_error="", last_status_code=None)
        )

        referenced = Exists(Delivery.objects.filter(event=OuterRef("pk"))) | Exists(
            Notification.objects.filter(event=OuterRef("pk"))
        )
        counts["events"] = _delete_in_batches(Event.objects.filter(created_at__lt=delivery_cutoff).exclude(referenced))
        counts["emails"] = _delete_in_batches(
            OutboundEmail.objects.filter(
                created_at__lt=delivery_cutoff, status__in=(OutboundEmailStatus.SENT, OutboundEmailStatus.DEAD)
            )
        )

        if any(counts.values()):
            with transaction.atomic():
                audit_record(actor=None, action="notifications.purged", changes=counts)
    return counts


@shared_task(name="exchange.purge_notifications", queue="maintenance")
def purge_notifications() -> dict[str, int]:
    """Daily (config/beat.py): the retention sweep."""
    return notifications_purge()
