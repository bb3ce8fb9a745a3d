"""django-axes locks sign-in after five failures per e-mail and address, and the
lockout page never reveals whether the account exists."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import User
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"

pytestmark = pytest.mark.django_db


def without_csrf(html: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html.decode())


def fail_five_times(client: Client, email: str) -> None:
    for _ in range(5):
        client.post(LOGIN, {"email": email, "password": "wrong password"})


def test_it_locks_out_after_five_failures_even_with_the_right_password(client: Client, alice: User) -> None:
    for _ in range(4):
        assert client.post(LOGIN, {"email": alice.email, "password": "wrong password"}).status_code == 200
    client.post(LOGIN, {"email": alice.email, "password": "wrong password"})

    response = client.post(LOGIN, {"email": alice.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert client.session.get("_auth_user_id") is None


def test_case_variants_of_the_address_count_as_one(client: Client, alice: User) -> None:
    for variant in ("ALICE@lavoro.gov.example", "Alice@Lavoro.gov.example", alice.email, " alice@lavoro.gov.example"):
        client.post(LOGIN, {"email": variant, "password": "wrong password"})
    client.post(LOGIN, {"email": alice.email.upper(), "password": "wrong password"})

    assert client.post(LOGIN, {"email": alice.email, "password": PASSWORD}).status_code == 429


def test_the_lockout_page_is_the_same_for_a_nonexistent_address(alice: User) -> None:
    known, unknown = Client(), Client()
    fail_five_times(known, alice.email)
    fail_five_times(unknown, "nobody@lavoro.gov.example")

    locked_known = known.post(LOGIN, {"email": alice.email, "password": PASSWORD})
    locked_unknown = unknown.post(LOGIN, {"email": "nobody@lavoro.gov.example", "password": PASSWORD})

    assert locked_known.status_code == locked_unknown.status_code == 429
    assert without_csrf(locked_known.content) == without_csrf(locked_unknown.content)


def test_a_lockout_for_one_address_leaves_others_alone(client: Client, alice: User, bob: User) -> None:
    fail_five_times(client, alice.email)
    response = client.post(LOGIN, {"email": bob.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(bob.pk)


def test_wrong_codes_count_towards_the_lockout(client: Client, alice: User) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    client.post(LOGIN, {"email": alice.email, "password": PASSWORD})
    # A malformed code is a form error, not an attempt.
    assert client.post("/accounts/login/verify/", {"code": "12345x"}).status_code == 200
    for _ in range(5):
        client.post("/accounts/login/verify/", {"code": "000001"})

    response = client.post(LOGIN, {"email": alice.email, "password": PASSWORD})
    assert response.status_code == 429
