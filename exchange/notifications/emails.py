"""E-mail notifications: who receives them, the instant e-mail, the digests, unsubscribing.

The delivery engine (``exchange.notifications.delivery``) decides *when*; this
module decides *who* and *what*, and sends through Django's e-mail backend. Three promises:

* **Exactly once per member.** An ``EmailReceipt(delivery, user)`` row is written
  right after each accepted message; members with a receipt are skipped, so a retry
  after a failure mails only those still owed the message.
* **In the member's language and time zone.** Each message is rendered inside
  ``translation.override(user.language or settings.LANGUAGE_CODE)``.
* **Easy to stop.** Every message carries a link to manage the subscription and a
  signed one-click unsubscribe link (also in ``List-Unsubscribe``, RFC 8058).
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import uuid
import zoneinfo
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import Membership, Role, User
from accounts.tenancy import Actor, tenant_scope, unscoped
from exchange.models import (
    Channel,
    ChannelType,
    Delivery,
    DeliveryStatus,
    EmailReceipt,
    Event,
    Frequency,
    Subscription,
)

logger = logging.getLogger(__name__)

# A signing salt, not a module path (the module was exchange/emails.py when links were
# first signed): changing it would void every unsubscribe link already in a mailbox.
UNSUBSCRIBE_SALT = "exchange.emails.unsubscribe"
# Unsubscribe links keep working for half a year: people unsubscribe from old mail.
UNSUBSCRIBE_MAX_AGE = timedelta(days=183)

# The length of one digest period, by the subscription's frequency. Held instant
# e-mails (the burst throttle) are flushed over a day, like a daily digest.
DIGEST_PERIODS: dict[str, timedelta] = {
    Frequency.INSTANT: timedelta(days=1),
    Frequency.DAILY: timedelta(days=1),
    Frequency.WEEKLY: timedelta(days=7),
}
# Which subscriptions each digest run visits (instant ones only with held e-mails).
DIGEST_RUNS: dict[str, tuple[str, ...]] = {
    Frequency.DAILY: (Frequency.DAILY, Frequency.INSTANT),
    Frequency.WEEKLY: (Frequency.WEEKLY,),
    Frequency.INSTANT: (Frequency.INSTANT,),
}

# What each event type means, in a short headline and one sentence.
EVENT_HEADLINES: dict[str, Any] = {
    "listing.published": gettext_lazy("New listing published"),
    "match.created": gettext_lazy("New match found"),
    "interest.expressed": gettext_lazy("Interest expressed"),
    "message.posted": gettext_lazy("New message"),
    "match.accepted": gettext_lazy("Match accepted"),
    "match.declined": gettext_lazy("Match declined"),
    "listing.moderated": gettext_lazy("Listing moderated"),
    "listing.closing_soon": gettext_lazy("Listing closing soon"),
    "suggestion.created": gettext_lazy("New suggestion from evidence"),
    "consent.requested": gettext_lazy("Your government's agreement is asked"),
    "consent.decided": gettext_lazy("Origin government's decision"),
    "test": gettext_lazy("Test notification"),
}
EVENT_SUMMARIES: dict[str, Any] = {
    "listing.published": gettext_lazy("A listing that fits your subscription has been published."),
    "match.created": gettext_lazy("Corridor has found a match for one of your organisation's listings."),
    "interest.expressed": gettext_lazy("A partner government has expressed interest."),
    "message.posted": gettext_lazy("A new message has been posted in one of your organisation's conversations."),
    "match.accepted": gettext_lazy("A match has been accepted."),
    "match.declined": gettext_lazy("A match has been declined."),
    "listing.moderated": gettext_lazy("A moderator has reviewed a listing."),
    "listing.closing_soon": gettext_lazy("The application deadline of a listing is approaching."),
    "suggestion.created": gettext_lazy(
        "A published shortage of one country meets a published surplus of another, and no listings connect them yet."
    ),
    "consent.requested": gettext_lazy(
        "A published listing recruits from your country only with your government's agreement: accept or refuse it."
    ),
    "consent.decided": gettext_lazy("An origin government has accepted or refused your listing's recruitment."),
    "test": gettext_lazy("This is a test notification: your e-mail channel works."),
}
# Labels of the data keys shown as details; other simple keys are shown as they come.
DETAIL_LABELS: dict[str, Any] = {
    "decision": gettext_lazy("Decision"),
    "reason": gettext_lazy("Reason"),
    "listing_id": gettext_lazy("Listing reference"),
    "match_id": gettext_lazy("Match reference"),
    "message_id": gettext_lazy("Message reference"),
    "organisation": gettext_lazy("Organisation"),
    "deadline": gettext_lazy("Deadline"),
    "application_deadline": gettext_lazy("Application deadline"),
    "suggestion_id": gettext_lazy("Suggestion reference"),
    "destination_country": gettext_lazy("Destination country"),
    "origin_country": gettext_lazy("Origin country"),
    "isco_code": gettext_lazy("ISCO-08 group"),
}
_NOT_DETAILS = {"title", "url"}


# --- Recipients ------------------------------------------------------------------------


def email_recipients(channel: Channel) -> list[User]:
    """The people an e-mail channel writes to, ordered by address.

    The channel's ``members`` if it names any, keeping only those who are still
    members of the channel's organisation and active; otherwise the organisation's
    admins (active ones). Works inside or outside a tenant scope.
    """
    with unscoped("an e-mail channel's recipients are the members of its own organisation"):
        memberships = Membership.objects.with_scopes_disabled().filter(
            organisation_id=channel.organisation_id, user__is_active=True
        )
        if channel.members:
            memberships = memberships.filter(user_id__in=channel.members)
        else:
            memberships = memberships.filter(role=Role.ADMIN)
        return [m.user for m in memberships.select_related("user").order_by("user__email")]


# --- Burst throttle --------------------------------------------------------------------


def _recent_instant_receipts(user_ids: Iterable[uuid.UUID], now: datetime | None = None) -> Any:
    since = (now or timezone.now()) - timedelta(seconds=settings.NOTIFICATION_BURST_WINDOW_SECONDS)
    return EmailReceipt.objects.filter(
        user_id__in=list(user_ids), sent_at__gt=since, delivery__subscription__frequency=Frequency.INSTANT
    )


def should_hold_for_digest(channel: Channel, user: User, *, now: datetime | None = None) -> bool:
    """True if ``user`` has already had NOTIFICATION_BURST_LIMIT instant e-mails in the window.

    So at most NOTIFICATION_BURST_LIMIT instant e-mails reach one person within any
    NOTIFICATION_BURST_WINDOW_SECONDS; the next ones wait for the digest. Counted from
    ``EmailReceipt`` rows of instant subscriptions (a digest of held e-mails counts
    once per item it lists, so a flushed burst keeps throttling until the window
    passes). ``channel`` is accepted for symmetry with ``burst_exceeded``.
    """
    return _recent_instant_receipts([user.pk], now).count() >= settings.NOTIFICATION_BURST_LIMIT


def burst_exceeded(channel: Channel, *, now: datetime | None = None) -> bool:
    """True if any recipient of ``channel`` is over the burst limit (see ``should_hold_for_digest``).

    The engine then puts the whole delivery into ``digest`` rather than sending it:
    one e-mail per delivery is simpler than a mix of instant and digested copies.
    """
    recipients = email_recipients(channel)
    if not recipients:
        return False
    return (
        _recent_instant_receipts([u.pk for u in recipients], now)
        .values("user_id")
        .annotate(n=Count("id"))
        .filter(n__gte=settings.NOTIFICATION_BURST_LIMIT)
        .exists()
    )


# --- Unsubscribing ---------------------------------------------------------------------


def unsubscribe_token(subscription: Subscription, user: User) -> str:
    """A signed token naming the subscription and the member it was sent to."""
    return signing.dumps({"s": str(subscription.pk), "u": str(user.pk)}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(subscription: Subscription, user: User) -> str:
    return f"{settings.SITE_URL}/notifications/unsubscribe/{unsubscribe_token(subscription, user)}/"


def manage_url(subscription: Subscription) -> str:
    return f"{settings.SITE_URL}/api/v1/subscriptions/{subscription.pk}/"


@dataclass(frozen=True)
class UnsubscribeTarget:
    subscription: Subscription
    user: User


def unsubscribe_target(token: str) -> UnsubscribeTarget | None:
    """Resolve a token to its subscription and member, or None if it is bad, old or stale.

    Stale means the member has left the organisation (or was deactivated): a former
    member's old e-mail must not switch off the organisation's subscription.
    """
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
        subscription_id, user_id = uuid.UUID(payload["s"]), uuid.UUID(payload["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    with unscoped("the signed unsubscribe link names its subscription and organisation"):
        subscription = (
            Subscription.objects.with_scopes_disabled()
            .select_related("organisation")
            .filter(pk=subscription_id)
            .first()
        )
        if subscription is None:
            return None
        membership = (
            Membership.objects.with_scopes_disabled()
            .select_related("user")
            .filter(organisation_id=subscription.organisation_id, user_id=user_id, user__is_active=True)
            .first()
        )
    if membership is None:
        return None
    return UnsubscribeTarget(subscription=subscription, user=membership.user)


def unsubscribe(target: UnsubscribeTarget) -> Subscription:
    """Switch the subscription off (idempotent) and record who did it, from which link."""
    from accounts.services import audit_record

    subscription = target.subscription
    with unscoped("the signed unsubscribe link names its subscription and organisation"), transaction.atomic():
        changed = (
            Subscription.objects.with_scopes_disabled()
            .filter(pk=subscription.pk, active=True)
            .update(active=False, updated_at=timezone.now())
        )
        if changed:
            audit_record(
                actor=Actor(user=target.user, organisation=subscription.organisation, role=None),
                action="subscription.unsubscribed",
                obj=subscription,
                changes={"active": False, "via": "e-mail link"},
            )
    subscription.active = False
    return subscription


# --- Rendering -------------------------------------------------------------------------


@contextmanager
def member_locale(user: User) -> Iterator[None]:
    """Render in the member's language and time zone (site defaults if unset or unknown)."""
    try:
        zone = zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(zone):
        yield


def _absolute_url(value: object) -> str:
    """Make an event URL absolute on SITE_URL; anything but a path or http(s) URL is dropped."""
    if not isinstance(value, str) or not value:
        return ""
    if value.startswith("/") and not value.startswith("//"):
        return f"{settings.SITE_URL}{value}"
    if urlsplit(value).scheme in ("http", "https"):
        return value
    return ""


def _one_line(text: str, limit: int = 200) -> str:
    """Collapse whitespace (no header injection via titles) and cut overlong text."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class EventView:
    """An event as a message shows it; strings are already in the active language."""

    type: str
    headline: str
    summary: str
    title: str
    url: str
    created_at: datetime
    details: list[tuple[str, str]] = field(default_factory=list)

    @property
    def subject_line(self) -> str:
        if self.title:
            return _("%(headline)s: %(title)s") % {"headline": self.headline, "title": self.title}
        return self.headline


def event_view(event: Event) -> EventView:
    """Describe an event gracefully, whatever keys its (thin) data has. Call inside ``member_locale``."""
    data = event.data if isinstance(event.data, dict) else {}
    headline = EVENT_HEADLINES.get(event.type)
    summary = EVENT_SUMMARIES.get(event.type)
    details: list[tuple[str, str]] = []
    for key, value in data.items():
        if key in _NOT_DETAILS or value is None or value == "" or isinstance(value, (dict, list)):
            continue
        label = DETAIL_LABELS.get(key) or key.replace("_", " ").capitalize()
        if key.endswith("url"):
            value = _absolute_url(value)
            if not value:
                continue
        if key == "decision" and isinstance(value, str):
            value = value.replace("_", " ")  # "changes_requested" reads "changes requested"
        details.append((str(label), _one_line(str(value), 500)))
    return EventView(
        type=event.type,
        headline=str(headline) if headline else _("Notification"),
        summary=(
            str(summary)
            if summary
            else _("Something happened on Corridor (%(type)s).") % {"type": _one_line(event.type, 40)}
        ),
        title=_one_line(data.get("title") or ""),
        url=_absolute_url(data.get("url")),
        created_at=event.created_at,
        details=details,
    )


def _message_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "corridor.invalid"


def _build_message(
    *,
    user: User,
    subscription: Subscription,
    subject: str,
    template: str,
    context: dict[str, Any],
    message_key: str,
    connection: BaseEmailBackend | None,
) -> EmailMultiAlternatives:
    """Render ``template``.txt and .html into one multipart message. Call inside ``member_locale``."""
    one_click = unsubscribe_url(subscription, user)
    context = {
        **context,
        "user": user,
        "subscription": subscription,
        "organisation": subscription.organisation,
        "site_url": settings.SITE_URL,
        "manage_url": manage_url(subscription),
        "unsubscribe_url": one_click,
        "subject": subject,
    }
    message = EmailMultiAlternatives(
        subject=_one_line(subject, 250),
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        connection=connection,
        headers={
            # A Message-ID fixed by content: should the rare crash window ever resend a
            # message, most mail systems fold the copy into the original.
            "Message-ID": f"<{message_key}@{_message_domain()}>",
            "List-Unsubscribe": f"<{one_click}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "Content-Language": translation.get_language() or settings.LANGUAGE_CODE,
        },
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def delivery_message(
    delivery: Delivery, user: User, *, connection: BaseEmailBackend | None = None
) -> EmailMultiAlternatives:
    """The instant e-mail for one delivery, as ``user`` should read it."""
    with member_locale(user):
        view = event_view(delivery.event)
        return _build_message(
            user=user,
            subscription=delivery.subscription,
            subject=view.subject_line,
            template="exchange/email/event",
            context={"event": view, "delivery": delivery},
            message_key=f"{delivery.pk}.{user.pk}",
            connection=connection,
        )


# --- Instant e-mails -------------------------------------------------------------------


def send_delivery_email(delivery: Delivery) -> None:
    """Send an e-mail delivery to every recipient still owed it, one message each.

    For each recipient, in order: skip if an ``EmailReceipt`` exists; send; write the
    receipt at once. Called outside ``transaction.atomic`` (as the engine does), each
    receipt is committed by its own INSERT right after the server accepted the
    message, so a failure for the third member keeps the first two receipts and the
    retry mails only the rest.

    Errors propagate (``smtplib.SMTPException``, ``OSError``) so the engine retries.
    A recipient refused by the server (``SMTPRecipientsRefused``) does not stop the
    others: the first refusal is raised after everyone else was tried.

    The remaining window: a crash (or a lost connection to the database) after the
    SMTP server accepted a message but before its receipt was committed sends that
    member the message again on retry. The deterministic Message-ID lets most mail
    systems drop such a copy. Calling this inside an atomic block widens the window
    to the whole block, because a rollback would take the receipts with it.
    """
    channel = delivery.channel
    if channel.type != ChannelType.EMAIL:
        raise ValueError(f"Delivery {delivery.pk} is for a {channel.type} channel, not e-mail.")
    already = set(EmailReceipt.objects.filter(delivery=delivery).values_list("user_id", flat=True))
    owed = [user for user in email_recipients(channel) if user.pk not in already]
    if not owed:
        return
    refused: list[smtplib.SMTPRecipientsRefused] = []
    with get_connection(fail_silently=False) as connection:
        for user in owed:
            message = delivery_message(delivery, user, connection=connection)
            try:
                message.send()
            except smtplib.SMTPRecipientsRefused as exc:
                logger.warning("E-mail for delivery %s refused for user %s: %s", delivery.pk, user.pk, exc)
                refused.append(exc)
                continue
            with transaction.atomic():
                EmailReceipt.objects.bulk_create([EmailReceipt(delivery=delivery, user=user)], ignore_conflicts=True)
    if refused:
        raise refused[0]


# --- Digests ---------------------------------------------------------------------------


def digest_subject(subscription: Subscription, count: int) -> str:
    """Call inside ``member_locale``."""
    values = {"count": count, "name": _one_line(subscription.name, 120)}
    if subscription.frequency == Frequency.WEEKLY:
        return (
            ngettext(
                "Weekly digest: %(count)d update for “%(name)s”",
                "Weekly digest: %(count)d updates for “%(name)s”",
                count,
            )
            % values
        )
    if subscription.frequency == Frequency.DAILY:
        return (
            ngettext(
                "Daily digest: %(count)d update for “%(name)s”", "Daily digest: %(count)d updates for “%(name)s”", count
            )
            % values
        )
    return (
        ngettext("%(count)d held-back update for “%(name)s”", "%(count)d held-back updates for “%(name)s”", count)
        % values
    )


def digest_message(
    subscription: Subscription,
    user: User,
    events: list[Event],
    *,
    since: datetime,
    until: datetime,
    connection: BaseEmailBackend | None = None,
) -> EmailMultiAlternatives:
    """One digest e-mail listing ``events`` (oldest first) for ``user``."""
    key = hashlib.sha256(",".join(sorted(str(e.pk) for e in events)).encode()).hexdigest()[:24]
    with member_locale(user):
        return _build_message(
            user=user,
            subscription=subscription,
            subject=digest_subject(subscription, len(events)),
            template="exchange/email/digest",
            context={
                "events": [event_view(e) for e in events],
                "since": since,
                "until": until,
                "held": subscription.frequency == Frequency.INSTANT,
            },
            message_key=f"digest.{subscription.pk}.{user.pk}.{key}",
            connection=connection,
        )


def _digest_window(subscription: Subscription, now: datetime) -> datetime:
    """The earliest event time a digest at ``now`` lists.

    One period before the previous digest (or, for a first digest, one period before
    ``now``). The status ``digest`` is what keeps a delivery from being listed twice;
    the extra period catches a delivery held just after the previous digest ran for
    an event that happened just before it. Older held deliveries are stale and stay
    as they are.
    """
    period = DIGEST_PERIODS[subscription.frequency]
    return subscription.last_digest_at - period if subscription.last_digest_at else now - period


def _digest_one(subscription_id: uuid.UUID, now: datetime) -> int:
    """Owe one subscription's digest to each of its members; return the digest e-mails owed.

    1. Lock the subscription row (``skip_locked``: a concurrent run leaves it alone),
       claim its held e-mail deliveries of the period (``claimed_until``), commit.
    2. Per member: skip deliveries the member already has a receipt for, and in one
       transaction write the digest e-mail to the e-mail outbox (an ``OutboundEmail``
       keyed ``digest:<subscription>:<user>:<window start>:<events>``) with the receipts.
       A worker sends it; SMTP failures are retried there, from the database.
    3. Mark the deliveries ``sent`` and set ``last_digest_at``.

    A failure releases the claim and propagates; the next run owes only members still
    owed the digest. A crash leaves the claim to expire after NOTIFICATION_CLAIM_SECONDS.
    """
    with unscoped("the digest run visits every organisation's subscriptions"), transaction.atomic():
        subscription = (
            Subscription.objects.with_scopes_disabled()
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("organisation")
            .filter(pk=subscription_id, active=True)
            .first()
        )
        if subscription is None:
            return 0
        actor = Actor(user=None, organisation=subscription.organisation, role=None)
        since = _digest_window(subscription, now)
        # The period the e-mail names: since the previous digest (the look-back is an implementation detail).
        shown_since = subscription.last_digest_at or now - DIGEST_PERIODS[subscription.frequency]
        claim_now = timezone.now()
        claim_until = claim_now + timedelta(seconds=settings.NOTIFICATION_CLAIM_SECONDS)
        with tenant_scope(actor):
            deliveries = list(
                Delivery.objects.filter(
                    subscription=subscription,
                    status=DeliveryStatus.DIGEST,
                    channel__type=ChannelType.EMAIL,
                    event__created_at__gt=since,
                    event__created_at__lte=now,
                )
                .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=claim_now))
                .select_related("event", "channel")
                .order_by("event__created_at", "event_id")
            )
            if not deliveries:
                Subscription.objects.filter(pk=subscription.pk).update(last_digest_at=now)
                return 0
            delivery_ids = [d.pk for d in deliveries]
            Delivery.objects.filter(pk__in=delivery_ids).update(claimed_until=claim_until)

    sent = 0
    with tenant_scope(actor):
        try:
            owed: dict[uuid.UUID, tuple[User, list[Delivery]]] = {}
            channels = {d.channel_id: d.channel for d in deliveries}
            for channel in channels.values():
                for user in email_recipients(channel):
                    owed.setdefault(user.pk, (user, []))[1].extend(d for d in deliveries if d.channel_id == channel.pk)
            done = set(EmailReceipt.objects.filter(delivery_id__in=delivery_ids).values_list("delivery_id", "user_id"))
            for user, candidates in owed.values():
                todo = [d for d in candidates if (d.pk, user.pk) not in done]
                # Oldest first, each event once (it may come through two channels).
                ordered = sorted(todo, key=lambda d: (d.event.created_at, str(d.event_id)))
                events = list({d.event_id: d.event for d in ordered}.values())
                if not events:
                    continue
                message = digest_message(subscription, user, events, since=shown_since, until=now)
                # The e-mail and its receipts in one transaction: the digest is owed once,
                # and the e-mail outbox (accounts/mail.py) sends it, retrying SMTP failures.
                with transaction.atomic():
                    _digest_enqueue(message, subscription=subscription, user=user, since=shown_since, events=events)
                    EmailReceipt.objects.bulk_create(
                        [EmailReceipt(delivery=d, user=user) for d in todo], ignore_conflicts=True
                    )
                sent += 1
        except BaseException:
            Delivery.objects.filter(pk__in=delivery_ids, claimed_until=claim_until).update(claimed_until=None)
            raise
        with transaction.atomic():
            Delivery.objects.filter(pk__in=delivery_ids, status=DeliveryStatus.DIGEST).update(
                status=DeliveryStatus.SENT, sent_at=timezone.now(), claimed_until=None
            )
            Subscription.objects.filter(pk=subscription.pk).update(last_digest_at=now)
    return sent


def _digest_enqueue(
    message: EmailMultiAlternatives, *, subscription: Subscription, user: User, since: datetime, events: list[Event]
) -> None:
    """Owe one rendered digest through the e-mail outbox, keyed by subscription, member and window
    (and the events it lists, so a later run for the same window owes the rest, not nothing)."""
    from accounts.mail import email_enqueue

    listed = hashlib.sha256(",".join(sorted(str(e.pk) for e in events)).encode()).hexdigest()[:12]
    html = next((str(content) for content, mimetype in message.alternatives if mimetype == "text/html"), "")
    email_enqueue(
        key=f"digest:{subscription.pk}:{user.pk}:{since:%Y%m%dT%H%M%S}:{listed}",
        to=user.email,
        subject=str(message.subject),
        body=str(message.body),
        html=html,
        headers={name: str(value) for name, value in message.extra_headers.items()},
    )


def send_digests(*, frequency: str, now: datetime | None = None) -> int:
    """Owe the ``frequency`` digests of every organisation (through the e-mail outbox); return the
    number of digest e-mails owed.

    ``daily`` visits daily subscriptions and instant ones with e-mails held by the
    burst throttle; ``weekly`` visits weekly ones; ``instant`` only flushes held
    instant e-mails (for an optional, more frequent run). Each member gets one e-mail
    per subscription listing that subscription's held e-mail deliveries of the period
    (see ``_digest_window``); nothing held, no e-mail. Running twice sends nothing the
    second time. One subscription's failure does not stop the others; the first
    error is raised at the end so the task is retried.
    """
    if frequency not in DIGEST_RUNS:
        raise ValueError(f"Unknown digest frequency {frequency!r}.")
    now = now or timezone.now()
    frequencies = DIGEST_RUNS[frequency]
    wanted = Q(frequency__in=[f for f in frequencies if f != Frequency.INSTANT])
    if Frequency.INSTANT in frequencies:
        wanted |= Q(
            frequency=Frequency.INSTANT,
            deliveries__status=DeliveryStatus.DIGEST,
            deliveries__channel__type=ChannelType.EMAIL,
        )
    with unscoped("the digest run visits every organisation's subscriptions"):
        subscription_ids = sorted(
            set(
                Subscription.objects.with_scopes_disabled()
                .filter(wanted, active=True, organisation__is_active=True)
                .order_by()
                .values_list("id", flat=True)
            ),
            key=str,
        )
    sent = 0
    errors: list[BaseException] = []
    for subscription_id in subscription_ids:
        try:
            sent += _digest_one(subscription_id, now)
        except (smtplib.SMTPException, OSError) as exc:
            logger.exception("Digest of subscription %s failed", subscription_id)
            errors.append(exc)
    logger.info("Sent %d %s digest e-mails (%d subscriptions failed)", sent, frequency, len(errors))
    if errors:
        raise errors[0]
    return sent
