"""Verification of organisations: an agency moderator verifies, suspends and reinstates.

Each decision moves the organisation's state, leaves one decision row and one audit row,
and owes each active administrator of the organisation one e-mail; impossible moves are a
409 naming the state; the API refuses everyone but agency moderators (403), hides what the
caller cannot see (404) and names a missing reason (400). The pages do the same.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Organisation, OrganisationReview, OutboundEmail, User
from accounts.tenancy import Actor, tenant_scope
from accounts.verification import organisation_reinstate, organisation_suspend, organisation_verify
from config.errors import StateConflict
from tests.conftest import as_assertion, signed_in, token_client
from tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def ghana(db: Any) -> Organisation:
    return OrganisationFactory(
        name="Ministry of Labour, Jobs and Employment", slug="gh-employment", country="GH", pending=True
    )


@pytest.fixture
def kofi(ghana: Organisation) -> User:
    return member(ghana, "admin", email="kofi@labour.gov.example", full_name="Kofi Mensah")


@pytest.fixture
def ama(ghana: Organisation) -> User:
    return member(ghana, "admin", email="ama@labour.gov.example", full_name="Ama Owusu")


@pytest.fixture
def yaw(ghana: Organisation) -> User:
    return member(ghana, "official", email="yaw@labour.gov.example", full_name="Yaw Boateng")


@pytest.fixture
def mona_api(mona: User, agency: Organisation) -> APIClient:
    return token_client(mona, agency)


def decide(fn: Any, moderator: Actor, organisation: Organisation, **kwargs: Any) -> Organisation:
    """A service called as the request calls it: in the moderator's scope, with its after-commit hooks."""
    with TestCase.captureOnCommitCallbacks(execute=True), tenant_scope(moderator):
        return fn(actor=moderator, organisation=organisation, **kwargs)


def url(organisation: Organisation, action: str) -> str:
    return f"/api/v1/organisations/{organisation.pk}/{action}/"


# --- The service -------------------------------------------------------------------------


def test_a_new_organisation_starts_pending(db: Any) -> None:
    organisation = Organisation.objects.create(name="New ministry", slug="new", kind="government", country="GH")
    assert organisation.verification_status == "pending" and organisation.verified_at is None


def test_verify_suspend_reinstate_each_leave_a_decision_and_an_audit_row(
    ghana: Organisation, kofi: User, moderator: Actor
) -> None:
    verified = decide(organisation_verify, moderator, ghana)
    assert verified.verification_status == "verified" and verified.verified_at is not None
    first_verified_at = verified.verified_at

    suspended = decide(organisation_suspend, moderator, ghana, reason="Documents found forged")
    assert suspended.verification_status == "suspended"
    assert suspended.suspension_reason == "Documents found forged"

    reinstated = decide(organisation_reinstate, moderator, ghana)
    assert reinstated.verification_status == "verified" and reinstated.suspension_reason == ""
    assert reinstated.verified_at == first_verified_at  # reinstating does not re-date the verification

    with as_assertion():
        reviews = list(OrganisationReview.objects.filter(organisation=ghana).order_by("created_at", "id"))
        audit = list(
            AuditEvent.objects.filter(organisation=ghana, action__startswith="organisation.")
            .exclude(action="organisation.created")
            .order_by("created_at", "id")
        )
    assert [(r.action, r.from_status, r.to_status, r.actor_id) for r in reviews] == [
        ("verify", "pending", "verified", moderator.user.pk),
        ("suspend", "verified", "suspended", moderator.user.pk),
        ("reinstate", "suspended", "verified", moderator.user.pk),
    ]
    assert reviews[1].reason == "Documents found forged"
    assert [a.action for a in audit] == ["organisation.verified", "organisation.suspended", "organisation.reinstated"]
    assert audit[1].changes["verification_status"] == ["verified", "suspended"]
    assert audit[1].actor_email == "mona@ilma.example"


def test_each_decision_emails_each_active_admin_once(
    ghana: Organisation, kofi: User, ama: User, yaw: User, moderator: Actor
) -> None:
    decide(organisation_verify, moderator, ghana)
    assert sorted(m.to[0] for m in mail.outbox) == ["ama@labour.gov.example", "kofi@labour.gov.example"]
    assert all("verified" in m.subject for m in mail.outbox)

    mail.outbox.clear()
    decide(organisation_suspend, moderator, ghana, reason="Documents found forged")
    assert sorted(m.to[0] for m in mail.outbox) == ["ama@labour.gov.example", "kofi@labour.gov.example"]
    assert all("Documents found forged" in m.body for m in mail.outbox)
    # Owed through the outbox, one row per decision and administrator: the official is not e-mailed.
    assert OutboundEmail.objects.count() == 4
    assert not OutboundEmail.objects.filter(to="yaw@labour.gov.example").exists()


@pytest.mark.parametrize(
    ("start", "fn", "state"),
    [
        ("verified", organisation_verify, "verified"),
        ("suspended", organisation_verify, "suspended"),
        ("pending", organisation_reinstate, "pending verification"),
        ("verified", organisation_reinstate, "verified"),
    ],
)
def test_an_impossible_move_is_a_conflict_naming_the_state(moderator: Actor, start: str, fn: Any, state: str) -> None:
    organisation = OrganisationFactory(**({start: True} if start != "verified" else {}))
    with pytest.raises(StateConflict, match=f"that is {state}"):
        decide(fn, moderator, organisation)
    assert Organisation.objects.get(pk=organisation.pk).verification_status == start
    with as_assertion():
        assert not OrganisationReview.objects.exists()


def test_suspending_a_suspended_organisation_is_a_conflict(moderator: Actor) -> None:
    organisation = OrganisationFactory(suspended=True)
    with pytest.raises(StateConflict, match="suspended"):
        decide(organisation_suspend, moderator, organisation, reason="Again")


def test_a_suspension_needs_a_reason(ghana: Organisation, moderator: Actor) -> None:
    with pytest.raises(ValidationError) as caught:
        decide(organisation_suspend, moderator, ghana, reason="   ")
    assert "reason" in caught.value.message_dict
    assert Organisation.objects.get(pk=ghana.pk).verification_status == "pending"


def test_only_an_agency_moderator_decides_and_never_on_its_own_agency(
    ghana: Organisation, italy: Organisation, alice: User, agency: Organisation, mona: User
) -> None:
    for actor in (
        Actor(user=alice, organisation=italy, role="admin"),
        Actor(user=member(agency, "viewer"), organisation=agency, role="viewer"),
    ):
        with pytest.raises(PermissionDenied, match="moderator of an international agency"):
            decide(organisation_verify, actor, ghana)
    agency.verification_status = "pending"
    agency.save()
    with pytest.raises(PermissionDenied, match="own standing"):
        decide(organisation_verify, Actor(user=mona, organisation=agency, role="moderator"), agency)


# --- The API ------------------------------------------------------------------------------


def test_the_api_verifies_and_shows_the_status(ghana: Organisation, kofi: User, mona_api: APIClient) -> None:
    response = mona_api.post(url(ghana, "verify"), {}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["verification_status"] == "verified" and response.json()["verified_at"]
    listed = {o["slug"]: o for o in mona_api.get("/api/v1/organisations/").json()["results"]}
    assert listed["gh-employment"]["verification_status"] == "verified"
    assert list(OutboundEmail.objects.values_list("to", flat=True)) == ["kofi@labour.gov.example"]


def test_the_api_refuses_a_conflict_with_409(ghana: Organisation, mona_api: APIClient) -> None:
    response = mona_api.post(url(ghana, "reinstate"), {}, format="json")
    assert response.status_code == 409
    assert "pending verification" in response.json()["detail"]


def test_a_suspension_without_a_reason_is_a_400_naming_the_field(ghana: Organisation, mona_api: APIClient) -> None:
    response = mona_api.post(url(ghana, "suspend"), {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    assert Organisation.objects.get(pk=ghana.pk).verification_status == "pending"


def test_a_non_moderator_gets_403(ghana: Organisation, alice_api: APIClient, kofi: User) -> None:
    for action in ("verify", "suspend", "reinstate"):
        response = alice_api.post(url(ghana, action), {"reason": "x"}, format="json")
        assert response.status_code == 403, action
    # An organisation's own administrator cannot verify it either.
    own = token_client(kofi, Organisation.objects.get(pk=ghana.pk)).post(url(ghana, "verify"), {}, format="json")
    assert own.status_code == 403
    assert Organisation.objects.get(pk=ghana.pk).verification_status == "pending"


def test_an_organisation_the_caller_cannot_see_is_404(mona_api: APIClient) -> None:
    closed = OrganisationFactory(pending=True, is_active=False)
    for target in (str(closed.pk), "00000000-0000-0000-0000-000000000000"):
        response = mona_api.post(f"/api/v1/organisations/{target}/verify/", {}, format="json")
        assert response.status_code == 404


def test_the_suspension_reason_is_for_the_members_and_the_agencies(
    ghana: Organisation, kofi: User, mona_api: APIClient, charlie_api: APIClient
) -> None:
    mona_api.post(url(ghana, "verify"), {}, format="json")
    assert mona_api.post(url(ghana, "suspend"), {"reason": "Forged mandate"}, format="json").status_code == 200
    own = token_client(kofi, Organisation.objects.get(pk=ghana.pk)).get(f"/api/v1/organisations/{ghana.pk}/").json()
    assert own["verification_status"] == "suspended" and own["suspension_reason"] == "Forged mandate"
    assert mona_api.get(f"/api/v1/organisations/{ghana.pk}/").json()["suspension_reason"] == "Forged mandate"
    other = charlie_api.get(f"/api/v1/organisations/{ghana.pk}/")
    assert other.json()["verification_status"] == "suspended" and other.json()["suspension_reason"] is None
    assert "Forged mandate" not in charlie_api.get("/api/v1/organisations/").content.decode()


# --- The pages ----------------------------------------------------------------------------


def test_the_queue_lists_pending_organisations_oldest_first_and_filters_suspended(
    mona: User, agency: Organisation, italy: Organisation
) -> None:
    older = OrganisationFactory(name="Older pending ministry", pending=True)
    newer = OrganisationFactory(name="Newer pending ministry", pending=True)
    Organisation.objects.filter(pk=older.pk).update(created_at="2026-01-01T00:00Z")
    OrganisationFactory(name="Suspended ministry", suspended=True)
    client = signed_in(mona)
    page = client.get("/moderation/organisations/").content.decode()
    assert page.index("Older pending ministry") < page.index("Newer pending ministry")
    assert "Suspended ministry" not in page and italy.name not in page
    assert "waiting" in page and newer.name in page
    suspended = client.get("/moderation/organisations/?status=suspended").content.decode()
    assert "Suspended ministry" in suspended and "Older pending ministry" not in suspended


def test_the_moderation_navigation_links_the_queue(mona: User) -> None:
    page = signed_in(mona).get("/dashboard/").content.decode()
    assert 'href="/moderation/organisations/"' in page


def test_the_review_page_decides_and_shows_the_history(ghana: Organisation, kofi: User, mona: User) -> None:
    client = signed_in(mona)
    review = f"/moderation/organisations/{ghana.pk}/"
    assert "Verify the organisation" in client.get(review).content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"{review}verify/", {"reason": ""})
    assert response.status_code == 302
    refused = client.post(f"{review}suspend/", {"reason": ""})
    assert refused.status_code == 400 and "A reason is required" in refused.content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(f"{review}suspend/", {"reason": "Mandate withdrawn by the cabinet"})
    page = client.get(review).content.decode()
    assert "Mandate withdrawn by the cabinet" in page and "Reinstate the organisation" in page
    assert "Verify the organisation" not in page
    conflict = client.post(f"{review}verify/", {"reason": ""})
    assert conflict.status_code == 409 and "that is suspended" in conflict.content.decode()
    with as_assertion():
        assert OrganisationReview.objects.filter(organisation=ghana).count() == 2


def test_the_pages_are_for_agency_moderators_only(ghana: Organisation, alice: User, kofi: User) -> None:
    for user in (alice, kofi):
        client = signed_in(user)
        assert client.get("/moderation/organisations/").status_code == 403
        assert client.post(f"/moderation/organisations/{ghana.pk}/verify/", {}).status_code == 403
    assert Organisation.objects.get(pk=ghana.pk).verification_status == "pending"


# --- Query counts ---------------------------------------------------------------------------

QUEUE_QUERIES = 8  # session, user, membership, the switcher, unread count, the count and the page of rows, +1 slack
REVIEW_QUERIES = 9  # the same frame, the organisation with its focal point, its decisions with their actors
# The token and its membership (2), the organisation; the savepoint, the lock, the update, the
# decision, the audit row, the administrators, the release (7); then 4 per administrator e-mailed
# (the outbox's get_or_create: a read, a savepoint, the insert, its release): 2 here.
DECISION_QUERIES = 10 + 2 * 4


def test_the_queue_costs_the_same_for_few_or_many_organisations(mona: User, django_assert_max_num_queries: Any) -> None:
    client = signed_in(mona)
    counts = []
    for _n in range(2):
        for _i in range(6):
            OrganisationFactory(pending=True)
        client.get("/moderation/organisations/")
        with django_assert_max_num_queries(QUEUE_QUERIES) as captured:
            assert client.get("/moderation/organisations/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_the_review_page_and_a_decision_stay_within_their_budgets(
    ghana: Organisation, kofi: User, ama: User, moderator: Actor, mona: User, django_assert_max_num_queries: Any
) -> None:
    decide(organisation_verify, moderator, ghana)
    decide(organisation_suspend, moderator, ghana, reason="One")
    decide(organisation_reinstate, moderator, ghana)
    client = signed_in(mona)
    client.get(f"/moderation/organisations/{ghana.pk}/")
    with django_assert_max_num_queries(REVIEW_QUERIES):
        assert client.get(f"/moderation/organisations/{ghana.pk}/").status_code == 200
    api = token_client(mona, moderator.org)
    api.get("/api/v1/me/")
    with django_assert_max_num_queries(DECISION_QUERIES):
        assert api.post(url(ghana, "suspend"), {"reason": "Two"}, format="json").status_code == 200
