"""Tokens, sessions, the acting organisation and the two-factor rule, as API clients meet them."""

from __future__ import annotations

import pytest
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import membership_add, token_issue
from accounts.tenancy import unscoped

pytestmark = pytest.mark.django_db


def test_it_stores_only_a_hash_of_the_token(alice, italy):
    token, secret = token_issue(user=alice, organisation=italy, name="ministry integration")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        rows = cursor.fetchall()
    assert secret not in str(rows)
    assert token.key_hash != secret and len(token.key_hash) == 64


def test_it_answers_401_with_the_scheme_for_missing_bad_and_revoked_tokens(alice, italy):
    client = APIClient()
    missing = client.get("/api/v1/me/")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"] == "Token"
    assert "detail" in missing.json()

    client.credentials(HTTP_AUTHORIZATION="Token crd_not-a-real-token")
    bad = client.get("/api/v1/me/")
    assert bad.status_code == 401 and bad["WWW-Authenticate"] == "Token"

    token, secret = token_issue(user=alice, organisation=italy, name="to revoke")
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.get("/api/v1/me/").status_code == 200
    assert client.delete(f"/api/v1/tokens/{token.id}/").status_code == 204
    revoked = client.get("/api/v1/me/")
    assert revoked.status_code == 401 and revoked["WWW-Authenticate"] == "Token"


def test_it_shows_the_secret_once_and_lists_tokens_without_it(alice_api, alice, italy):
    created = alice_api.post("/api/v1/tokens/", {"name": "statistics export"})
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("crd_")
    listed = alice_api.get("/api/v1/tokens/").json()["results"]
    assert "statistics export" in {t["name"] for t in listed}
    assert secret not in str(listed)
    assert all("token" not in t for t in listed)


def test_it_requires_a_token_name(alice_api):
    response = alice_api.post("/api/v1/tokens/", {"name": ""})
    assert response.status_code == 400 and "name" in response.json()


def test_a_token_acts_for_its_own_organisation_only(alice, italy, morocco):
    membership_add(organisation=morocco, user=alice, role="viewer")
    _token, secret = token_issue(user=alice, organisation=italy, name="italy only")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}", HTTP_X_ORGANISATION=morocco.slug)
    me = client.get("/api/v1/me/").json()
    assert me["current_organisation"]["id"] == str(italy.id)
    assert {m["organisation"]["slug"] for m in me["memberships"]} == {"it-labour", "ma-employment"}


def test_a_token_stops_working_when_its_owner_leaves_the_organisation(alice_api, italy, alice, bob):
    _token, secret = token_issue(user=bob, organisation=italy, name="bob's")
    from accounts.models import Membership

    with unscoped("test setup"):
        bobs = Membership.objects.get(user=bob, organisation=italy)
    assert alice_api.delete(f"/api/v1/organisations/{italy.id}/members/{bobs.id}/").status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.get("/api/v1/me/").status_code == 401
    with unscoped("assertion"):
        assert ApiToken.objects.get(user=bob).revoked_at is not None


def test_a_session_picks_its_organisation_with_the_header(client, alice, italy, morocco, charlie):
    membership_add(organisation=morocco, user=alice, role="viewer")
    client.force_login(alice)
    assert client.get("/api/v1/me/", HTTP_X_ORGANISATION=morocco.slug).json()["role"] == "viewer"
    assert client.get("/api/v1/me/", HTTP_X_ORGANISATION=str(italy.id)).json()["role"] == "admin"


def test_a_session_cannot_act_for_an_organisation_it_does_not_belong_to(client, alice, morocco):
    client.force_login(alice)
    response = client.get("/api/v1/me/", HTTP_X_ORGANISATION=str(morocco.id))
    assert response.status_code == 403
    assert "X-Organisation" in response.json()["detail"]


def test_it_enforces_the_organisations_two_factor_rule_on_sessions(client, alice, italy):
    italy.require_two_factor = True
    italy.save()
    client.force_login(alice)
    response = client.get("/api/v1/organisations/")
    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"]

    device = TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    from django.test import RequestFactory
    from django_otp import login as otp_login

    # A verified session (django-otp records the device in the session) passes.
    request = RequestFactory().get("/")
    request.session = client.session
    request.user = alice
    otp_login(request, device)
    request.session.save()
    assert client.get("/api/v1/organisations/").status_code == 200


def test_me_can_change_language_and_time_zone(alice_api):
    response = alice_api.patch("/api/v1/me/", {"language": "fr", "time_zone": "Europe/Rome"}, format="json")
    assert response.status_code == 200
    assert response.json()["user"]["language"] == "fr"
    bad = alice_api.patch("/api/v1/me/", {"language": "xx", "time_zone": "Mars/Olympus"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"language", "time_zone"}
