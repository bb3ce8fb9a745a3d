"""The moderation workflow: every transition, allowed and forbidden, for each role."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.tenancy import Actor, tenant_scope, unscoped
from opportunities.models import Listing, ListingRevision, ListingStatus, ListingTransition
from opportunities.services import listing_transition, listings_expire
from opportunities.tasks import expire_listings
from tests.conftest import token_client
from tests.factories import member
from tests.opportunities.conftest import create_listing, seasonal_scheme

pytestmark = pytest.mark.django_db

ACTIONS = {
    "submit": "submit",
    "approve": "approve",
    "request_changes": "request-changes",
    "reject": "reject",
    "withdraw": "withdraw",
    "close": "close",
}
SOURCES = {
    "submit": {"draft", "changes_requested"},
    "approve": {"submitted"},
    "request_changes": {"submitted"},
    "reject": {"submitted"},
    "withdraw": {"published"},
    "close": {"published"},
}
TARGET = {
    "submit": "submitted",
    "approve": "published",
    "request_changes": "changes_requested",
    "reject": "rejected",
    "withdraw": "withdrawn",
    "close": "closed",
}
# Who may take each action (on a listing they can see).
ALLOWED = {
    "submit": {"owner_admin", "owner_official"},
    "withdraw": {"owner_admin", "owner_official"},
    "close": {"owner_admin", "owner_official"},
    "approve": {"moderator"},
    "request_changes": {"moderator"},
    "reject": {"moderator"},
}
STATES = ["draft", "submitted", "changes_requested", "published", "rejected", "closed", "withdrawn", "expired"]


@pytest.fixture
def people(spain, rosa, agency, mona, morocco, charlie) -> dict[str, Any]:
    return {
        "owner_admin": (member(spain, "admin", email="jefa@inclusion.gob.example"), spain),
        "owner_official": (rosa, spain),
        "owner_viewer": (member(spain, "viewer", email="lector@inclusion.gob.example"), spain),
        "other_government": (charlie, morocco),
        "moderator": (mona, agency),
        "agency_admin": (member(agency, "admin", email="boss@ilma.example"), agency),
        "agency_viewer": (member(agency, "viewer", email="reader@ilma.example"), agency),
    }


def listing_in(state: str, owner: Actor, moderator: Actor) -> Listing:
    listing = create_listing(owner, seasonal_scheme(visibility="members"))
    path = {
        "draft": [],
        "submitted": [(owner, "submit")],
        "changes_requested": [(owner, "submit"), (moderator, "request_changes")],
        "published": [(owner, "submit"), (moderator, "approve")],
        "rejected": [(owner, "submit"), (moderator, "reject")],
        "closed": [(owner, "submit"), (moderator, "approve"), (owner, "close")],
        "withdrawn": [(owner, "submit"), (moderator, "approve"), (owner, "withdraw")],
        "expired": [(owner, "submit"), (moderator, "approve")],
    }[state]
    for actor, action in path:
        with tenant_scope(actor):
            listing = listing_transition(actor=actor, listing=listing, action=action, reason="Needs a reason.")
    if state == "expired":
        Listing.objects.filter(pk=listing.pk).update(
            application_deadline=timezone.localdate() - datetime.timedelta(days=1)
        )
        listings_expire()
    listing.refresh_from_db()
    assert listing.status == state
    return listing


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize(
    "role",
    ["owner_admin", "owner_official", "owner_viewer", "other_government", "moderator", "agency_admin", "agency_viewer"],
)
def test_each_role_may_take_only_its_own_actions(action, role, people, spain_actor, moderator):
    listing = listing_in(next(iter(SOURCES[action])), spain_actor, moderator)
    user, org = people[role]
    response = token_client(user, org).post(
        f"/api/v1/listings/{listing.id}/{ACTIONS[action]}/", {"reason": "Because."}, format="json"
    )
    listing.refresh_from_db()
    if role in ALLOWED[action]:
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == TARGET[action] == listing.status
    else:
        # Forbidden: a 403 if they can see the listing, a 404 if they cannot; never a change.
        assert response.status_code in (403, 404), response.json()
        assert listing.status in SOURCES[action]


WRONG_STATES = [(action, state) for action in ACTIONS for state in STATES if state not in SOURCES[action]]


@pytest.mark.parametrize(("action", "state"), WRONG_STATES)
def test_an_action_from_the_wrong_state_is_a_conflict(action, state, people, spain_actor, moderator):
    listing = listing_in(state, spain_actor, moderator)
    role = next(iter(ALLOWED[action]))
    user, org = people[role]
    response = token_client(user, org).post(
        f"/api/v1/listings/{listing.id}/{ACTIONS[action]}/", {"reason": "Because."}, format="json"
    )
    expected = 409
    if role == "moderator" and state == "draft":
        expected = 404  # moderators never see drafts
    if role == "moderator" and state == "published":
        expected = 409  # no pending revision to decide
    assert response.status_code == expected, (state, action, response.json())
    listing.refresh_from_db()
    assert listing.status == state


@pytest.mark.parametrize("action", ["request-changes", "reject"])
def test_sending_back_or_rejecting_needs_a_reason_the_owner_sees(
    action, spain_actor, moderator, mona, agency, rosa, spain
):
    listing = listing_in("submitted", spain_actor, moderator)
    client = token_client(mona, agency)
    assert client.post(f"/api/v1/listings/{listing.id}/{action}/", {}, format="json").status_code == 400
    response = client.post(
        f"/api/v1/listings/{listing.id}/{action}/",
        {"reason": "The wage floor is below the legal minimum."},
        format="json",
    )
    assert response.status_code == 200
    history = token_client(rosa, spain).get(f"/api/v1/listings/{listing.id}/history/").json()
    assert history[-1]["reason"] == "The wage floor is below the legal minimum."
    assert history[-1]["organisation"] == agency.name


def test_every_transition_is_recorded_and_audited(spain_actor, moderator, spain, agency):
    listing = listing_in("closed", spain_actor, moderator)
    steps = list(ListingTransition.objects.filter(listing=listing).values_list("from_status", "to_status", "action"))
    assert steps == [
        ("draft", "draft", "created"),
        ("draft", "submitted", "submit"),
        ("submitted", "published", "approve"),
        ("published", "closed", "close"),
    ]
    with unscoped("assertion"):
        audited = AuditEvent.objects.filter(object_id=str(listing.pk)).values_list("action", "organisation_id")
    assert ("listing.approve", agency.pk) in list(audited)
    assert ("listing.close", spain.pk) in list(audited)


def test_the_owner_edits_drafts_and_changes_requested_but_not_what_is_under_review(spain_actor, moderator, rosa, spain):
    client = token_client(rosa, spain)
    for state, expected in [
        ("draft", 200),
        ("changes_requested", 200),
        ("submitted", 409),
        ("rejected", 409),
        ("closed", 409),
    ]:
        listing = listing_in(state, spain_actor, moderator)
        response = client.patch(f"/api/v1/listings/{listing.id}/", {"title": "Edited title"}, format="json")
        assert response.status_code == expected, (state, response.json())


def test_only_drafts_can_be_deleted(spain_actor, moderator, rosa, spain):
    client = token_client(rosa, spain)
    draft = listing_in("draft", spain_actor, moderator)
    published = listing_in("published", spain_actor, moderator)
    assert client.delete(f"/api/v1/listings/{published.id}/").status_code == 409
    assert client.delete(f"/api/v1/listings/{draft.id}/").status_code == 204
    assert not Listing.objects.filter(pk=draft.pk).exists()


def test_editing_a_published_listing_creates_a_revision_and_keeps_the_published_version_live(
    spain_actor, moderator, rosa, spain, mona, agency, charlie, morocco
):
    listing = listing_in("published", spain_actor, moderator)
    owner = token_client(rosa, spain)
    edited = owner.patch(
        f"/api/v1/listings/{listing.id}/",
        {"title": "Seasonal harvest, Huelva (extended)", "annual_cap": 1200},
        format="json",
    )
    assert edited.status_code == 200, edited.json()
    assert edited.json()["title"] == "Seasonal red-fruit harvest, Huelva"
    assert edited.json()["pending_revision"] is not None
    reader = token_client(charlie, morocco).get(f"/api/v1/listings/{listing.id}/").json()
    assert reader["title"] == "Seasonal red-fruit harvest, Huelva" and reader["status"] == "published"

    mod = token_client(mona, agency)
    revisions = mod.get(f"/api/v1/listings/{listing.id}/revisions/").json()
    assert revisions[0]["changes"] == {
        "title": {"from": "Seasonal red-fruit harvest, Huelva", "to": "Seasonal harvest, Huelva (extended)"},
        "annual_cap": {"from": 1000, "to": 1200},
    }
    assert token_client(charlie, morocco).get(f"/api/v1/listings/{listing.id}/revisions/").json() == []

    approved = mod.post(f"/api/v1/listings/{listing.id}/approve/")
    assert approved.status_code == 200
    assert approved.json()["title"] == "Seasonal harvest, Huelva (extended)"
    assert approved.json()["status"] == "published" and approved.json()["pending_revision"] is None
    assert ListingRevision.objects.get().status == "approved"


def test_a_rejected_revision_leaves_the_listing_as_it_was(spain_actor, moderator, rosa, spain, mona, agency):
    listing = listing_in("published", spain_actor, moderator)
    token_client(rosa, spain).patch(f"/api/v1/listings/{listing.id}/", {"annual_cap": 5000}, format="json")
    response = token_client(mona, agency).post(
        f"/api/v1/listings/{listing.id}/reject/", {"reason": "Cap not agreed."}, format="json"
    )
    assert response.status_code == 200
    listing.refresh_from_db()
    assert listing.annual_cap == 1000 and listing.status == "published"
    assert ListingRevision.objects.get().status == "rejected"


def test_a_newer_edit_supersedes_the_pending_revision(spain_actor, moderator, rosa, spain):
    listing = listing_in("published", spain_actor, moderator)
    client = token_client(rosa, spain)
    client.patch(f"/api/v1/listings/{listing.id}/", {"annual_cap": 1100}, format="json")
    client.patch(f"/api/v1/listings/{listing.id}/", {"annual_cap": 1200}, format="json")
    assert list(ListingRevision.objects.order_by("created_at").values_list("status", flat=True)) == [
        "superseded",
        "pending",
    ]


def test_expiry_is_idempotent(spain_actor, moderator):
    listing = listing_in("published", spain_actor, moderator)
    open_one = listing_in("published", spain_actor, moderator)
    Listing.objects.filter(pk=listing.pk).update(application_deadline=timezone.localdate() - datetime.timedelta(days=1))
    assert listings_expire() == 1
    assert listings_expire() == 0
    assert expire_listings() == 0  # the beat task, run again
    listing.refresh_from_db()
    open_one.refresh_from_db()
    assert listing.status == ListingStatus.EXPIRED and open_one.status == ListingStatus.PUBLISHED
    assert ListingTransition.objects.filter(listing=listing, action="expired").count() == 1


def test_the_expiry_task_is_scheduled():
    from config.beat import BEAT_SCHEDULE

    assert any(entry["task"] == "opportunities.expire_listings" for entry in BEAT_SCHEDULE.values())


def test_a_refused_moderation_attempt_is_audited(spain_actor, moderator, charlie, morocco, rosa, spain):
    listing = listing_in("submitted", spain_actor, moderator)
    response = token_client(rosa, spain).post(f"/api/v1/listings/{listing.id}/approve/")
    assert response.status_code == 403
    with unscoped("assertion"):
        denied = AuditEvent.objects.get(action="access.denied")
    assert denied.actor_email == rosa.email and denied.organisation_id == spain.pk
    assert denied.object_id == f"POST /api/v1/listings/{listing.id}/approve/"[:64]
