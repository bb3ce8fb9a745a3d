"""E-mail the platform owes people (invitations, password resets, unlock links, admin alerts,
digests), through the e-mail outbox.

:func:`email_enqueue` writes an :class:`~accounts.models.OutboundEmail` row in the caller's
transaction: if the change rolls back, so does the e-mail; if it commits, a worker sends it
(the task ``accounts.send_email`` on the ``email`` queue, published after commit; the
sweeper, ``exchange.sweep_outbox``, publishes again whatever the broker lost and every
retry that has come due). A request therefore never waits on, or fails because of, SMTP.

Exactly once: the same ``key`` is never written twice, so a retried request does not
e-mail twice; a worker claims the row (a lease) before it sends and records ``sent`` at
once after the server accepted the message. Retry times live in the row
(``next_attempt_at``, from ``NOTIFICATION_RETRY_SCHEDULE``), never in broker countdowns;
after the last attempt, or at once when the server refuses the recipient, the row is
``dead`` with the reason in ``last_error``.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import OutboundEmail, OutboundEmailStatus
from config.request_id import current_request_id

logger = logging.getLogger(__name__)

RETRYABLE = (OutboundEmailStatus.PENDING, OutboundEmailStatus.FAILED)


def email_enqueue(
    *, key: str, to: str, subject: str, body: str, html: str = "", headers: dict[str, str] | None = None
) -> OutboundEmail:
    """Owe ``to`` one e-mail, identified by ``key`` (e.g. ``"invitation:<id>"``); idempotent per key.

    Call it inside the transaction of the change that causes the e-mail. A second call
    with the same key returns the first row and sends nothing more.
    """
    email, created = OutboundEmail.objects.get_or_create(
        key=key[:200],
        defaults={
            "to": to,
            "subject": " ".join(subject.split())[:300],
            "body": body,
            "html": html,
            "headers": headers or {},
            "request_id": current_request_id(),
        },
    )
    if created:
        email_id = str(email.pk)
        transaction.on_commit(lambda: email_publish(email_id))
    return email


def email_publish(email_id: str) -> bool:
    """Hand the e-mail to the broker; False (logged, never raised) when the broker is unreachable."""
    from accounts.tasks import send_email

    try:
        send_email.delay(email_id)
    except Exception:  # the broker is down or paused: the row stays due for the sweeper
        logger.warning("Broker unavailable; e-mail %s left for the sweeper", email_id, exc_info=True)
        return False
    return True


def _retry_delay(attempts: int) -> int | None:
    """Seconds before the next attempt after ``attempts`` tries, or None when they are spent."""
    schedule = settings.NOTIFICATION_RETRY_SCHEDULE
    return schedule[attempts] if attempts < len(schedule) else None


def email_send(email_id: str) -> str:
    """Send one owed e-mail once: claim it (a lease), send, record ``sent`` at once.

    A failure records the error and the time of the next attempt (``NOTIFICATION_RETRY_SCHEDULE``);
    after the last one, or when the server refuses the recipient, the e-mail is ``dead``.
    Returns the status afterwards, or "skipped" when the row is not due, already sent,
    or claimed by another worker. Never raises for an SMTP failure.
    """
    now = timezone.now()
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status__in=RETRYABLE)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .first()
        )
        if email is None:
            return "skipped"
        # Counted before sending: a worker killed mid-send still uses up an attempt,
        # so a message that kills its worker every time cannot loop for ever.
        if _retry_delay(email.attempts) is None:
            email.status = OutboundEmailStatus.DEAD
            email.last_error = email.last_error or "Retries exhausted (the worker was lost each time)."
            email.claimed_until = None
            email.save(update_fields=["status", "last_error", "claimed_until"])
            return email.status
        email.attempts += 1
        email.claimed_until = now + timedelta(seconds=settings.NOTIFICATION_CLAIM_SECONDS)
        email.save(update_fields=["attempts", "claimed_until"])
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        headers={"Message-ID": f"<{email.pk}@corridor>", **email.headers},
    )
    if email.html:
        message.attach_alternative(email.html, "text/html")
    try:
        message.send()
    except Exception as exc:
        permanent = isinstance(exc, smtplib.SMTPRecipientsRefused)
        delay = None if permanent else _retry_delay(email.attempts)
        logger.warning("E-mail %s (attempt %d) failed: %s", email.pk, email.attempts, exc)
        email.status = OutboundEmailStatus.FAILED if delay is not None else OutboundEmailStatus.DEAD
        email.next_attempt_at = timezone.now() + timedelta(seconds=delay or 0)
        email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        email.claimed_until = None
        email.save(update_fields=["status", "next_attempt_at", "last_error", "claimed_until"])
        return email.status
    email.status = OutboundEmailStatus.SENT
    email.sent_at = timezone.now()
    email.claimed_until = None
    email.save(update_fields=["status", "sent_at", "claimed_until"])
    return email.status


def emails_due(limit: int = 500) -> list[str]:
    """E-mails to publish now: new ones the broker may have lost, and retries that have come due."""
    now = timezone.now()
    grace = now - timedelta(seconds=settings.NOTIFICATION_SWEEP_AFTER_SECONDS)
    return [
        str(pk)
        for pk in OutboundEmail.objects.filter(status__in=RETRYABLE)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(Q(attempts__gt=0) | Q(created_at__lte=grace) | Q(claimed_until__isnull=False))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    ]


def emails_sweep() -> int:
    """Publish every due e-mail (beat, inside ``exchange.sweep_outbox``); return how many were published."""
    published = 0
    for email_id in emails_due():
        if not email_publish(email_id):
            break  # the broker is down: the rest waits for the next sweep
        published += 1
    return published


def emails_replay(*, emails: QuerySet[OutboundEmail]) -> int:
    """Give dead e-mails a fresh set of attempts and publish them; return how many."""
    ids = [str(pk) for pk in emails.filter(status=OutboundEmailStatus.DEAD).values_list("pk", flat=True)]
    with transaction.atomic():
        OutboundEmail.objects.filter(pk__in=ids, status=OutboundEmailStatus.DEAD).update(
            status=OutboundEmailStatus.PENDING, attempts=0, next_attempt_at=None, claimed_until=None
        )
        for email_id in ids:
            transaction.on_commit(lambda email_id=email_id: email_publish(email_id))  # type: ignore[misc]
    return len(ids)
