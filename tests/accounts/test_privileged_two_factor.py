"""A second factor for privileged people: agency moderators, organisation administrators
and staff, in the site and in /admin/, with single-use recovery codes."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Organisation, User
from tests.conftest import signed_in, token_client
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SETUP = "/accounts/2fa/setup/"
CODES = "/accounts/2fa/recovery-codes/"


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def sign_in_with_password(user: User) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def enrol(client: Client, user: User) -> tuple[TOTPDevice, list[str]]:
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(SETUP, {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == CODES
    page = client.get(CODES)
    return TOTPDevice.objects.get(pk=device.pk), list(page.context["codes"])


@pytest.fixture
def operator(db: Any) -> User:
    return UserFactory(email="operator@corridor.example", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("who", ["mona", "alice", "operator"])
def test_an_unenrolled_privileged_person_is_signed_in_and_sent_to_enrolment_from_every_page(
    who: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(who)
    client = sign_in_with_password(user)
    for path in ("/", "/dashboard/", "/accounts/profile/", "/moderation/", "/admin/", "/admin/accounts/user/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == SETUP, path
    assert client.get(SETUP).status_code == 200
    # The API, used with this session, answers with a JSON 403 rather than a redirect.
    api = client.get("/api/v1/me/")
    assert api.status_code == 403 and api.json()["code"] == "two_factor_required"


def test_an_official_is_not_asked_for_a_second_factor(bob: User) -> None:
    client = sign_in_with_password(bob)
    assert client.get("/accounts/profile/").status_code == 200


def test_the_admin_refuses_an_unverified_staff_session_even_without_the_middleware(
    operator: User, settings: Any
) -> None:
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "accounts.two_factor.TwoFactorEnforcementMiddleware"]
    client = signed_in(operator, verified=False)
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    # The admin's own sign-in page does not let the session in either.
    assert "/admin/login/" in client.get("/admin/").get("Location", "/admin/login/")


def test_a_verified_operator_opens_the_admin(operator: User) -> None:
    assert signed_in(operator).get("/admin/accounts/user/").status_code == 200


def test_after_enrolment_the_moderator_signs_in_with_password_then_code(mona: User) -> None:
    client = sign_in_with_password(mona)
    device, _codes = enrol(client, mona)
    assert client.get("/moderation/").status_code == 200
    client.post("/accounts/logout/")

    client = Client()
    response = client.post("/accounts/login/", {"email": mona.email, "password": PASSWORD})
    assert response["Location"] == "/accounts/login/verify/"
    assert client.get("/moderation/").status_code == 302  # not signed in yet
    response = client.post("/accounts/login/verify/", {"code": code_for(device, steps_ahead=1)})
    assert response.status_code == 302
    assert client.get("/moderation/").status_code == 200


def test_ten_recovery_codes_are_shown_once_and_each_works_once(mona: User) -> None:
    client = sign_in_with_password(mona)
    _device, codes = enrol(client, mona)
    assert len(codes) == 10 and len(set(codes)) == 10
    again = client.get(CODES).content.decode()
    assert codes[0] not in again and "10 unused recovery codes" in again

    first = Client()
    first.post("/accounts/login/", {"email": mona.email, "password": PASSWORD})
    response = first.post("/accounts/login/verify/", {"code": codes[0].upper()})
    assert response.status_code == 302
    assert first.get("/moderation/").status_code == 200

    replay = Client()
    replay.post("/accounts/login/", {"email": mona.email, "password": PASSWORD})
    response = replay.post("/accounts/login/verify/", {"code": codes[0]})
    assert response.status_code == 200
    assert "That code is not valid" in response.content.decode()
    assert replay.get("/moderation/").status_code == 302


def test_new_recovery_codes_replace_the_old_ones(mona: User) -> None:
    client = sign_in_with_password(mona)
    _device, old = enrol(client, mona)
    response = client.post(CODES)
    assert response.status_code == 302
    new = list(client.get(CODES).context["codes"])
    assert set(new).isdisjoint(old)
    assert StaticToken.objects.filter(device__user=mona, token__in=old).count() == 0

    current = Client()
    current.post("/accounts/login/", {"email": mona.email, "password": PASSWORD})
    assert current.post("/accounts/login/verify/", {"code": new[1]}).status_code == 302
    stale = Client()
    stale.post("/accounts/login/", {"email": mona.email, "password": PASSWORD})
    assert stale.post("/accounts/login/verify/", {"code": old[1]}).status_code == 200


def test_an_administrator_cannot_turn_two_factor_off(alice: User) -> None:
    client = sign_in_with_password(alice)
    device, _codes = enrol(client, alice)
    response = client.post("/accounts/2fa/disable/", {"code": code_for(device, steps_ahead=1)})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=alice, confirmed=True).exists()


def test_api_tokens_are_unaffected_by_the_second_factor(mona: User, agency: Organisation) -> None:
    assert not TOTPDevice.objects.filter(user=mona).exists()
    assert token_client(mona, agency).get("/api/v1/me/").status_code == 200


def test_enrolling_rotates_the_session_key(mona: User) -> None:
    client = sign_in_with_password(mona)
    before = client.cookies["sessionid"].value
    enrol(client, mona)
    assert client.cookies["sessionid"].value != before
