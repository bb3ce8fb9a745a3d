"""Faults at the SMTP server (plan row R21).

A real Celery worker consumes a private Redis and sends through Django's SMTP
backend to a local aiosmtpd server that refuses messages on purpose and counts
what it accepted per recipient.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from accounts.models import OutboundEmail
from accounts.tenancy import unscoped
from exchange.models import Delivery, Notification
from tests.reliability.harness import beat_tick, free_port, wait_until
from tests.reliability.world import all_done, nothing_lost, publish, scheme, statuses, subscribe

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def smtp_settings(settings: Any) -> Any:
    def point_at(port: int) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_TIMEOUT = 5

    return point_at


def test_an_smtp_server_refusing_one_recipient_twice_still_mails_each_recipient_once(
    smtp, smtp_settings, broker, worker_thread, italy_official, moldova, mihai, ana, moderator
):
    """R21. Fault: the SMTP server answers ``451 try again later`` to the messages for Mihai, twice,
    while it accepts Ana's. The e-mail delivery is retried until Mihai's is accepted; Ana, already
    served on the first attempt, is not mailed again; the in-app item of the same publication is
    delivered at once, unaffected."""
    server = smtp(fail_for={mihai.email: 2})
    server.start()
    smtp_settings(server.port)
    subscribe(moldova, inbox=True, email_to=[ana, mihai])
    worker_thread(broker.url)
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Emilia"))

    def done() -> bool:
        beat_tick()
        return all_done(2)

    wait_until(done, timeout=60, message=f"the e-mail delivery never finished: {statuses()}")
    with unscoped("assertion"):
        email = Delivery.objects.get(channel__type="email")
        inbox = Delivery.objects.get(channel__type="inbox")
        assert Notification.objects.filter(organisation=moldova).count() == 1
    assert email.status == "sent" and email.attempts == 3
    assert inbox.status == "sent" and inbox.attempts == 1
    assert server.refused == 2
    assert server.per_recipient() == {ana.email: 1, mihai.email: 1}
    nothing_lost()


def test_an_smtp_server_that_is_down_delays_a_delivery_email_but_sends_it_once_when_it_returns(
    smtp, smtp_settings, broker, worker_thread, italy_official, moldova, mihai, moderator
):
    """R21 (closed port). Fault: nothing listens on the SMTP port for the first two attempts
    (connection refused). The delivery records the error and waits; once the server listens on the
    same port, the next attempt sends exactly one message, and the inbox item was never held back."""
    port = free_port()
    smtp_settings(port)
    subscribe(moldova, inbox=True, email_to=[mihai])
    worker_thread(broker.url)
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Veneto"))

    def refused_twice() -> bool:
        beat_tick()
        with unscoped("assertion"):
            return Delivery.objects.filter(channel__type="email", attempts=2, status="failed").exists()

    wait_until(refused_twice, timeout=30, message=f"the e-mail was not retried: {statuses()}")
    with unscoped("assertion"):
        assert "Connection" in Delivery.objects.get(channel__type="email").last_error
        assert Delivery.objects.get(channel__type="inbox").status == "sent"
    server = smtp(port=port)
    server.start()

    def done() -> bool:
        beat_tick()
        return all_done(2)

    wait_until(done, timeout=60, message=f"the e-mail never went out: {statuses()}")
    with unscoped("assertion"):
        assert Delivery.objects.get(channel__type="email").attempts == 3
    assert server.per_recipient() == {mihai.email: 1}
    nothing_lost()


def test_an_invitation_made_while_smtp_is_down_is_answered_at_once_and_mailed_once_later(
    smtp, smtp_settings, broker, worker_thread, alice_api, italy
):
    """R21 (the e-mail outbox). Fault: SMTP is down (a closed port) when an admin invites a colleague.
    The API answers 201 at once, since the invitation and the e-mail it owes are committed together
    (``accounts.OutboundEmail``); the worker's first try fails; when the server returns, the sweeper
    sends it, and the invitee receives exactly one message."""
    port = free_port()
    smtp_settings(port)
    worker_thread(broker.url)
    started = time.monotonic()
    response = alice_api.post(
        f"/api/v1/organisations/{italy.id}/invitations/", {"email": "rosa@lavoro.gov.example", "role": "official"}
    )
    assert response.status_code == 201, response.content
    assert time.monotonic() - started < 10
    with unscoped("assertion"):
        owed = OutboundEmail.objects.get(to="rosa@lavoro.gov.example")
    assert owed.key.startswith("invitation:")

    def tried_and_failed() -> bool:
        owed.refresh_from_db()
        return owed.attempts >= 1 and owed.status == "failed"

    wait_until(tried_and_failed, timeout=30, message="the worker never tried the invitation e-mail")
    server = smtp(port=port)
    server.start()

    def sent() -> bool:
        beat_tick()
        owed.refresh_from_db()
        return owed.status == "sent"

    wait_until(sent, timeout=60, message="the invitation e-mail was never sent once SMTP returned")
    assert server.per_recipient() == {"rosa@lavoro.gov.example": 1}
    assert b"/accounts/invitations/" in server.messages_to("rosa@lavoro.gov.example")[0]
    with unscoped("assertion"):
        assert OutboundEmail.objects.filter(to="rosa@lavoro.gov.example").count() == 1
