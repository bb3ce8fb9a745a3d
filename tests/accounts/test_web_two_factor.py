"""Two-factor enrolment, and organisations that require it in the web UI."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Organisation, User
from tests.factories import PASSWORD

SETUP = "/accounts/2fa/setup/"
DISABLE = "/accounts/2fa/disable/"

pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code_for(device: TOTPDevice) -> str:
    return f"{(int(code_for(device)) + 500_000) % 1_000_000:06d}"


def enrol(client: Client, user: User) -> TOTPDevice:
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(SETUP, {"code": code_for(device)})
    assert response.status_code == 302
    return TOTPDevice.objects.get(pk=device.pk)


def test_the_setup_page_shows_a_local_qr_code_and_the_secret(client: Client, alice: User) -> None:
    client.force_login(alice)
    response = client.get(SETUP)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html
    assert "http" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org", "")
    device = TOTPDevice.objects.get(user=alice)
    assert not device.confirmed
    from accounts.two_factor import secret_base32

    assert secret_base32(device) in html


def test_reloading_the_setup_page_keeps_the_same_secret(client: Client, alice: User) -> None:
    client.force_login(alice)
    client.get(SETUP)
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=alice).count() == 1


def test_a_valid_code_confirms_the_device_and_verifies_the_session(client: Client, bob: User) -> None:
    client.force_login(bob)
    device = enrol(client, bob)
    assert device.confirmed
    response = client.get("/accounts/profile/")
    assert response.wsgi_request.user.is_verified()


def test_a_wrong_code_does_not_confirm_the_device(client: Client, alice: User) -> None:
    client.force_login(alice)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=alice)
    response = client.post(SETUP, {"code": wrong_code_for(device)})
    assert response.status_code == 200
    assert "That code is not valid" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed


def test_the_setup_page_needs_a_signed_in_user(client: Client, db: None) -> None:
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_organisation_requiring_two_factor_sends_unenrolled_members_to_setup(
    client: Client, italy: Organisation, bob: User
) -> None:
    italy.require_two_factor = True
    italy.save()
    client.post("/accounts/login/", {"email": bob.email, "password": PASSWORD})

    for path in ("/", "/accounts/profile/", "/accounts/2fa/disable/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == SETUP
    assert client.get(SETUP).status_code == 200
    # The API answers for itself with a 403 JSON error rather than a redirect.
    api = client.get("/api/v1/me/")
    assert api.status_code == 403
    assert api["Content-Type"].startswith("application/json")

    enrol(client, bob)
    assert client.get("/accounts/profile/").status_code == 200


def test_an_enrolled_member_is_let_through_after_the_code_step(client: Client, italy: Organisation, bob: User) -> None:
    italy.require_two_factor = True
    italy.save()
    device = TOTPDevice.objects.create(user=bob, name="phone", confirmed=True)
    client.post("/accounts/login/", {"email": bob.email, "password": PASSWORD})
    client.post("/accounts/login/verify/", {"code": code_for(device)})
    assert client.get("/accounts/profile/").status_code == 200


def test_members_of_other_organisations_are_not_redirected(client: Client, italy: Organisation, charlie: User) -> None:
    italy.require_two_factor = True
    italy.save()
    client.force_login(charlie)
    assert client.get("/accounts/profile/").status_code == 200


def test_an_inactive_organisation_does_not_impose_its_rule(client: Client, italy: Organisation, bob: User) -> None:
    italy.require_two_factor = True
    italy.is_active = False
    italy.save()
    client.force_login(bob)
    assert client.get("/accounts/profile/").status_code == 200


def test_signing_out_stays_possible_before_enrolment(client: Client, italy: Organisation, bob: User) -> None:
    italy.require_two_factor = True
    italy.save()
    client.force_login(bob)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") is None


def test_two_factor_can_be_turned_off_with_a_current_code(client: Client, bob: User) -> None:
    client.force_login(bob)
    device = enrol(client, bob)
    response = client.post(DISABLE, {"code": code_for(device, steps_ahead=1)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=bob).exists()


def test_two_factor_cannot_be_turned_off_with_a_wrong_code(client: Client, bob: User) -> None:
    client.force_login(bob)
    device = enrol(client, bob)
    response = client.post(DISABLE, {"code": wrong_code_for(device)})
    assert response.status_code == 200
    assert TOTPDevice.objects.filter(user=bob, confirmed=True).exists()


def test_two_factor_cannot_be_turned_off_when_an_organisation_requires_it(
    client: Client, italy: Organisation, bob: User
) -> None:
    client.force_login(bob)
    device = enrol(client, bob)
    italy.require_two_factor = True
    italy.save()
    response = client.post(DISABLE, {"code": code_for(device, steps_ahead=1)})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=bob, confirmed=True).exists()
