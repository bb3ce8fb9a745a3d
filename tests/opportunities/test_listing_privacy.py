"""A published listing is shared; its moderation feedback and revisions are not.

Italy publishes a listing visible to members, proposes a revision that the agency
rejects with a reason, then proposes another that is still pending. Italy and the
agency's staff read the reason, who decided it and the pending revision; Moldova,
the Philippines and Germany read the listing and when it was published, and none
of that, in the API (detail, list, history, revisions, CSV), on the pages and in
the feeds.
"""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from tests.conftest import signed_in, token_client
from tests.factories import OrganisationFactory, member
from tests.opportunities.conftest import seasonal_scheme

pytestmark = pytest.mark.django_db

REJECT_REASON = "The wage floor is below the sector's collective agreement in Trentino."
CHANGES_REASON = "Say which accommodation is provided on the farms."
REJECTED_TITLE = "Apple harvest, Trentino (cheaper contracts)"
PENDING_TITLE = "Apple and pear harvest, Trentino"
MODERATOR = "Mona Moderator"
OFFICIAL = "Bob Bianchi"
# (Bob is also the listing's contact, which every reader sees: his name is not private here.)
PRIVATE = (REJECT_REASON, CHANGES_REASON, REJECTED_TITLE, PENDING_TITLE, MODERATOR, "mona@ilma.example")


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201), (response.status_code, getattr(response, "content", b"")[:500])
    return response


@pytest.fixture
def shared_listing(bob_api: APIClient, mona: User, agency: Organisation, request: Any) -> dict[str, Any]:
    """Italy's published listing with a rejected revision and a pending one; its visibility is the param."""
    visibility = getattr(request, "param", "members")
    moderator = token_client(mona, agency)
    body = seasonal_scheme(title="Apple harvest, Trentino", visibility=visibility, partner_countries=[])
    body.pop("allocations")
    listing = _ok(bob_api.post("/api/v1/listings/", body, format="json")).json()
    url = f"/api/v1/listings/{listing['id']}/"
    _ok(bob_api.post(f"{url}submit/"))
    _ok(moderator.post(f"{url}request-changes/", {"reason": CHANGES_REASON}, format="json"))
    _ok(bob_api.post(f"{url}submit/"))
    _ok(moderator.post(f"{url}approve/"))
    _ok(bob_api.patch(url, {"title": REJECTED_TITLE}, format="json"))
    _ok(moderator.post(f"{url}reject/", {"reason": REJECT_REASON}, format="json"))
    _ok(bob_api.patch(url, {"title": PENDING_TITLE}, format="json"))
    return {"id": listing["id"], "url": url}


def _government(slug: str, country: str) -> tuple[APIClient, Client]:
    org = OrganisationFactory(slug=slug, country=country, is_origin=True)
    user = member(org, "official", email=f"official@{slug}.example")
    return token_client(user, org), signed_in(user)


@pytest.fixture
def outsiders() -> list[tuple[APIClient, Client]]:
    return [_government("md-labour", "MD"), _government("ph-dmw", "PH"), _government("de-ba", "DE")]


def _assert_none_of(text: str) -> None:
    leaked = [value for value in PRIVATE if value in text or html.escape(value) in text]
    assert leaked == [], leaked


def test_other_governments_read_the_listing_but_none_of_its_moderation(shared_listing, outsiders):
    url, pk = shared_listing["url"], shared_listing["id"]
    for api, web in outsiders:
        detail = _ok(api.get(url)).json()
        assert detail["title"] == "Apple harvest, Trentino"  # the published version, still live
        assert detail["pending_revision"] is None
        listed = next(item for item in _ok(api.get("/api/v1/listings/")).json()["results"] if item["id"] == pk)
        assert listed["pending_revision"] is None

        history = _ok(api.get(f"{url}history/")).json()
        assert [step["to_status"] for step in history] == ["published"]
        assert all(step["actor"] is None and step["organisation"] is None and step["reason"] == "" for step in history)
        assert _ok(api.get(f"{url}revisions/")).json() == []

        for response in (
            api.get(url),
            api.get(f"{url}history/"),
            api.get("/api/v1/listings/export/"),
            web.get(f"/listings/{pk}/"),
            web.get("/listings/"),
            web.get("/listings/export.csv"),
        ):
            _ok(response)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            _assert_none_of(body.decode())


def test_the_owner_and_the_agencies_read_the_reasons_and_the_pending_revision(
    shared_listing, bob_api, bob_web, mona, agency
):
    url, pk = shared_listing["url"], shared_listing["id"]
    viewer = member(agency, "viewer", email="victor@ilma.example", full_name="Victor Viewer")
    for api, web in (
        (bob_api, bob_web),
        (token_client(mona, agency), signed_in(mona)),
        (token_client(viewer, agency), signed_in(viewer)),
    ):
        assert _ok(api.get(url)).json()["pending_revision"] is not None
        history = _ok(api.get(f"{url}history/")).json()
        reasons = {step["action"]: step["reason"] for step in history}
        assert reasons["request_changes"] == CHANGES_REASON
        assert reasons["revision_reject"] == REJECT_REASON
        assert {step["actor"] for step in history} >= {MODERATOR, OFFICIAL}
        revisions = _ok(api.get(f"{url}revisions/")).json()
        assert {r["status"]: r["reason"] for r in revisions}["rejected"] == REJECT_REASON
        page = _ok(web.get(f"/listings/{pk}/")).content.decode()
        assert html.escape(CHANGES_REASON) in page and html.escape(REJECT_REASON) in page and MODERATOR in page


@pytest.mark.parametrize("shared_listing", ["public"], indirect=True)
def test_the_public_reads_a_public_listing_without_its_moderation(shared_listing):
    pk = shared_listing["id"]
    anonymous = APIClient()
    for response in (
        anonymous.get(f"/api/v1/public/listings/{pk}/"),
        Client().get(f"/public/listings/{pk}/"),
        Client().get("/public/listings/export.csv"),
        Client().get("/feeds/listings.atom"),
    ):
        _ok(response)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert "Apple harvest, Trentino" in body.decode()
        _assert_none_of(body.decode())
