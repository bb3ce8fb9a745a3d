"""Password reset with Django's views and our templates."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client, TestCase

from accounts.models import User

RESET = "/accounts/password-reset/"

pytestmark = pytest.mark.django_db


def without_csrf(html: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html.decode())


def test_a_known_address_gets_a_working_link(client: Client, alice: User) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):  # the e-mail outbox publishes after commit
        response = client.post(RESET, {"email": alice.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [alice.email]
    assert "\n" not in message.subject
    link = re.search(r"https?://\S+/accounts/password-reset/\S+/\S+/", message.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]

    response = client.get(f"/{path}", follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    new_password = "an entirely new passphrase"
    response = client.post(form_url, {"new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new_password)


def test_an_unknown_address_looks_identical_and_sends_nothing(client: Client, alice: User) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        known = client.post(RESET, {"email": alice.email})
        unknown = Client().post(RESET, {"email": "nobody@lavoro.gov.example"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mail.outbox) == 1

    assert without_csrf(client.get(known["Location"]).content) == without_csrf(
        Client().get(unknown["Location"]).content
    )
