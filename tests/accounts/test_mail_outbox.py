"""The e-mail outbox (accounts/mail.py): every e-mail is owed in the change's transaction and sent
by a worker, exactly once per key, retried from the database; SMTP being down never fails a request.

Tasks run eagerly here (no broker), so publishing after commit sends at once; the
SMTP server is a real local one (aiosmtpd) or a closed port.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.db import transaction
from django.test import Client, TestCase

from accounts.mail import email_enqueue, email_send, emails_sweep
from accounts.models import Invitation, Organisation, OutboundEmail, User
from accounts.services import invitation_create
from accounts.tenancy import Actor, unscoped

pytestmark = pytest.mark.django_db


class Counter:
    """An SMTP server's handler that counts what it accepts and can refuse every recipient."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.refuse_recipients = False
        self.lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.refuse_recipients:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(envelope.original_content)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_port(settings: Any) -> int:
    """The SMTP backend pointed at a port where nobody listens yet (SMTP is down)."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.NOTIFICATION_RETRY_SCHEDULE = [0, 0, 0, 0]
    settings.NOTIFICATION_SWEEP_AFTER_SECONDS = 0
    return port


@pytest.fixture
def smtp_server(smtp_port: int) -> Iterator[tuple[Counter, Controller]]:
    """A local SMTP server on ``smtp_port``, not started: the test starts it when SMTP "comes back"."""
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=smtp_port)
    try:
        yield counter, controller
    finally:
        if getattr(controller, "_thread", None) is not None:
            controller.stop()


def sweep() -> int:
    """What beat's sweeper does every 15 s, committed."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return emails_sweep()


def test_the_invitation_api_answers_201_while_smtp_is_down_and_the_email_arrives_once_when_it_returns(
    alice_api: Any, italy: Organisation, alice: User, smtp_server: tuple[Counter, Controller]
) -> None:
    counter, controller = smtp_server
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = alice_api.post(
            f"/api/v1/organisations/{italy.id}/invitations/", {"email": "rosa@lavoro.gov.example", "role": "official"}
        )

    assert response.status_code == 201, response.content
    with unscoped("assertion"):
        invitation = Invitation.objects.get()
    owed = OutboundEmail.objects.get(key=f"invitation:{invitation.pk}")
    assert owed.status == "failed"
    assert "Connection refused" in owed.last_error or "Errno" in owed.last_error

    controller.start()  # SMTP comes back
    sweep()
    sweep()

    assert len(counter.messages) == 1
    assert b"rosa@lavoro.gov.example" in counter.messages[0]
    assert b"/accounts/invitations/" in counter.messages[0]
    owed.refresh_from_db()
    assert owed.status == "sent"


def test_a_password_reset_while_smtp_is_down_is_mailed_once_when_it_returns(
    client: Client, alice: User, smtp_server: tuple[Counter, Controller]
) -> None:
    counter, controller = smtp_server
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post("/accounts/password-reset/", {"email": alice.email})

    assert response.status_code == 302
    owed = OutboundEmail.objects.get(to=alice.email)
    assert owed.key.startswith(f"password-reset:{alice.pk}:")
    assert owed.status == "failed"

    controller.start()
    sweep()
    sweep()

    [message] = counter.messages
    assert re.search(rb"/accounts/password-reset/\S+/\S+/", message)


def test_the_same_key_never_emails_twice() -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        first = email_enqueue(key="unlock:42", to="alice@lavoro.gov.example", subject="Unlock", body="One link.")
        second = email_enqueue(key="unlock:42", to="alice@lavoro.gov.example", subject="Unlock", body="One link.")
    with TestCase.captureOnCommitCallbacks(execute=True):
        emails_sweep()
    assert email_send(str(first.pk)) == "skipped"

    assert first.pk == second.pk
    assert [m.subject for m in mail.outbox] == ["Unlock"]
    assert OutboundEmail.objects.count() == 1


def test_a_rolled_back_invitation_owes_no_email(italy: Organisation, alice: User) -> None:
    actor = Actor(user=alice, organisation=italy, role="admin")
    with pytest.raises(RuntimeError), TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
        invitation_create(actor=actor, email="rosa@lavoro.gov.example", role="official")
        raise RuntimeError("the request failed after inviting")

    assert not OutboundEmail.objects.exists()
    assert mail.outbox == []


def test_a_refused_recipient_is_dead_at_once_with_the_servers_reason(
    smtp_server: tuple[Counter, Controller],
) -> None:
    counter, controller = smtp_server
    counter.refuse_recipients = True
    controller.start()
    with TestCase.captureOnCommitCallbacks(execute=True):
        owed = email_enqueue(key="alert:1", to="nobody@lavoro.gov.example", subject="Alert", body="Text.")
    sweep()

    owed.refresh_from_db()
    assert owed.status == "dead"
    assert owed.attempts == 1
    assert "No such mailbox" in owed.last_error
    assert counter.messages == []


def test_an_email_smtp_keeps_refusing_is_dead_after_the_last_attempt(smtp_port: int) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        owed = email_enqueue(key="alert:2", to="alice@lavoro.gov.example", subject="Alert", body="Text.")
    for _ in range(6):
        sweep()

    owed.refresh_from_db()
    assert owed.status == "dead"
    assert owed.attempts == 4  # NOTIFICATION_RETRY_SCHEDULE has four entries
    assert sweep() == 0
