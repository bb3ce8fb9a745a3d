"""E-mail notifications: recipients, the instant e-mail, exactly-once, language, digests,
the burst throttle, unsubscribing, and a real SMTP server that fails once."""

from __future__ import annotations

import email
import smtplib
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.test import Client, TestCase
from django.urls import include, path
from django.utils import timezone

from accounts.mail import emails_sweep
from accounts.models import Membership, Organisation, OutboundEmail, User
from accounts.tenancy import Actor, tenant_scope, unscoped
from config.urls import urlpatterns as site_urlpatterns
from exchange.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    EmailReceipt,
    Event,
    Subscription,
)
from exchange.notifications.emails import (
    burst_exceeded,
    email_recipients,
    send_delivery_email,
    send_digests,
    should_hold_for_digest,
    unsubscribe_token,
    unsubscribe_url,
)
from tests.factories import UserFactory, member

# The unsubscribe page is included by the site's URLconf once the lead wires it in;
# these tests do not wait for that.
urlpatterns = [*site_urlpatterns, path("", include("exchange.urls"))]


# --- Helpers -----------------------------------------------------------------------------


def subscription_for(
    org: Organisation, *, name: str = "Seasonal farm work", frequency: str = "instant"
) -> Subscription:
    with unscoped("assertion"):
        return Subscription.objects.create(organisation=org, name=name, frequency=frequency)


def email_channel(subscription: Subscription, members: list[User] | None = None) -> Channel:
    with unscoped("assertion"):
        return Channel.objects.create(
            subscription=subscription,
            organisation=subscription.organisation,
            type="email",
            members=[u.pk for u in members or []],
        )


def event(type: str = "listing.published", *, at: datetime | None = None, **data: Any) -> Event:
    data.setdefault("title", "Seasonal agriculture workers")
    data.setdefault("url", "/listings/42/")
    created = Event.objects.create(type=type, data=data)
    if at is not None:
        Event.objects.filter(pk=created.pk).update(created_at=at)
        created.refresh_from_db()
    return created


def delivery(channel: Channel, evt: Event, *, status: str = "pending") -> Delivery:
    with unscoped("assertion"):
        return Delivery.objects.create(
            event=evt,
            subscription=channel.subscription,
            channel=channel,
            organisation=channel.organisation,
            status=status,
        )


def html_of(message: mail.EmailMultiAlternatives) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return str(content)


# --- Recipients --------------------------------------------------------------------------


def test_a_channel_without_members_writes_to_the_organisations_active_admins(
    italy: Organisation, alice: User, bob: User, charlie: User
) -> None:
    member(italy, "admin", email="gone@lavoro.gov.example", is_active=False)
    channel = email_channel(subscription_for(italy))

    assert email_recipients(channel) == [alice]


def test_a_channel_naming_members_writes_only_to_those_still_in_the_organisation(
    italy: Organisation, alice: User, bob: User, charlie: User
) -> None:
    former = member(italy, "official", email="former@lavoro.gov.example")
    with unscoped("test setup"):
        Membership.objects.filter(user=former, organisation=italy).delete()
    stranger = UserFactory(email="stranger@example.org")
    channel = email_channel(subscription_for(italy), members=[bob, former, charlie, stranger])

    assert email_recipients(channel) == [bob]


def test_recipients_are_found_inside_the_organisations_tenant_scope_too(italy: Organisation, alice: User) -> None:
    channel = email_channel(subscription_for(italy))
    with tenant_scope(Actor(user=None, organisation=italy, role=None)):
        assert email_recipients(channel) == [alice]


# --- The instant e-mail ------------------------------------------------------------------


def test_an_instant_email_is_multipart_and_describes_the_event(italy: Organisation, alice: User, settings: Any) -> None:
    settings.SITE_URL = "https://corridor.example"
    subscription = subscription_for(italy)
    sent = delivery(email_channel(subscription), event("listing.published", listing_id="42"))

    send_delivery_email(sent)

    [message] = mail.outbox
    assert message.to == [alice.email]
    assert message.subject == "New listing published: Seasonal agriculture workers"
    assert "Seasonal agriculture workers" in message.body
    assert "https://corridor.example/listings/42/" in message.body
    assert "Listing reference: 42" in message.body
    html = html_of(message)
    assert '<a href="https://corridor.example/listings/42/"' in html
    assert f"https://corridor.example/api/v1/subscriptions/{subscription.pk}/" in message.body
    assert f"https://corridor.example/api/v1/subscriptions/{subscription.pk}/" in html
    one_click = unsubscribe_url(subscription, alice)
    assert one_click in message.body
    assert message.extra_headers["List-Unsubscribe"] == f"<{one_click}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["Message-ID"] == f"<{sent.pk}.{alice.pk}@corridor.example>"


def test_titles_are_escaped_in_html_and_cannot_inject_headers(italy: Organisation, alice: User) -> None:
    channel = email_channel(subscription_for(italy))
    send_delivery_email(delivery(channel, event(title="<b>Nurses</b>\r\nBcc: everyone@example.org")))

    [message] = mail.outbox
    assert "\n" not in message.subject
    assert message.bcc == []
    assert "<b>Nurses</b>" not in html_of(message)
    assert "&lt;b&gt;Nurses&lt;/b&gt;" in html_of(message)
    assert "<b>Nurses</b>" in message.body  # plain text is not HTML-escaped


def test_a_moderation_decision_shows_the_decision_and_the_reason(italy: Organisation, alice: User) -> None:
    channel = email_channel(subscription_for(italy))
    evt = event("listing.moderated", decision="changes requested", reason="The wage is missing.")
    send_delivery_email(delivery(channel, evt))

    [message] = mail.outbox
    assert message.subject.startswith("Listing moderated: ")
    assert "Decision: changes requested" in message.body
    assert "Reason: The wage is missing." in message.body
    assert "The wage is missing." in html_of(message)


def test_an_unknown_event_with_no_data_still_renders(italy: Organisation, alice: User) -> None:
    channel = email_channel(subscription_for(italy))
    evt = Event.objects.create(type="listing.renamed", data={})

    send_delivery_email(delivery(channel, evt))

    [message] = mail.outbox
    assert message.subject == "Notification"
    assert "listing.renamed" in message.body
    assert 'href=""' not in html_of(message)


def test_each_member_gets_one_email_however_often_the_delivery_is_sent(
    italy: Organisation, alice: User, bob: User
) -> None:
    sent = delivery(email_channel(subscription_for(italy), members=[alice, bob]), event())

    send_delivery_email(sent)
    send_delivery_email(sent)

    assert sorted(m.to[0] for m in mail.outbox) == [alice.email, bob.email]
    with unscoped("assertion"):
        assert EmailReceipt.objects.filter(delivery=sent).count() == 2


def test_a_member_joining_later_gets_the_retry_but_nobody_else_does(
    italy: Organisation, alice: User, bob: User
) -> None:
    channel = email_channel(subscription_for(italy), members=[alice, bob])
    sent = delivery(channel, event())
    with unscoped("assertion"):
        EmailReceipt.objects.create(delivery=sent, user=alice)  # alice was mailed by an earlier attempt

    send_delivery_email(sent)

    assert [m.to for m in mail.outbox] == [[bob.email]]


def test_each_member_reads_the_email_in_their_own_language(italy: Organisation, alice: User) -> None:
    francoise = member(italy, "official", email="francoise@lavoro.gov.example", language="fr")
    alice.language = ""
    alice.save(update_fields=["language"])
    channel = email_channel(subscription_for(italy), members=[alice, francoise])

    send_delivery_email(delivery(channel, event()))

    by_address = {m.to[0]: m for m in mail.outbox}
    assert '<html lang="fr">' in html_of(by_address[francoise.email])
    assert by_address[francoise.email].extra_headers["Content-Language"] == "fr"
    assert '<html lang="en">' in html_of(by_address[alice.email])
    assert by_address[alice.email].extra_headers["Content-Language"] == "en"


def test_a_delivery_for_a_webhook_channel_is_refused(italy: Organisation, alice: User) -> None:
    subscription = subscription_for(italy)
    with unscoped("assertion"):
        channel = Channel.objects.create(
            subscription=subscription, organisation=italy, type="webhook", url="https://example.org/hook"
        )
    with pytest.raises(ValueError, match="webhook"):
        send_delivery_email(delivery(channel, event()))
    assert mail.outbox == []


# --- Burst throttle ----------------------------------------------------------------------


def test_the_burst_throttle_holds_emails_once_a_member_had_the_limit_in_the_window(
    italy: Organisation, alice: User, bob: User, settings: Any
) -> None:
    settings.NOTIFICATION_BURST_LIMIT = 3
    channel = email_channel(subscription_for(italy), members=[alice, bob])
    for _ in range(2):
        send_delivery_email(delivery(channel, event()))
    assert not burst_exceeded(channel)
    assert not should_hold_for_digest(channel, alice)

    send_delivery_email(delivery(channel, event()))

    assert burst_exceeded(channel)
    assert should_hold_for_digest(channel, alice)
    later = timezone.now() + timedelta(seconds=settings.NOTIFICATION_BURST_WINDOW_SECONDS + 1)
    assert not burst_exceeded(channel, now=later)


def test_one_busy_member_holds_the_channel_but_digest_emails_do_not_count(
    italy: Organisation, alice: User, bob: User, settings: Any
) -> None:
    settings.NOTIFICATION_BURST_LIMIT = 2
    instant = email_channel(subscription_for(italy, name="Instant"), members=[bob])
    daily = email_channel(subscription_for(italy, name="Daily", frequency="daily"), members=[alice])
    for _ in range(3):
        with unscoped("assertion"):
            EmailReceipt.objects.create(delivery=delivery(daily, event(), status="sent"), user=alice)
    assert not burst_exceeded(email_channel(subscription_for(italy), members=[alice, bob]))

    for _ in range(2):
        with unscoped("assertion"):
            EmailReceipt.objects.create(delivery=delivery(instant, event(), status="sent"), user=bob)

    assert burst_exceeded(email_channel(subscription_for(italy), members=[alice, bob]))
    assert not should_hold_for_digest(instant, alice)


# --- Digests -----------------------------------------------------------------------------


def test_a_daily_digest_lists_exactly_the_events_of_the_period_once_per_member(
    italy: Organisation, alice: User, bob: User
) -> None:
    now = timezone.now()
    subscription = subscription_for(italy, frequency="daily")
    subscription.last_digest_at = now - timedelta(days=1)
    subscription.save(update_fields=["last_digest_at"])
    channel = email_channel(subscription, members=[alice, bob])
    first = delivery(channel, event(title="Nurses for Lazio", at=now - timedelta(hours=20)), status="digest")
    second = delivery(channel, event(title="Welders for Genoa", at=now - timedelta(hours=2)), status="digest")
    digested = delivery(channel, event(title="Already digested", at=now - timedelta(hours=30)), status="sent")
    stale = delivery(channel, event(title="Long forgotten", at=now - timedelta(days=3)), status="digest")
    future = delivery(channel, event(title="Not yet", at=now + timedelta(minutes=5)), status="digest")
    other = email_channel(subscription_for(italy, name="Other", frequency="weekly"), members=[alice])
    delivery(other, event(title="Another subscription", at=now - timedelta(hours=1)), status="digest")

    assert run_digests(frequency="daily", now=now) == 2

    assert sorted(m.to[0] for m in mail.outbox) == [alice.email, bob.email]
    for message in mail.outbox:
        assert message.subject == "Daily digest: 2 updates for “Seasonal farm work”"
        for text in (message.body, html_of(message)):
            assert "Nurses for Lazio" in text
            assert "Welders for Genoa" in text
            assert text.index("Nurses for Lazio") < text.index("Welders for Genoa")
            for absent in ("Already digested", "Long forgotten", "Not yet", "Another subscription"):
                assert absent not in text
        assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    for d in (first, second):
        d.refresh_from_db()
        assert d.status == DeliveryStatus.SENT
        assert d.sent_at is not None
    for d, status in ((digested, "sent"), (stale, "digest"), (future, "digest")):
        d.refresh_from_db()
        assert d.status == status
    subscription.refresh_from_db()
    assert subscription.last_digest_at == now


def test_running_the_digest_twice_sends_nothing_the_second_time(italy: Organisation, alice: User) -> None:
    channel = email_channel(subscription_for(italy, frequency="daily"))
    delivery(channel, event(), status="digest")
    now = timezone.now()

    assert run_digests(frequency="daily", now=now) == 1
    assert run_digests(frequency="daily", now=now) == 0
    assert run_digests(frequency="daily", now=now + timedelta(days=1)) == 0
    assert len(mail.outbox) == 1


def test_a_digest_run_picks_up_members_still_owed_after_a_failure(italy: Organisation, alice: User, bob: User) -> None:
    channel = email_channel(subscription_for(italy, frequency="weekly"), members=[alice, bob])
    held = delivery(channel, event(), status="digest")
    with unscoped("assertion"):
        EmailReceipt.objects.create(delivery=held, user=alice)  # a failed run had mailed alice already

    assert run_digests(frequency="weekly") == 1

    assert [m.to for m in mail.outbox] == [[bob.email]]
    held.refresh_from_db()
    assert held.status == DeliveryStatus.SENT


def test_an_event_on_two_channels_of_one_subscription_is_listed_once(italy: Organisation, alice: User) -> None:
    subscription = subscription_for(italy, frequency="daily")
    evt = event(title="Drivers for Milan")
    delivery(email_channel(subscription), evt, status="digest")
    delivery(email_channel(subscription, members=[alice]), evt, status="digest")

    assert run_digests(frequency="daily") == 1

    [message] = mail.outbox
    assert message.subject == "Daily digest: 1 update for “Seasonal farm work”"
    assert message.body.count("Drivers for Milan") == 1


def test_the_daily_run_flushes_instant_emails_held_by_the_burst_throttle(
    italy: Organisation, alice: User, bob: User
) -> None:
    channel = email_channel(subscription_for(italy))
    delivery(channel, event(title="Held one"), status="digest")
    delivery(channel, event(title="Held two"), status="digest")
    email_channel(subscription_for(italy, name="Weekly", frequency="weekly"))

    assert run_digests(frequency="weekly") == 0
    assert run_digests(frequency="daily") == 1

    [message] = mail.outbox
    assert message.subject == "2 held-back updates for “Seasonal farm work”"
    assert "Held one" in message.body and "Held two" in message.body
    assert "collected them in this one message" in message.body


def test_nothing_held_means_no_digest_and_inactive_subscriptions_are_skipped(italy: Organisation, alice: User) -> None:
    email_channel(subscription_for(italy, frequency="daily"))
    paused = subscription_for(italy, name="Paused", frequency="daily")
    paused.active = False
    paused.save(update_fields=["active"])
    delivery(email_channel(paused), event(), status="digest")

    assert run_digests(frequency="daily") == 0
    assert mail.outbox == []


def test_a_digest_is_rendered_in_the_members_language(italy: Organisation, alice: User) -> None:
    francoise = member(italy, "official", email="francoise@lavoro.gov.example", language="fr")
    delivery(email_channel(subscription_for(italy, frequency="daily"), members=[francoise]), event(), status="digest")

    run_digests(frequency="daily")

    [message] = mail.outbox
    assert '<html lang="fr">' in html_of(message)


def test_an_unknown_digest_frequency_is_refused() -> None:
    with pytest.raises(ValueError, match="hourly"):
        run_digests(frequency="hourly")


# --- Unsubscribing -----------------------------------------------------------------------


@pytest.mark.urls("tests.exchange.test_emails")
def test_the_one_click_link_in_the_header_switches_the_subscription_off(
    italy: Organisation, alice: User, settings: Any
) -> None:
    settings.SITE_URL = "https://corridor.example"
    subscription = subscription_for(italy)
    send_delivery_email(delivery(email_channel(subscription), event()))
    [message] = mail.outbox
    link = message.extra_headers["List-Unsubscribe"].strip("<>").removeprefix("https://corridor.example")
    client = Client()

    page = client.get(link)
    assert page.status_code == 200
    assert b'method="post"' in page.content
    subscription.refresh_from_db()
    assert subscription.active  # a GET (a link scanner) changes nothing

    done = client.post(link, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    subscription.refresh_from_db()
    assert not subscription.active
    assert client.post(link).status_code == 200  # idempotent


@pytest.mark.urls("tests.exchange.test_emails")
def test_a_tampered_link_or_one_from_a_former_member_does_nothing(italy: Organisation, alice: User, bob: User) -> None:
    subscription = subscription_for(italy)
    token = unsubscribe_token(subscription, bob)
    with unscoped("test setup"):
        Membership.objects.filter(user=bob, organisation=italy).delete()
    client = Client()

    assert client.post(f"/notifications/unsubscribe/{token}/").status_code == 404
    tampered = unsubscribe_token(subscription, alice)[:-2] + "xx"
    assert client.post(f"/notifications/unsubscribe/{tampered}/").status_code == 404
    subscription.refresh_from_db()
    assert subscription.active


# --- A real SMTP server ------------------------------------------------------------------


class Recorder:
    """An aiosmtpd handler that keeps what it accepts and can refuse chosen messages."""

    def __init__(self, refuse: set[int] | None = None) -> None:
        self.refuse = refuse or set()
        self.attempts = 0
        self.received: list[Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.attempts += 1
            if self.attempts in self.refuse:
                return "451 4.3.0 Try later"
            self.received.append(email.message_from_bytes(envelope.original_content))
        return "250 OK"


def run_digests(**kwargs: Any) -> int:
    """A digest run as beat starts it: it commits, and the e-mail outbox then sends what it owes."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return send_digests(**kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp(settings: Any) -> Iterator[Recorder]:
    """A local SMTP server; refuse ``recorder.refuse`` (1-based message numbers)."""
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    try:
        yield recorder
    finally:
        controller.stop()


def test_a_real_smtp_server_receives_one_multipart_email(italy: Organisation, alice: User, smtp: Recorder) -> None:
    sent = delivery(email_channel(subscription_for(italy)), event())

    send_delivery_email(sent)
    send_delivery_email(sent)

    [received] = smtp.received
    assert received["To"] == alice.email
    assert received["Subject"] == "New listing published: Seasonal agriculture workers"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received.is_multipart()
    assert [part.get_content_type() for part in received.get_payload()] == ["text/plain", "text/html"]


def test_an_smtp_failure_raises_and_the_retry_mails_each_member_exactly_once(
    italy: Organisation, alice: User, bob: User, smtp: Recorder
) -> None:
    smtp.refuse = {2}  # the server accepts the first member's message, then says "try later"
    sent = delivery(email_channel(subscription_for(italy), members=[alice, bob]), event())

    with pytest.raises(smtplib.SMTPException):
        send_delivery_email(sent)
    assert [m["To"] for m in smtp.received] == [alice.email]
    with unscoped("assertion"):
        assert list(EmailReceipt.objects.filter(delivery=sent).values_list("user", flat=True)) == [alice.pk]

    send_delivery_email(sent)  # the engine's retry
    send_delivery_email(sent)  # and a redundant one

    assert sorted(m["To"] for m in smtp.received) == [alice.email, bob.email]
    assert smtp.attempts == 3


def test_an_unreachable_smtp_server_raises_so_the_engine_retries(
    italy: Organisation, alice: User, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nobody listens
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    sent = delivery(email_channel(subscription_for(italy)), event())

    with pytest.raises(OSError):
        send_delivery_email(sent)
    with unscoped("assertion"):
        assert not EmailReceipt.objects.filter(delivery=sent).exists()


def test_a_digest_that_smtp_refuses_once_is_retried_from_the_outbox_and_arrives_once_per_member(
    italy: Organisation, alice: User, bob: User, smtp: Recorder, settings: Any
) -> None:
    settings.NOTIFICATION_RETRY_SCHEDULE = [0, 0, 0]
    smtp.refuse = {2}  # the server accepts the first member's digest, then says "try later"
    subscription = subscription_for(italy, frequency="daily")
    held = delivery(email_channel(subscription, members=[alice, bob]), event(), status="digest")

    assert run_digests(frequency="daily") == 2  # both owed; the run itself does not wait on SMTP
    held.refresh_from_db()
    assert held.status == DeliveryStatus.SENT
    assert [m["To"] for m in smtp.received] == [alice.email]

    with TestCase.captureOnCommitCallbacks(execute=True):
        emails_sweep()  # beat's sweeper publishes the failed e-mail again
    assert sorted(m["To"] for m in smtp.received) == [alice.email, bob.email]
    assert run_digests(frequency="daily") == 0
    with TestCase.captureOnCommitCallbacks(execute=True):
        emails_sweep()
    assert smtp.attempts == 3
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"sent"}
