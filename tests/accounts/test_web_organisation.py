"""Organisation settings in the browser: members and roles, invitations, the 2FA rule,
the focal point and API tokens. The pages use the API's services, so the same rules
hold and every change lands in the audit log."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.models import ApiToken, AuditEvent, Invitation, Membership, Organisation, User
from accounts.services import invitation_create, token_issue
from accounts.tenancy import Actor, unscoped
from tests.factories import member

pytestmark = pytest.mark.django_db

OVERVIEW = "/accounts/organisation/"
MEMBERS = "/accounts/organisation/members/"
MEMBERS_CSV = "/accounts/organisation/members.csv"
INVITATIONS = "/accounts/organisation/invitations/"
TOKENS = "/accounts/organisation/tokens/"
TWO_FACTOR = "/accounts/organisation/two-factor/"
FOCAL_POINT = "/accounts/organisation/focal-point/"
SWITCH = "/accounts/organisation/switch/"
LAST_ADMIN = "An organisation must keep at least one administrator."


def membership_of(user: User, organisation: Organisation) -> Membership:
    with unscoped("assertion"):
        return Membership.objects.get(user=user, organisation=organisation)


def audited(organisation: Organisation, action: str) -> list[AuditEvent]:
    with unscoped("assertion"):
        return list(AuditEvent.objects.filter(organisation=organisation, action=action))


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def followed(response: Any) -> str:
    return response.content.decode()


def enrol_two_factor(client: Client, user: User) -> None:
    """Set up an authenticator through the page, so the session is verified too."""
    client.get("/accounts/2fa/setup/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    assert client.post("/accounts/2fa/setup/", {"code": f"{totp.token():06d}"}).status_code == 302


# --- Who may see what ------------------------------------------------------------------


def test_an_admin_sees_the_overview_members_invitations_and_tokens(
    client: Client, alice: User, bob: User, italy: Organisation
) -> None:
    invitation_create(
        actor=Actor(user=alice, organisation=italy, role="admin"), email="new@lavoro.gov.example", role="viewer"
    )
    token_issue(user=alice, organisation=italy, name="HR system")
    client.force_login(alice)

    overview = page(client, OVERVIEW)
    assert "<h1>Organisation settings</h1>" in overview
    assert italy.name in overview and "Italy" in overview
    assert "2 members" in overview and "1 pending invitation" in overview
    assert 'aria-current="page">Overview' in overview

    members = page(client, MEMBERS)
    assert bob.email in members and alice.email in members
    assert "Official" in members and "Administrator" in members
    assert f'action="/accounts/organisation/members/{membership_of(bob, italy).pk}/role/"' in members
    assert f'href="/accounts/organisation/members/{membership_of(bob, italy).pk}/remove/"' in members

    invitations = page(client, INVITATIONS)
    assert "new@lavoro.gov.example" in invitations and "Viewer" in invitations

    tokens = page(client, TOKENS)
    assert "HR system" in tokens and "crd_" in tokens  # the prefix, never the secret


def test_the_organisation_link_is_in_the_navigation_for_admins_only(client: Client, alice: User, bob: User) -> None:
    client.force_login(alice)
    assert f'href="{OVERVIEW}"' in page(client, "/accounts/profile/")
    client.force_login(bob)
    assert f'href="{OVERVIEW}"' not in page(client, "/accounts/profile/")


def test_an_official_gets_403_on_the_settings_but_manages_their_own_tokens(
    client: Client, alice: User, bob: User, italy: Organisation
) -> None:
    client.force_login(bob)
    alice_membership = membership_of(alice, italy)
    for path in (OVERVIEW, MEMBERS, MEMBERS_CSV, INVITATIONS, TWO_FACTOR, f"{MEMBERS}{alice_membership.pk}/remove/"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"{MEMBERS}{alice_membership.pk}/role/", {"role": "viewer"}).status_code == 403
    assert client.post(INVITATIONS, {"email": "x@lavoro.gov.example", "role": "admin"}).status_code == 403
    assert client.post(TWO_FACTOR, {"require_two_factor": "true"}).status_code == 403
    assert client.post(FOCAL_POINT, {"focal_point": str(bob.pk)}).status_code == 403
    assert membership_of(alice, italy).role == "admin"
    with unscoped("assertion"):
        assert not Invitation.objects.exists()

    tokens = page(client, TOKENS)
    assert "Organisation settings" not in tokens  # no admin sub-navigation
    assert client.post(TOKENS, {"name": "My script"}).status_code == 200
    with unscoped("assertion"):
        assert ApiToken.objects.filter(user=bob, name="My script").exists()


def test_signed_out_visitors_are_sent_to_sign_in(client: Client, db: None) -> None:
    response = client.get(MEMBERS)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={MEMBERS}"


def test_another_organisations_objects_are_404(
    client: Client, alice: User, charlie: User, italy: Organisation, morocco: Organisation
) -> None:
    charlie_membership = membership_of(charlie, morocco)
    invitation, _secret = invitation_create(
        actor=Actor(user=charlie, organisation=morocco, role="admin"), email="x@emploi.gov.example", role="official"
    )
    charlie_token, _ = token_issue(user=charlie, organisation=morocco, name="theirs")
    client.force_login(alice)

    assert client.post(f"{MEMBERS}{charlie_membership.pk}/role/", {"role": "viewer"}).status_code == 404
    assert client.get(f"{MEMBERS}{charlie_membership.pk}/remove/").status_code == 404
    assert client.post(f"{MEMBERS}{charlie_membership.pk}/remove/").status_code == 404
    assert client.post(f"{INVITATIONS}{invitation.pk}/revoke/").status_code == 404
    assert client.post(f"{TOKENS}{charlie_token.pk}/revoke/").status_code == 404

    assert membership_of(charlie, morocco).role == "admin"
    invitation.refresh_from_db()
    charlie_token.refresh_from_db()
    assert invitation.revoked_at is None and charlie_token.revoked_at is None


def test_another_members_token_is_404_even_in_the_same_organisation(
    client: Client, alice: User, bob: User, italy: Organisation
) -> None:
    bob_token, _ = token_issue(user=bob, organisation=italy, name="Bob's")
    client.force_login(alice)
    assert client.get(f"{TOKENS}{bob_token.pk}/revoke/").status_code == 404
    assert "Bob&#x27;s" not in page(client, TOKENS)


# --- Members and roles -------------------------------------------------------------------


def test_changing_a_role_works_and_is_audited(client: Client, alice: User, bob: User, italy: Organisation) -> None:
    client.force_login(alice)
    bob_membership = membership_of(bob, italy)
    response = client.post(f"{MEMBERS}{bob_membership.pk}/role/", {"role": "viewer"}, follow=True)
    assert response.redirect_chain[-1][0] == MEMBERS
    assert "Bob Bianchi is now Viewer." in followed(response)
    assert membership_of(bob, italy).role == "viewer"
    [event] = audited(italy, "membership.role_changed")
    assert event.actor == alice and event.changes == {"role": ["official", "viewer"]}


def test_a_role_that_does_not_exist_in_this_kind_of_organisation_is_refused(
    client: Client, alice: User, bob: User, italy: Organisation
) -> None:
    client.force_login(alice)
    response = client.post(f"{MEMBERS}{membership_of(bob, italy).pk}/role/", {"role": "moderator"}, follow=True)
    assert "is not a role in a government organisation" in followed(response)
    assert membership_of(bob, italy).role == "official"


def test_removing_a_member_asks_first_then_removes_and_audits(
    client: Client, alice: User, bob: User, italy: Organisation
) -> None:
    _token, secret = token_issue(user=bob, organisation=italy, name="Bob's script")
    client.force_login(alice)
    remove = f"{MEMBERS}{membership_of(bob, italy).pk}/remove/"

    confirm = page(client, remove)
    assert "Remove Bob Bianchi (bob@lavoro.gov.example) from Ministry of Labour and Social Policies?" in confirm
    assert "Remove member" in confirm
    with unscoped("assertion"):
        assert Membership.objects.filter(user=bob, organisation=italy).exists()

    response = client.post(remove, follow=True)
    assert "Bob Bianchi is no longer a member." in followed(response)
    with unscoped("assertion"):
        assert not Membership.objects.filter(user=bob, organisation=italy).exists()
    assert len(audited(italy, "membership.removed")) == 1
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get("/api/v1/me/").status_code in (401, 403)


def test_the_last_administrator_can_neither_leave_nor_be_demoted(
    client: Client, alice: User, bob: User, italy: Organisation
) -> None:
    client.force_login(alice)
    alice_membership = membership_of(alice, italy)

    response = client.post(f"{MEMBERS}{alice_membership.pk}/role/", {"role": "official"}, follow=True)
    assert response.redirect_chain[-1][0] == MEMBERS
    assert f"The role of Alice Rossi was not changed: {LAST_ADMIN}" in followed(response)

    response = client.post(f"{MEMBERS}{alice_membership.pk}/remove/", follow=True)
    assert f"Alice Rossi was not removed: {LAST_ADMIN}" in followed(response)

    assert membership_of(alice, italy).role == "admin"
    assert not audited(italy, "membership.role_changed") and not audited(italy, "membership.removed")


def test_an_admin_who_steps_down_leaves_the_settings(
    client: Client, alice: User, bob: User, italy: Organisation
) -> None:
    member(italy, "admin", email="carla@lavoro.gov.example", full_name="Carla Verdi")
    client.force_login(alice)
    response = client.post(f"{MEMBERS}{membership_of(alice, italy).pk}/role/", {"role": "official"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert membership_of(alice, italy).role == "official"
    assert client.get(MEMBERS).status_code == 403


def test_the_members_list_is_paginated_and_its_queries_do_not_grow(
    client: Client, alice: User, italy: Organisation, django_assert_max_num_queries: Any
) -> None:
    for n in range(30):
        user = member(italy, "viewer", email=f"viewer{n:02d}@lavoro.gov.example", full_name=f"Viewer {n:02d}")
        if n % 3 == 0:
            TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.force_login(alice)
    with django_assert_max_num_queries(10):
        html = page(client, MEMBERS)
    assert "31 members" in html
    assert "Page 1 of 2" in html
    assert html.count('name="role"') == 25
    assert "viewer00@lavoro.gov.example" in html


def test_the_members_list_downloads_as_csv(client: Client, alice: User, bob: User, italy: Organisation) -> None:
    TOTPDevice.objects.create(user=bob, name="phone", confirmed=True)
    client.force_login(alice)
    response = client.get(MEMBERS_CSV)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="members.csv"' in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.splitlines()
    assert lines[0] == "Name,E-mail address,Role,Two-factor authentication,Joined"
    assert any(line.startswith("Bob Bianchi,bob@lavoro.gov.example,Official,Yes,") for line in lines)
    assert any(line.startswith("Alice Rossi,alice@lavoro.gov.example,Administrator,No,") for line in lines)
    assert len(lines) == 3


# --- Invitations -----------------------------------------------------------------------


def test_inviting_someone_sends_the_email_and_lists_the_invitation(
    client: Client, alice: User, italy: Organisation, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(INVITATIONS, {"email": "Nadia@Lavoro.gov.example", "role": "official"}, follow=True)
    assert "Invitation sent to nadia@lavoro.gov.example." in followed(response)

    [message] = mail.outbox
    assert message.to == ["nadia@lavoro.gov.example"]
    assert italy.name in message.subject
    assert re.search(r"/accounts/invitations/[\w-]+/", message.body)
    assert "Your role: Official." in message.body
    with unscoped("assertion"):
        invitation = Invitation.objects.get(organisation=italy, email="nadia@lavoro.gov.example")
    assert invitation.role == "official" and invitation.invited_by == alice
    assert "nadia@lavoro.gov.example" in page(client, INVITATIONS)
    assert len(audited(italy, "invitation.created")) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "not an address", "role": "official"}, "E-mail address: Enter a valid email address."),
        ({"email": "x@lavoro.gov.example", "role": "moderator"}, "Role: &#x27;moderator&#x27; is not a role"),
        (
            {"email": "bob@lavoro.gov.example", "role": "viewer"},
            "E-mail address: bob@lavoro.gov.example is already a member.",
        ),
    ],
)
def test_a_bad_invitation_is_refused_inline_and_nothing_is_sent(
    client: Client, alice: User, bob: User, italy: Organisation, data: dict[str, str], message: str
) -> None:
    client.force_login(alice)
    response = client.post(INVITATIONS, data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html
    assert message in html
    assert f'value="{data["email"]}"' in html  # what was typed stays
    with unscoped("assertion"):
        assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_revoking_an_invitation_asks_first_and_kills_the_link(client: Client, alice: User, italy: Organisation) -> None:
    invitation, secret = invitation_create(
        actor=Actor(user=alice, organisation=italy, role="admin"), email="nadia@lavoro.gov.example", role="official"
    )
    client.force_login(alice)
    revoke = f"{INVITATIONS}{invitation.pk}/revoke/"
    assert "Revoke the invitation sent to nadia@lavoro.gov.example?" in page(client, revoke)

    response = client.post(revoke, follow=True)
    assert "its link no longer works" in followed(response)
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert len(audited(italy, "invitation.revoked")) == 1
    assert "nadia@lavoro.gov.example" not in page(client, INVITATIONS).split('id="pending"', 1)[1]
    assert Client().get(f"/accounts/invitations/{secret}/").status_code == 404


# --- API tokens --------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_works_until_revoked(client: Client, alice: User, italy: Organisation) -> None:
    client.force_login(alice)
    response = client.post(TOKENS, {"name": "Ministry HR system"})
    html = response.content.decode()
    assert response.status_code == 200
    secret = re.search(r'<code id="token-secret">(crd_[^<]+)</code>', html).group(1)
    assert 'data-copy="token-secret"' in html and 'id="token-secret-status"' in html
    assert "It will not be shown again" in html
    assert "no-store" in response["Cache-Control"]

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get("/api/v1/me/").status_code == 200

    for path in (TOKENS, OVERVIEW, MEMBERS, INVITATIONS, "/accounts/profile/"):
        assert secret not in page(client, path), path
    with unscoped("assertion"):
        token = ApiToken.objects.get(user=alice, name="Ministry HR system")
    assert token.prefix in page(client, TOKENS)
    assert len(audited(italy, "token.issued")) == 1

    revoke = f"{TOKENS}{token.pk}/revoke/"
    assert "Revoke the token “Ministry HR system”" in page(client, revoke)
    response = client.post(revoke, follow=True)
    assert "is revoked: it no longer works" in followed(response)
    assert "Revoked" in followed(response)
    assert api.get("/api/v1/me/").status_code in (401, 403)
    assert len(audited(italy, "token.revoked")) == 1


def test_a_token_needs_a_name(client: Client, alice: User) -> None:
    client.force_login(alice)
    response = client.post(TOKENS, {"name": "  "})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html and 'href="#id_name"' in html
    with unscoped("assertion"):
        assert not ApiToken.objects.filter(user=alice).exists()


# --- The two-factor rule and the focal point ------------------------------------------------


def test_requiring_two_factor_asks_first_then_applies_to_every_member(
    client: Client, alice: User, bob: User, italy: Organisation
) -> None:
    client.force_login(alice)
    enrol_two_factor(client, alice)

    confirm = page(client, TWO_FACTOR)
    assert "Require every member of Ministry of Labour and Social Policies" in confirm
    assert "1 member has not set it up yet" in confirm  # Bob
    assert 'name="require_two_factor" value="true"' in confirm
    italy.refresh_from_db()
    assert not italy.require_two_factor

    response = client.post(TWO_FACTOR, {"require_two_factor": "true"}, follow=True)
    assert "now required for every member" in followed(response)
    italy.refresh_from_db()
    assert italy.require_two_factor
    [event] = audited(italy, "organisation.updated")
    assert event.changes == {"require_two_factor": ["False", "True"]}

    bob_client = Client()
    bob_client.force_login(bob)
    assert bob_client.get("/accounts/profile/")["Location"] == "/accounts/2fa/setup/"

    assert 'name="require_two_factor" value="false"' in page(client, TWO_FACTOR)
    client.post(TWO_FACTOR, {"require_two_factor": "false"})
    italy.refresh_from_db()
    assert not italy.require_two_factor
    assert bob_client.get("/accounts/profile/").status_code == 200


def test_an_unenrolled_admin_is_warned_they_will_have_to_enrol(client: Client, alice: User) -> None:
    client.force_login(alice)
    assert "You have not set it up yourself" in page(client, TWO_FACTOR)


def test_the_focal_point_must_be_a_member(
    client: Client, alice: User, bob: User, charlie: User, italy: Organisation
) -> None:
    client.force_login(alice)
    assert italy.focal_point == alice
    response = client.post(FOCAL_POINT, {"focal_point": str(charlie.pk)})
    html = response.content.decode()
    assert response.status_code == 400
    assert '<a href="#id_focal_point">Focal point: The focal point must be a member of the organisation.</a>' in html
    italy.refresh_from_db()
    assert italy.focal_point == alice

    response = client.post(FOCAL_POINT, {"focal_point": "not-an-id"})
    assert response.status_code == 400 and "Focal point:" in response.content.decode()

    response = client.post(FOCAL_POINT, {"focal_point": str(bob.pk)}, follow=True)
    assert "Bob Bianchi is now the focal point." in followed(response)
    italy.refresh_from_db()
    assert italy.focal_point == bob
    [event] = audited(italy, "organisation.updated")
    assert "focal_point" in event.changes


def test_the_switcher_moved_and_the_settings_follow_the_organisation_acted_for(
    client: Client, alice: User, italy: Organisation, morocco: Organisation
) -> None:
    from accounts.services import membership_add

    membership_add(organisation=morocco, user=alice, role="viewer")
    client.force_login(alice)
    for organisation, status in ((italy, 200), (morocco, 403)):
        response = client.post(SWITCH, {"organisation": str(organisation.pk), "next": OVERVIEW})
        assert response.status_code == 302 and response["Location"] == OVERVIEW
        assert client.get(OVERVIEW).status_code == status  # admin in Italy, a viewer in Morocco
