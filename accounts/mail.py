"""E-mail the platform owes people (invitations, password resets, unlock links, admin alerts,
digests), through the e-mail outbox.

:func:`email_enqueue` writes an :class:`~accounts.models.OutboundEmail` row in the caller's
transaction: if the change rolls back, so does the e-mail; if it commits, a worker sends it
(the task ``accounts.send_email``, published after commit; the sweeper publishes again
whatever the broker lost). A request therefore never waits on, or fails because of, SMTP.
The same ``key`` is never written twice, so a retried request does not e-mail twice.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import OutboundEmail
from config.request_id import current_request_id


def email_enqueue(*, key: str, to: str, subject: str, body: str, html: str = "") -> OutboundEmail:
    """Owe ``to`` one e-mail, identified by ``key`` (e.g. ``"invitation:<id>"``); idempotent per key."""
    email, created = OutboundEmail.objects.get_or_create(
        key=key,
        defaults={
            "to": to,
            "subject": subject[:300],
            "body": body,
            "html": html,
            "request_id": current_request_id(),
        },
    )
    if created:
        email_id = str(email.pk)
        transaction.on_commit(lambda: _publish(email_id))
    return email


def _publish(email_id: str) -> None:
    """Hand the e-mail to the broker; if that fails, the row stays pending for the sweeper."""
    import logging

    from accounts.tasks import send_email

    try:
        send_email.delay(email_id)
    except Exception:
        logging.getLogger(__name__).warning(
            "Broker unavailable; e-mail %s left for the sweeper", email_id, exc_info=True
        )


def email_send(email_id: str) -> str:
    """Send one owed e-mail once: claim it (a lease), send, record ``sent`` at once.

    A failure records the error and the time of the next attempt (``NOTIFICATION_RETRY_SCHEDULE``);
    after the last one the e-mail is ``dead``. Returns the status afterwards, or "skipped" when
    the row is not due, already sent, or claimed by another worker.
    """
    import logging
    from datetime import timedelta

    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives
    from django.db.models import Q
    from django.utils import timezone

    from accounts.models import OutboundEmailStatus

    now = timezone.now()
    retryable = (OutboundEmailStatus.PENDING, OutboundEmailStatus.FAILED)
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status__in=retryable)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .first()
        )
        if email is None:
            return "skipped"
        schedule = settings.NOTIFICATION_RETRY_SCHEDULE
        if email.attempts >= len(schedule):
            email.status = OutboundEmailStatus.DEAD
            email.last_error = email.last_error or "Retries exhausted."
            email.save(update_fields=["status", "last_error"])
            return email.status
        email.attempts += 1
        email.claimed_until = now + timedelta(seconds=settings.NOTIFICATION_CLAIM_SECONDS)
        email.save(update_fields=["attempts", "claimed_until"])
    message = EmailMultiAlternatives(
        subject=email.subject, body=email.body, to=[email.to], headers={"Message-ID": f"<{email.pk}@corridor>"}
    )
    if email.html:
        message.attach_alternative(email.html, "text/html")
    try:
        message.send()
    except Exception as exc:
        logging.getLogger(__name__).warning("E-mail %s failed: %s", email.pk, exc)
        delay = schedule[email.attempts] if email.attempts < len(schedule) else None
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
