"""Operators' admin: staff only, every tenant visible, every change audited."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from accounts.services import invitation_create, token_issue
from accounts.tenancy import Actor, unscoped
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return UserFactory(email="operator@corridor.example", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("model", ["user", "organisation", "membership", "apitoken", "invitation", "auditevent"])
def test_every_admin_list_opens_for_an_operator(model, client, operator, italy, alice, bob):
    invitation_create(actor=Actor(user=alice, organisation=italy, role="admin"), email="x@gov.example", role="viewer")
    token_issue(user=alice, organisation=italy, name="integration")
    client.force_login(operator)
    response = client.get(f"/admin/accounts/{model}/")
    assert response.status_code == 200


def test_the_admin_is_closed_to_non_staff(client, alice):
    client.force_login(alice)
    response = client.get("/admin/accounts/organisation/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_admin_change_is_written_to_the_audit_log(client, operator, italy, alice):
    client.force_login(operator)
    response = client.post(
        f"/admin/accounts/organisation/{italy.pk}/change/",
        {
            "name": "Ministry of Labour (renamed)",
            "slug": italy.slug,
            "kind": "government",
            "country": "IT",
            "is_destination": "on",
            "is_active": "on",
            "focal_point": str(alice.pk),
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with unscoped("assertion"):
        event = AuditEvent.objects.filter(action="admin.changed").get()
    assert event.actor_email == operator.email
    assert event.organisation_id == italy.pk
    assert event.object_id == str(italy.pk)


@pytest.mark.django_db
def test_an_invalid_organisation_form_is_shown_again_with_its_error(client, operator, italy):
    client.force_login(operator)
    response = client.post(
        f"/admin/accounts/organisation/{italy.pk}/change/",
        {
            "name": "",
            "slug": italy.slug,
            "kind": "government",
            "country": "IT",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
