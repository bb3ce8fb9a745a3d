"""Moderation in the browser: a moderator sends a listing back, the owner sees why, the moderator
approves the resubmission, and anyone finds it on the public pages."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from django.utils import timezone

from accounts.tenancy import Actor
from opportunities.inputs import ListingWriteSerializer, json_payload, listing_write_data
from opportunities.models import Listing, ListingStatus, ListingTransition
from opportunities.services import listing_transition, listing_update
from tests.factories import AgencyFactory, OrganisationFactory, member
from tests.opportunities.conftest import create_listing, seasonal_scheme


def propose(listing: Listing, actor: Actor, **changes: Any) -> None:
    """The owner edits a published listing, as the API does: a pending revision."""
    listing = Listing.objects.prefetch_related("occupation_lines").get(pk=listing.pk)
    body = ListingWriteSerializer(listing, data=changes, partial=True, context={"actor": actor})
    body.is_valid(raise_exception=True)
    payload = json_payload({**listing_write_data(listing), **body.validated_data})
    listing_update(actor=actor, listing=listing, data=body.validated_data, payload=payload)


REASON = "Say how much is deducted from wages for housing."


def test_a_listing_goes_through_moderation_to_the_public_pages(visitor_factory: Any) -> None:
    germany = OrganisationFactory(
        name="Federal Employment Agency", slug="de-employment", country="DE", is_destination=True
    )
    greta = member(germany, "official", email="greta@arbeitsagentur.example", full_name="Greta Schulz")
    agency = AgencyFactory(name="International Labour Mobility Agency", slug="ilma")
    mona = member(agency, "moderator", email="mona@ilma.example", full_name="Mona Moderator")
    owner = Actor(user=greta, organisation=germany, role="official")
    listing = create_listing(
        owner,
        seasonal_scheme(
            title="Nurses for hospitals in Lower Saxony",
            summary="Two-year contracts in public hospitals, with German courses paid.",
            description="Qualifications are recognised before departure; housing for the first six months.",
            scheme_type="talent_partnership",
            sectors=["Q"],
            partner_countries=["MA", "PH"],
            allocations=[{"country": "MA", "places": 100}, {"country": "PH", "places": 100}],
            annual_cap=200,
            season_earliest_start="",
            season_latest_end="",
            occupation_lines=[{"isco_code": "2221", "quantity": 200, "languages": [{"language": "de", "level": "B1"}]}],
            visibility="public",
        ),
    )
    listing_transition(actor=owner, listing=listing, action="submit")
    Listing.objects.filter(pk=listing.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=2, hours=3))
    # Another government's scheme has waited longer: it heads the queue.
    italy = OrganisationFactory(name="Ministry of Labour", slug="it-labour", country="IT", is_destination=True)
    bruno = member(italy, "official", email="bruno@lavoro.example", full_name="Bruno Conti")
    italian = Actor(user=bruno, organisation=italy, role="official")
    olive = create_listing(
        italian, seasonal_scheme(title="Olive harvest, Apulia", partner_countries=["TN", "MA"], allocations=[])
    )
    listing_transition(actor=italian, listing=olive, action="submit")
    Listing.objects.filter(pk=olive.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=4))

    # The moderator opens the queue and reviews the new listing.
    moderator = visitor_factory()
    moderator.sign_in_as(mona)
    moderator.go("/moderation/", screenshot="moderation-queue")
    page = moderator.page
    row = page.get_by_role("row").filter(has_text="Nurses for hospitals in Lower Saxony")
    assert "New listing" in row.text_content() and "waiting 2\xa0days" in row.text_content()
    rows = page.get_by_role("row").all_inner_texts()
    assert "Olive harvest, Apulia" in rows[1] and "Nurses for hospitals" in rows[2]  # oldest first
    moderator.reset()
    row.get_by_role("link", name="Nurses for hospitals in Lower Saxony").click()
    page.wait_for_url(f"**/moderation/{listing.pk}/")
    moderator.check(screenshot="moderation-review")
    assert page.get_by_role("heading", level=1).inner_text() == "Nurses for hospitals in Lower Saxony"
    assert page.get_by_role("cell", name=re.compile("Nursing professionals")).count() == 1

    # Sending it back without a reason is refused inline, the field named and focusable.
    moderator.reset()
    page.get_by_role("button", name="Request changes").click()
    page.wait_for_load_state("load")
    moderator.check()
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    assert "Give the owner a reason." in summary.inner_text()
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_reason"
    page.keyboard.type(REASON)
    moderator.reset()
    page.get_by_role("button", name="Request changes").click()
    page.wait_for_url("**/moderation/")
    moderator.check()
    assert "are requested; the owner sees your reason" in page.get_by_role("status").inner_text()
    listing.refresh_from_db()
    assert listing.status == ListingStatus.CHANGES_REQUESTED
    assert ListingTransition.objects.get(listing=listing, action="request_changes").reason == REASON

    # The owner sees the moderator's reason on the dashboard.
    official = visitor_factory()
    official.sign_in_as(greta)
    official.go("/dashboard/", screenshot="dashboard-government")
    awaiting = official.page.locator("section").filter(has_text="Awaiting your action")
    assert REASON in awaiting.inner_text()
    assert "Nurses for hospitals in Lower Saxony" in awaiting.inner_text()

    # The owner resubmits (through the service); the moderator approves it.
    listing_transition(actor=owner, listing=listing, action="submit")
    moderator.go(f"/moderation/{listing.pk}/")
    assert "Changes requested by Mona Moderator" in page.locator(".timeline").inner_text()
    page.get_by_label("Reason for the owner").fill("Thank you: the deductions are now stated.")
    moderator.reset()
    page.get_by_role("button", name="Approve and publish").click()
    page.wait_for_url("**/moderation/")
    moderator.check()
    assert "is approved and published" in page.get_by_role("status").inner_text()
    listing = Listing.objects.get(pk=listing.pk)
    assert listing.status == ListingStatus.PUBLISHED

    # Anyone finds it on the public pages, in French words too, with its JSON-LD.
    anonymous = visitor_factory()
    anonymous.go("/public/listings/")
    anonymous.page.get_by_role("searchbox", name=re.compile("^Search")).fill("infirmiers")
    anonymous.reset()
    anonymous.page.get_by_role("button", name="Search listings").click()
    anonymous.page.wait_for_url("**/public/listings/?**")
    anonymous.check(screenshot="public-listings")
    assert anonymous.page.get_by_role("heading", name="1 listing").count() == 1
    anonymous.reset()
    anonymous.page.get_by_role("link", name="Nurses for hospitals in Lower Saxony").click()
    anonymous.page.wait_for_url(f"**/public/listings/{listing.pk}/")
    anonymous.check(screenshot="public-listing")
    assert "Nursing professionals" in anonymous.page.get_by_role("table").inner_text()
    data = json.loads(anonymous.page.locator('script[type="application/ld+json"]').text_content())
    assert data["@type"] == "JobPosting" and data["title"] == "Nurses for hospitals in Lower Saxony"
    assert data["occupationalCategory"][0]["codeValue"] == "2221" and data["totalJobOpenings"] == 200

    # The owner proposes an edit of the published listing: the moderator's dashboard shows it
    # waiting, and its review is a side-by-side diff.
    propose(
        listing, owner, annual_cap=240, allocations=[{"country": "MA", "places": 120}, {"country": "PH", "places": 120}]
    )
    moderator.go("/dashboard/", screenshot="dashboard-agency")
    queue = page.locator("section").filter(has_text="Moderation queue")
    assert "Revision" in queue.text_content() and "Olive harvest, Apulia" in queue.text_content()
    moderator.reset()
    queue.get_by_role("link", name="Nurses for hospitals in Lower Saxony").click()
    page.wait_for_url(f"**/moderation/{listing.pk}/")
    moderator.check(screenshot="moderation-revision")
    diff = page.locator("table.diff")
    assert any("200" in text for text in diff.locator("del").all_inner_texts())
    assert any("240" in text for text in diff.locator("ins").all_inner_texts())

    for person in (moderator, official, anonymous):
        assert person.console_errors == []
