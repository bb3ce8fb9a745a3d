"""Moderation pages: the queue, the review with its diff, the three decisions."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tenancy import Actor, tenant_scope
from opportunities.inputs import ListingWriteSerializer, json_payload, listing_write_data
from opportunities.models import Listing, ListingRevision, ListingStatus, ListingTransition, RevisionStatus
from opportunities.services import listing_transition, listing_update
from tests.opportunities.conftest import create_listing, publish, seasonal_scheme, worker_offer

pytestmark = pytest.mark.django_db

QUEUE = "/moderation/"


def review_url(listing: Listing) -> str:
    return f"/moderation/{listing.pk}/"


def decide_url(listing: Listing, action: str) -> str:
    return f"/moderation/{listing.pk}/{action}/"


def submitted(actor: Actor, days_ago: int, **overrides: Any) -> Listing:
    listing = create_listing(actor, seasonal_scheme(**overrides))
    with tenant_scope(actor):
        listing_transition(actor=actor, listing=listing, action="submit")
    Listing.objects.filter(pk=listing.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=days_ago))
    return Listing.objects.get(pk=listing.pk)


def propose(listing: Listing, actor: Actor, **changes: Any) -> ListingRevision:
    """Edit a published listing as the API does: the edit becomes a pending revision."""
    listing = Listing.objects.prefetch_related("occupation_lines").get(pk=listing.pk)
    body = ListingWriteSerializer(listing, data=changes, partial=True, context={"actor": actor})
    body.is_valid(raise_exception=True)
    payload = json_payload({**listing_write_data(listing), **body.validated_data})
    with tenant_scope(actor):
        listing_update(actor=actor, listing=listing, data=body.validated_data, payload=payload)
    return listing.revisions.get(status=RevisionStatus.PENDING)


@pytest.fixture
def mona_client(mona: Any) -> Client:
    client = Client()
    client.force_login(mona)
    return client


@pytest.fixture
def queue_items(spain_actor: Actor, morocco_actor: Actor, moderator: Actor) -> dict[str, Any]:
    """A new listing waiting 3 days, a revision waiting 5 days, a new offer waiting 1 day, and noise."""
    new = submitted(spain_actor, 3, title="Strawberry harvest, Huelva")
    offer = create_listing(morocco_actor, worker_offer(title="Moroccan bricklayers"))
    listing_transition(actor=morocco_actor, listing=offer, action="submit")
    Listing.objects.filter(pk=offer.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=1))
    published = publish(
        create_listing(spain_actor, seasonal_scheme(title="Citrus harvest, Valencia")), spain_actor, moderator
    )
    revision = propose(published, spain_actor, title="Citrus and olive harvest, Valencia", annual_cap=1200)
    ListingRevision.objects.filter(pk=revision.pk).update(created_at=timezone.now() - datetime.timedelta(days=5))
    create_listing(spain_actor, seasonal_scheme(title="A draft nobody moderates"))
    publish(create_listing(spain_actor, seasonal_scheme(title="Published, nothing pending")), spain_actor, moderator)
    return {"new": new, "offer": offer, "published": published, "revision": revision}


def test_the_queue_lists_submissions_and_revisions_oldest_first_with_their_age(mona_client, queue_items):
    response = mona_client.get(QUEUE)
    assert response.status_code == 200
    html = response.content.decode()
    order = [
        html.index(title)
        for title in ("Citrus harvest, Valencia", "Strawberry harvest, Huelva", "Moroccan bricklayers")
    ]
    assert order == sorted(order)
    assert "A draft nobody moderates" not in html and "Published, nothing pending" not in html
    assert "waiting 5\xa0days" in html and "waiting 3\xa0days" in html and "waiting 1\xa0day" in html
    assert "Revision" in html and "New listing" in html
    assert "Ministry of Inclusion, Social Security and Migration" in html and "Spain" in html and "Morocco" in html
    assert "Seasonal work scheme" in html
    assert 'href="/moderation/export.csv"' in html


def test_the_queue_downloads_as_csv_in_the_same_order(mona_client, queue_items):
    response = mona_client.get("/moderation/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == [
        "Citrus harvest, Valencia",
        "Strawberry harvest, Huelva",
        "Moroccan bricklayers",
    ]
    assert [row[6] for row in rows[1:]] == ["revision", "new listing", "new listing"]
    assert [row[8] for row in rows[1:]] == ["5", "3", "1"]


def test_the_queue_is_paginated(mona_client, spain_actor):
    for n in range(26):
        submitted(spain_actor, 30 - n, title=f"Scheme number {n:02d}")
    first = mona_client.get(QUEUE).content.decode()
    assert "Scheme number 00" in first and "Scheme number 25" not in first and "Page 1 of 2" in first
    second = mona_client.get(QUEUE + "?page=2").content.decode()
    assert "Scheme number 25" in second and "Scheme number 00" not in second


def test_the_queue_makes_a_fixed_number_of_queries(mona_client, spain_actor, django_assert_max_num_queries):
    for n in range(3):
        submitted(spain_actor, n, title=f"Scheme {n}")
    with django_assert_max_num_queries(8) as few:
        assert mona_client.get(QUEUE).status_code == 200
    for n in range(3, 20):
        submitted(spain_actor, n, title=f"Scheme {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert mona_client.get(QUEUE).status_code == 200


@pytest.mark.parametrize("path", [QUEUE, "/moderation/export.csv"])
def test_governments_and_agency_staff_who_are_not_moderators_get_403(path, bob, alice, agency):
    from tests.factories import member

    agency_admin = member(agency, "admin", email="boss@ilma.example")
    for user in (bob, alice, agency_admin):
        client = Client()
        client.force_login(user)
        assert client.get(path).status_code == 403


def test_a_government_cannot_review_or_decide(queue_items, rosa):
    client = Client()
    client.force_login(rosa)  # the owner itself
    listing = queue_items["new"]
    assert client.get(review_url(listing)).status_code == 403
    assert client.post(decide_url(listing, "approve")).status_code == 403
    listing.refresh_from_db()
    assert listing.status == ListingStatus.SUBMITTED


def test_signed_out_visitors_are_sent_to_sign_in():
    response = Client().get(QUEUE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_review_of_a_revision_shows_the_diff_with_old_and_new_values(mona_client, queue_items):
    response = mona_client.get(review_url(queue_items["published"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<table class="diff">' in html
    diff = html[html.index('<table class="diff">') : html.index("</table>", html.index('<table class="diff">'))]
    assert '<th scope="row">Title</th>' in diff and '<th scope="row">Annual cap</th>' in diff
    assert "Citrus harvest, Valencia</del>" in diff
    assert "Citrus and olive harvest, Valencia</ins>" in diff
    assert "1000</del>" in diff and "1200</ins>" in diff
    assert "Window starts" not in diff  # unchanged fields are not listed
    assert "Approve the revision" in html and "Reject the revision" in html


def test_the_diff_of_occupation_lines_marks_only_what_changed(mona_client, spain_actor, moderator):
    listing = publish(create_listing(spain_actor, seasonal_scheme(title="Lines")), spain_actor, moderator)
    propose(
        listing,
        spain_actor,
        occupation_lines=[
            {"isco_code": "9211", "quantity": 950, "languages": [{"language": "es", "level": "A1"}]},
            {"isco_code": "2221", "quantity": 20},
        ],
        allocations=[{"country": "MA", "places": 800}],
    )
    html = mona_client.get(review_url(listing)).content.decode()
    diff = html[html.index('<table class="diff">') :]
    assert "2221 Nursing professionals: 20; skill level 4</ins>" in diff
    # The unchanged line is shown on both sides, neither struck nor inserted.
    assert diff.count("<div>9211 Crop farm labourers: 950; skill level 1; languages: Spanish A1</div>") == 2
    assert "Senegal (SN): 150 places</del>" in diff
    assert diff.count("<div>Morocco (MA): 800 places</div>") == 2  # unchanged allocation, shown plainly


def test_the_review_of_a_new_listing_shows_the_whole_listing(mona_client, queue_items):
    html = mona_client.get(review_url(queue_items["new"])).content.decode()
    assert "Strawberry harvest, Huelva" in html
    assert "9211" in html and "950" in html  # the occupation line
    assert "Morocco (MA)" in html and "Senegal (SN)" in html  # partner countries
    assert "Housing provided" in html
    assert '<table class="diff">' not in html
    assert "Approve and publish" in html and "Request changes" in html and "Reject the listing" in html
    assert 'id="id_reason"' in html and 'for="id_reason"' in html


def test_requesting_changes_without_a_reason_is_an_inline_error_and_changes_nothing(mona_client, queue_items):
    listing = queue_items["new"]
    response = mona_client.post(decide_url(listing, "request-changes"), {"reason": "  "})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html and 'href="#id_reason"' in html
    assert "Give the owner a reason." in html
    listing.refresh_from_db()
    assert listing.status == ListingStatus.SUBMITTED
    assert not ListingTransition.objects.filter(listing=listing, action="request_changes").exists()


def test_requesting_changes_with_a_reason_sends_the_listing_back(mona_client, queue_items, mona):
    listing = queue_items["new"]
    reason = "The wage floor is below the sector's collective agreement."
    response = mona_client.post(decide_url(listing, "request-changes"), {"reason": reason}, follow=True)
    assert response.redirect_chain[-1][0] == QUEUE
    assert "Changes to “Strawberry harvest, Huelva” are requested" in response.content.decode()
    listing.refresh_from_db()
    assert listing.status == ListingStatus.CHANGES_REQUESTED
    step = ListingTransition.objects.get(listing=listing, action="request_changes")
    assert step.reason == reason and step.actor == mona and step.to_status == ListingStatus.CHANGES_REQUESTED
    assert "Strawberry harvest, Huelva" not in mona_client.get(QUEUE).content.decode()


def test_approving_publishes_and_rejecting_needs_a_reason(mona_client, queue_items):
    new, offer = queue_items["new"], queue_items["offer"]
    response = mona_client.post(decide_url(new, "approve"), {"reason": ""})
    assert response.status_code == 302 and response["Location"] == QUEUE
    new.refresh_from_db()
    assert new.status == ListingStatus.PUBLISHED and new.published_at is not None

    refused = mona_client.post(decide_url(offer, "reject"), {"reason": ""})
    assert refused.status_code == 200 and "Give the owner a reason." in refused.content.decode()
    offer.refresh_from_db()
    assert offer.status == ListingStatus.SUBMITTED
    mona_client.post(decide_url(offer, "reject"), {"reason": "Not a government scheme."})
    offer.refresh_from_db()
    assert offer.status == ListingStatus.REJECTED
    assert ListingTransition.objects.get(listing=offer, action="reject").reason == "Not a government scheme."


def test_approving_a_revision_publishes_the_change(mona_client, queue_items):
    listing = queue_items["published"]
    response = mona_client.post(decide_url(listing, "approve"), {"reason": ""}, follow=True)
    assert "The revision of" in response.content.decode()
    listing.refresh_from_db()
    assert listing.title == "Citrus and olive harvest, Valencia" and listing.annual_cap == 1200
    assert queue_items["revision"].__class__.objects.get(pk=queue_items["revision"].pk).status == "approved"


def test_rejecting_a_revision_keeps_the_published_version(mona_client, queue_items):
    listing = queue_items["published"]
    mona_client.post(decide_url(listing, "reject"), {"reason": "The cap exceeds the agreed quota."})
    listing.refresh_from_db()
    assert listing.title == "Citrus harvest, Valencia" and listing.status == ListingStatus.PUBLISHED
    revision = ListingRevision.objects.get(pk=queue_items["revision"].pk)
    assert revision.status == RevisionStatus.REJECTED and revision.reason == "The cap exceeds the agreed quota."


def test_deciding_twice_shows_the_conflict(mona_client, queue_items):
    listing = queue_items["new"]
    mona_client.post(decide_url(listing, "reject"), {"reason": "Duplicate of another scheme."})
    again = mona_client.post(decide_url(listing, "approve"), {"reason": ""})
    assert again.status_code == 409
    html = again.content.decode()
    assert "Cannot approve a listing that is rejected." in html
    assert "Nothing here waits for a decision" in html
    listing.refresh_from_db()
    assert listing.status == ListingStatus.REJECTED

    published = queue_items["published"]
    mona_client.post(decide_url(published, "approve"), {"reason": ""})
    twice = mona_client.post(decide_url(published, "approve"), {"reason": ""})
    assert twice.status_code == 409
    assert "has no pending revision to decide" in twice.content.decode()


def test_an_unknown_decision_or_listing_is_404(mona_client, queue_items, spain_actor):
    assert mona_client.post(decide_url(queue_items["new"], "publish")).status_code == 404
    draft = create_listing(spain_actor, seasonal_scheme(title="Draft"))
    assert mona_client.get(review_url(draft)).status_code == 404  # moderators never see drafts
    assert mona_client.post(decide_url(draft, "approve")).status_code == 404


def test_a_get_on_a_decision_goes_back_to_the_review(mona_client, queue_items):
    listing = queue_items["new"]
    response = mona_client.get(decide_url(listing, "approve"))
    assert response.status_code == 302 and response["Location"] == review_url(listing)
    listing.refresh_from_db()
    assert listing.status == ListingStatus.SUBMITTED
