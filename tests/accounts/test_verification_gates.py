"""The gates of verification: a pending or a suspended government reads as before but cannot
submit a listing, express interest, send a message, create an alert subscription, or create or
join a partnership; each refusal is a 403 whose ``detail`` says why and whose ``code`` says which.
Once verified (or reinstated) it acts again. Agencies are not gated.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from accounts.tenancy import Actor, tenant_scope
from accounts.verification import organisation_reinstate, organisation_verify
from exchange.models import Match
from tests.conftest import signed_in, token_client
from tests.exchange.conftest import offer, published, scheme
from tests.factories import OrganisationFactory, member
from tests.opportunities.conftest import create_listing

pytestmark = pytest.mark.django_db

REASON = "Mandate under review by the cabinet"
STANDINGS = {
    "pending": ("organisation_pending", "pending verification by an agency"),
    "suspended": ("organisation_suspended", f"suspended: {REASON}"),
}


@pytest.fixture
def ghana(db: Any) -> Organisation:
    return OrganisationFactory(
        name="Ministry of Labour, Jobs and Employment", slug="gh-employment", country="GH", is_origin=True
    )


@pytest.fixture
def yaw(ghana: Organisation) -> User:
    return member(ghana, "official", email="yaw@labour.gov.example", full_name="Yaw Boateng")


@pytest.fixture
def ghana_actor(ghana: Organisation, yaw: User) -> Actor:
    return Actor(user=yaw, organisation=ghana, role="official")


@pytest.fixture
def ghana_api(yaw: User, ghana: Organisation) -> APIClient:
    return token_client(yaw, ghana)


@pytest.fixture
def bob_api(bob: User, italy: Organisation) -> APIClient:
    return token_client(bob, italy)


@pytest.fixture
def world(italy: Organisation, bob: User, ghana_actor: Actor, moderator: Actor) -> dict[str, Any]:
    """While Ghana was verified: a match between Italy's scheme and Ghana's offer, Ghana's draft,
    and Italy's partnership inviting Ghana."""
    italy_actor = Actor(user=bob, organisation=italy, role="official")
    demand = published(italy_actor, moderator, scheme(title="Seasonal agriculture, Piedmont"))
    supply = published(ghana_actor, moderator, offer(title="Ghanaian farm workers"))
    draft = create_listing(ghana_actor, offer(title="Ghanaian care workers"))
    return {"match": Match.objects.get(demand=demand, supply=supply), "draft": draft}


def put_in(organisation: Organisation, standing: str) -> None:
    Organisation.objects.filter(pk=organisation.pk).update(
        verification_status=standing,
        verified_at=None if standing == "pending" else organisation.verified_at,
        suspension_reason=REASON if standing == "suspended" else "",
    )


def assert_refused(response: Any, standing: str) -> None:
    code, words = STANDINGS[standing]
    assert response.status_code == 403, response.content
    assert response.json()["code"] == code
    assert words in response.json()["detail"]


def invite(bob_api: APIClient, ghana: Organisation) -> str:
    created = bob_api.post(
        "/api/v1/partnerships/",
        {"name": "Italy–Ghana mobility partnership", "kind": "mobility_partnership", "members": [str(ghana.pk)]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    return created.json()["id"]


@pytest.mark.parametrize("standing", STANDINGS)
def test_a_government_not_in_good_standing_is_refused_each_act_and_reads_as_before(
    standing: str, world: dict[str, Any], ghana: Organisation, ghana_api: APIClient, bob_api: APIClient
) -> None:
    match, draft = world["match"], world["draft"]
    partnership = invite(bob_api, ghana)
    put_in(ghana, standing)

    assert_refused(ghana_api.post(f"/api/v1/listings/{draft.pk}/submit/"), standing)
    assert_refused(ghana_api.post(f"/api/v1/matches/{match.pk}/interest/", {"message": "We can"}), standing)
    # Italy (verified) expresses interest; Ghana cannot answer in the thread, nor accept.
    assert bob_api.post(f"/api/v1/matches/{match.pk}/interest/", {"message": "Interested"}).status_code == 200
    assert_refused(ghana_api.post(f"/api/v1/matches/{match.pk}/messages/", {"message": "Yes"}), standing)
    assert_refused(ghana_api.post(f"/api/v1/matches/{match.pk}/accept/"), standing)
    alert = {"name": "Farm schemes", "channels": [{"type": "inbox"}]}
    assert_refused(ghana_api.post("/api/v1/subscriptions/", alert, format="json"), standing)
    assert_refused(ghana_api.post(f"/api/v1/partnerships/{partnership}/confirm/"), standing)
    new = {"name": "Ghana–Italy", "kind": "mobility_partnership", "members": []}
    assert_refused(ghana_api.post("/api/v1/partnerships/", new, format="json"), standing)

    # Reading works as before; declining an invitation stays open.
    assert ghana_api.get("/api/v1/listings/").status_code == 200
    assert ghana_api.get(f"/api/v1/listings/{draft.pk}/").status_code == 200
    thread = ghana_api.get(f"/api/v1/matches/{match.pk}/messages/")
    assert thread.status_code == 200 and "Interested" in thread.content.decode()
    assert ghana_api.get(f"/api/v1/partnerships/{partnership}/").status_code == 200
    assert ghana_api.get("/api/v1/subscriptions/").status_code == 200
    # Nothing was done on Ghana's behalf.
    fresh = Match.objects.get(pk=match.pk)
    assert fresh.state == "interest_expressed" and fresh.interest_by_id != ghana.pk
    assert ghana_api.get(f"/api/v1/listings/{draft.pk}/").json()["status"] == "draft"


@pytest.mark.parametrize("standing", STANDINGS)
def test_once_verified_or_reinstated_it_acts_again(
    standing: str,
    world: dict[str, Any],
    ghana: Organisation,
    ghana_api: APIClient,
    bob_api: APIClient,
    moderator: Actor,
) -> None:
    match, draft = world["match"], world["draft"]
    partnership = invite(bob_api, ghana)
    put_in(ghana, standing)
    assert_refused(ghana_api.post(f"/api/v1/listings/{draft.pk}/submit/"), standing)

    decision = organisation_verify if standing == "pending" else organisation_reinstate
    with TestCase.captureOnCommitCallbacks(execute=True), tenant_scope(moderator):
        decision(actor=moderator, organisation=Organisation.objects.get(pk=ghana.pk))

    assert ghana_api.post(f"/api/v1/listings/{draft.pk}/submit/").status_code == 200
    assert ghana_api.post(f"/api/v1/matches/{match.pk}/interest/", {"message": "We can"}).status_code == 200
    assert bob_api.post(f"/api/v1/matches/{match.pk}/messages/", {"message": "Good"}).status_code == 201
    assert ghana_api.post(f"/api/v1/matches/{match.pk}/messages/", {"message": "Yes"}).status_code == 201
    alert = {"name": "Farm schemes", "channels": [{"type": "inbox"}]}
    assert ghana_api.post("/api/v1/subscriptions/", alert, format="json").status_code == 201
    assert ghana_api.post(f"/api/v1/partnerships/{partnership}/confirm/").status_code == 200


def test_the_pages_refuse_with_the_same_words_and_show_the_banner(
    world: dict[str, Any], ghana: Organisation, yaw: User
) -> None:
    put_in(ghana, "suspended")
    client = signed_in(yaw)
    dashboard = client.get("/dashboard/").content.decode()
    assert f"Your organisation is suspended: {REASON}" in dashboard
    assert "cannot submit listings" in dashboard
    refused = client.post(f"/listings/{world['draft'].pk}/submit/")
    assert refused.status_code == 403 and f"suspended: {REASON}" in refused.content.decode()
    # The listing's page still opens, without the button to submit it.
    detail = client.get(f"/listings/{world['draft'].pk}/")
    assert detail.status_code == 200 and f"/listings/{world['draft'].pk}/submit/" not in detail.content.decode()


def test_a_verified_government_sees_no_banner_and_agencies_are_never_gated(
    ghana: Organisation, yaw: User, agency: Organisation, mona: User
) -> None:
    assert "cannot submit listings" not in signed_in(yaw).get("/dashboard/").content.decode()
    put_in(agency, "pending")
    assert "cannot submit listings" not in signed_in(mona).get("/dashboard/").content.decode()
    mona_api = token_client(mona, Organisation.objects.get(pk=agency.pk))
    alert = {"name": "Everything", "channels": [{"type": "inbox"}]}
    assert mona_api.post("/api/v1/subscriptions/", alert, format="json").status_code == 201
