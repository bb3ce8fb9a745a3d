"""Alice and Bob work for Italy; Charlie, Morocco's admin, must meet 404s at every private door."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import ApiToken, Invitation, Membership
from accounts.services import invitation_create, token_issue
from accounts.tenancy import Actor, tenant_scope, unscoped

pytestmark = pytest.mark.django_db


def italy_private(italy, alice, bob):
    """Private Italian objects: one of each kind, with their ids."""
    actor = Actor(user=alice, organisation=italy, role="admin")
    with tenant_scope(actor):
        invitation, _secret = invitation_create(actor=actor, email="new.official@lavoro.gov.example", role="official")
        token, _secret = token_issue(user=alice, organisation=italy, name="ministry integration")
        membership = Membership.objects.get(organisation=italy, user=bob)
    return {"invitation": invitation, "token": token, "membership": membership}


def test_it_lists_only_my_organisations_members(alice_api, charlie_api, italy, alice, bob, charlie):
    mine = alice_api.get(f"/api/v1/organisations/{italy.id}/members/")
    assert mine.status_code == 200
    assert {m["user"]["email"] for m in mine.json()["results"]} == {alice.email, bob.email}

    theirs = charlie_api.get(f"/api/v1/organisations/{italy.id}/members/")
    assert theirs.status_code == 404
    assert theirs.json() == {"detail": "Not found."}


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_it_answers_404_for_another_tenants_membership(method, charlie_api, italy, alice, bob, morocco, charlie):
    objs = italy_private(italy, alice, bob)
    membership_id = objs["membership"].id
    for org in (italy, morocco):  # neither through Italy's URL nor smuggled under Morocco's
        url = f"/api/v1/organisations/{org.id}/members/{membership_id}/"
        response = getattr(charlie_api, method)(url, {"role": "viewer"}, format="json")
        assert response.status_code == 404, url
    with unscoped("assertion"):
        assert Membership.objects.get(pk=membership_id).role == "official"


@pytest.mark.parametrize("method", ["get", "delete"])
def test_it_answers_404_for_another_tenants_invitation(method, charlie_api, italy, alice, bob, morocco, charlie):
    invitation = italy_private(italy, alice, bob)["invitation"]
    response = getattr(charlie_api, method)(f"/api/v1/organisations/{morocco.id}/invitations/{invitation.id}/")
    assert response.status_code == 404
    with unscoped("assertion"):
        assert Invitation.objects.get(pk=invitation.pk).status == "pending"


@pytest.mark.parametrize("method", ["get", "delete"])
def test_it_answers_404_for_another_users_token(method, charlie_api, bob_api, italy, alice, bob, charlie):
    token = italy_private(italy, alice, bob)["token"]
    for client in (charlie_api, bob_api):  # another tenant, and a colleague: tokens are personal
        response = getattr(client, method)(f"/api/v1/tokens/{token.id}/")
        assert response.status_code == 404
    with unscoped("assertion"):
        assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_it_keeps_each_tenants_audit_log_to_itself(alice_api, charlie_api, italy, alice, bob, charlie):
    italy_private(italy, alice, bob)
    italian = alice_api.get("/api/v1/audit/").json()["results"]
    assert {"invitation.created", "token.issued"} <= {e["action"] for e in italian}

    moroccan = charlie_api.get("/api/v1/audit/").json()["results"]
    assert all(e["object_repr"] != "ministry integration" for e in moroccan)
    assert all("new.official" not in str(e["changes"]) for e in moroccan)


def test_it_shows_private_fields_only_to_the_organisations_members(alice_api, charlie_api, italy, alice, bob, charlie):
    own = alice_api.get(f"/api/v1/organisations/{italy.id}/").json()
    assert {m["user"]["email"] for m in own["members"]} == {alice.email, bob.email}
    assert "require_two_factor" in own

    foreign = charlie_api.get(f"/api/v1/organisations/{italy.slug}/")
    assert foreign.status_code == 200
    body = foreign.json()
    assert body["name"] == italy.name and body["country"] == "IT"
    assert "members" not in body and "require_two_factor" not in body and alice.email not in str(body)


def test_it_refuses_to_change_another_organisations_settings(charlie_api, italy, charlie):
    response = charlie_api.patch(f"/api/v1/organisations/{italy.id}/", {"require_two_factor": True}, format="json")
    assert response.status_code == 404
    italy.refresh_from_db()
    assert italy.require_two_factor is False


def test_it_lets_only_admins_manage_members(bob_api, alice_api, italy, alice, bob):
    with unscoped("test setup"):
        membership = Membership.objects.get(organisation=italy, user=alice)
    response = bob_api.patch(f"/api/v1/organisations/{italy.id}/members/{membership.id}/", {"role": "viewer"})
    assert response.status_code == 403
    assert "administrator" in response.json()["detail"]

    with unscoped("assertion"):
        bobs = Membership.objects.get(organisation=italy, user=bob)
    response = alice_api.patch(f"/api/v1/organisations/{italy.id}/members/{bobs.id}/", {"role": "viewer"})
    assert response.status_code == 200 and response.json()["role"] == "viewer"


def test_it_keeps_at_least_one_admin(alice_api, italy, alice):
    with unscoped("test setup"):
        membership = Membership.objects.get(organisation=italy, user=alice)
    response = alice_api.patch(f"/api/v1/organisations/{italy.id}/members/{membership.id}/", {"role": "official"})
    assert response.status_code == 400
    assert "administrator" in response.json()["role"][0]
    # Removing the last administrator is a conflict with the organisation's state (offboarding).
    assert alice_api.delete(f"/api/v1/organisations/{italy.id}/members/{membership.id}/").status_code == 409


def test_it_rejects_a_role_that_the_kind_of_organisation_does_not_have(alice_api, italy, alice, bob):
    with unscoped("test setup"):
        bobs = Membership.objects.get(organisation=italy, user=bob)
    response = alice_api.patch(f"/api/v1/organisations/{italy.id}/members/{bobs.id}/", {"role": "moderator"})
    assert response.status_code == 400
    assert "moderator" in response.json()["role"][0]


def test_it_invites_by_email_with_a_working_link(alice_api, italy, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_api.post(
            f"/api/v1/organisations/{italy.id}/invitations/", {"email": "Rosa@Lavoro.gov.example", "role": "official"}
        )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending"
    assert response.json()["email"] == "rosa@lavoro.gov.example"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rosa@lavoro.gov.example"]
    assert "/accounts/invitations/" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-address", "role": "official"}, "email"),
        ({"email": "x@gov.example", "role": "moderator"}, "role"),
        ({"email": "x@gov.example", "role": "emperor"}, "role"),
        ({"role": "official"}, "email"),
    ],
)
def test_it_rejects_a_bad_invitation_naming_the_field(payload, field, alice_api, italy, alice):
    response = alice_api.post(f"/api/v1/organisations/{italy.id}/invitations/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    with unscoped("assertion"):
        assert Invitation.objects.count() == 0
    assert mail.outbox == []


def test_it_lets_only_admins_invite(bob_api, italy, bob):
    response = bob_api.post(
        f"/api/v1/organisations/{italy.id}/invitations/", {"email": "x@gov.example", "role": "viewer"}
    )
    assert response.status_code == 403
    with unscoped("assertion"):
        assert Invitation.objects.count() == 0


def test_it_refuses_to_invite_an_existing_member(alice_api, italy, alice, bob):
    response = alice_api.post(f"/api/v1/organisations/{italy.id}/invitations/", {"email": bob.email, "role": "viewer"})
    assert response.status_code == 400
    assert "already a member" in response.json()["email"][0]
