"""Accepting an invitation from its e-mailed link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Invitation, Membership, Organisation, User
from accounts.services import invitation_create, invitation_revoke
from accounts.tenancy import Actor, unscoped

INVALID = "This invitation link is no longer valid"

pytestmark = pytest.mark.django_db


def invite(inviter: User, organisation: Organisation, email: str, role: str = "official") -> tuple[Invitation, str]:
    return invitation_create(actor=Actor(user=inviter, organisation=organisation, role="admin"), email=email, role=role)


def url(secret: str) -> str:
    return f"/accounts/invitations/{secret}/"


def without_csrf(html: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html.decode())


SIGN_UP = {"full_name": "Nadia Ferri", "password1": "a long and unusual passphrase", "password2": ""}
SIGN_UP["password2"] = SIGN_UP["password1"]


def test_the_page_shows_the_organisation_and_the_role(client: Client, alice: User, italy: Organisation) -> None:
    _invitation, secret = invite(alice, italy, "nadia@lavoro.gov.example")
    response = client.get(url(secret))
    html = response.content.decode()
    assert response.status_code == 200
    assert italy.name in html
    assert "Official" in html
    assert '<label for="id_full_name"' in html


def test_a_newcomer_gets_an_account_with_the_invited_role_and_is_signed_in(
    client: Client, alice: User, italy: Organisation
) -> None:
    _invitation, secret = invite(alice, italy, "nadia@lavoro.gov.example", role="viewer")
    response = client.post(url(secret), SIGN_UP)
    assert response.status_code == 302

    nadia = User.objects.get(email="nadia@lavoro.gov.example")
    assert nadia.full_name == "Nadia Ferri"
    assert nadia.check_password(SIGN_UP["password1"])
    with unscoped("assertion"):
        assert Membership.objects.get(user=nadia, organisation=italy).role == "viewer"
    assert client.session["_auth_user_id"] == str(nadia.pk)
    assert client.session["corridor_organisation"] == str(italy.pk)


def test_the_link_cannot_be_used_twice(client: Client, alice: User, italy: Organisation) -> None:
    _invitation, secret = invite(alice, italy, "nadia@lavoro.gov.example")
    client.post(url(secret), SIGN_UP)

    again = Client()
    response = again.post(url(secret), {**SIGN_UP, "full_name": "Someone Else"})
    assert response.status_code == 404
    assert INVALID in response.content.decode()
    with unscoped("assertion"):
        assert Membership.objects.filter(organisation=italy, user__email="nadia@lavoro.gov.example").count() == 1


def test_an_expired_link_is_refused_with_the_generic_page(client: Client, alice: User, italy: Organisation) -> None:
    invitation, secret = invite(alice, italy, "nadia@lavoro.gov.example")
    with unscoped("test setup"):
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    expired = client.get(url(secret))
    unknown = client.get(url("not-a-real-secret"))
    assert expired.status_code == unknown.status_code == 404
    assert INVALID in expired.content.decode()
    # Identical apart from the link itself (echoed in the language chooser's "next").
    assert without_csrf(expired.content).replace(secret, "not-a-real-secret") == without_csrf(unknown.content)
    assert client.post(url(secret), SIGN_UP).status_code == 404
    assert not User.objects.filter(email="nadia@lavoro.gov.example").exists()


def test_a_revoked_link_is_refused_with_the_generic_page(client: Client, alice: User, italy: Organisation) -> None:
    invitation, secret = invite(alice, italy, "nadia@lavoro.gov.example")
    invitation_revoke(invitation=invitation, actor=Actor(user=alice, organisation=italy, role="admin"))
    response = client.get(url(secret))
    assert response.status_code == 404
    assert INVALID in response.content.decode()


def test_a_weak_password_is_refused_inline(client: Client, alice: User, italy: Organisation) -> None:
    _invitation, secret = invite(alice, italy, "nadia@lavoro.gov.example")
    response = client.post(url(secret), {"full_name": "Nadia", "password1": "12345", "password2": "12345"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "too short" in html
    assert not User.objects.filter(email="nadia@lavoro.gov.example").exists()


def test_mismatched_passwords_are_refused(client: Client, alice: User, italy: Organisation) -> None:
    _invitation, secret = invite(alice, italy, "nadia@lavoro.gov.example")
    response = client.post(url(secret), {**SIGN_UP, "password2": "something else entirely"})
    assert "The two passwords do not match." in response.content.decode()
    assert not User.objects.filter(email="nadia@lavoro.gov.example").exists()


def test_a_signed_in_invitee_accepts_with_one_post(
    client: Client, alice: User, charlie: User, italy: Organisation
) -> None:
    _invitation, secret = invite(alice, italy, charlie.email.upper(), role="viewer")
    client.force_login(charlie)
    assert "Accept the invitation" in client.get(url(secret)).content.decode()

    response = client.post(url(secret))
    assert response.status_code == 302
    with unscoped("assertion"):
        assert Membership.objects.get(user=charlie, organisation=italy).role == "viewer"
    assert client.session["corridor_organisation"] == str(italy.pk)


def test_someone_else_signed_in_cannot_accept(client: Client, alice: User, bob: User, italy: Organisation) -> None:
    invitation, secret = invite(alice, italy, "nadia@lavoro.gov.example")
    client.force_login(bob)
    response = client.post(url(secret))
    assert response.status_code == 200
    assert "different e-mail address" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_an_existing_account_is_asked_to_sign_in_rather_than_choose_a_password(
    client: Client, alice: User, charlie: User, italy: Organisation
) -> None:
    _invitation, secret = invite(alice, italy, charlie.email)
    response = client.post(url(secret), SIGN_UP)
    assert response.status_code == 200
    assert "Sign in to accept" in response.content.decode()
    charlie.refresh_from_db()
    assert not charlie.check_password(SIGN_UP["password1"])
    with unscoped("assertion"):
        assert not Membership.objects.filter(user=charlie, organisation=italy).exists()


def test_the_pages_work_with_tenant_scoping_switched_on(client: Client, alice: User, italy: Organisation) -> None:
    """The suite disables django-scopes for setup code; the web views must not rely on that."""
    from django_scopes import scope

    _invitation, secret = invite(alice, italy, "nadia@lavoro.gov.example")
    with scope():
        assert client.get(url(secret)).status_code == 200
        assert client.post(url(secret), SIGN_UP).status_code == 302
        assert client.get("/accounts/organisation/tokens/").status_code == 200
        assert client.get("/accounts/profile/").status_code == 200
        assert client.get("/accounts/2fa/setup/").status_code == 200
    with unscoped("assertion"):
        assert Membership.objects.filter(user__email="nadia@lavoro.gov.example", organisation=italy).exists()
