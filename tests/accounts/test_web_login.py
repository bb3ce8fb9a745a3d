"""Signing in through the web pages: e-mail and password, then a TOTP code if enrolled."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"
VERIFY = "/accounts/login/verify/"
GENERIC = "Enter a correct e-mail address and password."

pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def test_the_sign_in_page_has_labelled_fields(client: Client) -> None:
    response = client.get(LOGIN)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_email"' in html
    assert '<label for="id_password"' in html
    assert '<html lang="en"' in html


def test_signing_in_with_email_and_password_works(client: Client, alice: User) -> None:
    response = client.post(LOGIN, {"email": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_user_id(client) == str(alice.pk)


def test_the_email_address_is_matched_whatever_its_case(client: Client, alice: User) -> None:
    client.post(LOGIN, {"email": alice.email.upper(), "password": PASSWORD})
    assert signed_in_user_id(client) == str(alice.pk)


def test_it_follows_a_local_next_but_not_an_external_one(client: Client, alice: User, bob: User) -> None:
    response = client.post(LOGIN, {"email": alice.email, "password": PASSWORD, "next": "/accounts/profile/"})
    assert response["Location"] == "/accounts/profile/"
    other = Client()
    response = other.post(LOGIN, {"email": bob.email, "password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_a_wrong_password_gives_the_generic_message(client: Client, alice: User) -> None:
    response = client.post(LOGIN, {"email": alice.email, "password": "not the password"})
    assert response.status_code == 200
    assert GENERIC in response.content.decode()
    assert signed_in_user_id(client) is None


def test_an_unknown_address_gives_the_same_generic_message(client: Client, db: None) -> None:
    response = client.post(LOGIN, {"email": "nobody@nowhere.example", "password": "whatever it is"})
    assert response.status_code == 200
    assert GENERIC in response.content.decode()


def test_an_inactive_account_cannot_sign_in(client: Client, alice: User) -> None:
    User.objects.filter(pk=alice.pk).update(is_active=False)
    response = client.post(LOGIN, {"email": alice.email, "password": PASSWORD})
    assert GENERIC in response.content.decode()
    assert signed_in_user_id(client) is None


def test_an_enrolled_user_must_also_enter_a_code(client: Client, alice: User) -> None:
    device = TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)

    response = client.post(LOGIN, {"email": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == VERIFY
    assert signed_in_user_id(client) is None  # not signed in until the code is right
    assert client.get("/accounts/profile/").status_code == 302

    response = client.post(VERIFY, {"code": code_for(device)})
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(alice.pk)
    response = client.get("/accounts/profile/")
    assert response.status_code == 200
    assert response.wsgi_request.user.is_verified()


def test_a_wrong_code_is_refused(client: Client, alice: User) -> None:
    device = TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    client.post(LOGIN, {"email": alice.email, "password": PASSWORD})
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"

    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 200
    assert "That code is not valid" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_failed_codes_are_throttled_by_the_device(client: Client, alice: User) -> None:
    device = TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    client.post(LOGIN, {"email": alice.email, "password": PASSWORD})
    client.post(VERIFY, {"code": "000000" if code_for(device) != "000000" else "111111"})

    # Straight after a failure even the right code is refused until the back-off passes.
    response = client.post(VERIFY, {"code": code_for(device)})
    assert signed_in_user_id(client) is None
    assert "Wait a few seconds" in response.content.decode()


def test_the_code_page_without_a_pending_password_sends_back_to_sign_in(client: Client, db: None) -> None:
    response = client.get(VERIFY)
    assert response.status_code == 302
    assert response["Location"] == LOGIN


def test_signing_out_needs_a_post(client: Client, alice: User) -> None:
    client.force_login(alice)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert signed_in_user_id(client) is None


def test_the_header_shows_the_organisation_and_a_sign_out_button(client: Client, alice: User) -> None:
    client.force_login(alice)
    html = client.get("/accounts/profile/").content.decode()
    assert "Ministry of Labour and Social Policies" in html
    assert 'action="/accounts/logout/"' in html
    assert "Sign in</a>" not in html
