"""Verification in the browser: an agency moderator verifies a pending government from the
queue, and a suspended government's official sees why on every page."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from accounts.models import Organisation, OrganisationReview
from accounts.tenancy import unscoped
from tests.factories import AgencyFactory, OrganisationFactory, member

REASON = "The ministry's mandate is under review by the cabinet"


def test_a_moderator_verifies_a_pending_government_from_the_queue(visitor_factory: Any) -> None:
    agency = AgencyFactory(name="International Labour Mobility Agency", slug="ilma")
    mona = member(agency, "moderator", email="mona@ilma.example", full_name="Mona Moderator")
    ghana = OrganisationFactory(
        name="Ministry of Labour, Jobs and Employment", slug="gh-employment", country="GH", pending=True
    )
    member(ghana, "admin", email="kofi@labour.gov.example", full_name="Kofi Mensah")
    Organisation.objects.filter(pk=ghana.pk).update(created_at=timezone.now() - datetime.timedelta(days=3, hours=2))
    # Another government joined earlier: it heads the queue.
    OrganisationFactory(name="Ministry of Public Service and Labour", slug="ke-labour", country="KE", pending=True)
    Organisation.objects.filter(slug="ke-labour").update(created_at=timezone.now() - datetime.timedelta(days=9))
    OrganisationFactory(name="Ministry already verified", slug="verified-one", country="SN")

    moderator = visitor_factory()
    moderator.sign_in_as(mona)
    moderator.go("/dashboard/")
    moderator.reset()
    moderator.page.get_by_role("link", name="Verification").click()
    moderator.page.wait_for_url("**/moderation/organisations/")
    moderator.check(screenshot="verification-queue")
    page = moderator.page
    rows = page.get_by_role("row").all_inner_texts()
    assert "Ministry of Public Service and Labour" in rows[1] and "Ministry of Labour, Jobs" in rows[2]
    assert not any("Ministry already verified" in row for row in rows)
    row = page.get_by_role("row").filter(has_text="Ministry of Labour, Jobs and Employment")
    assert "waiting 3\xa0days" in row.inner_text()

    moderator.reset()
    row.get_by_role("button", name="Verify Ministry of Labour, Jobs and Employment").click()
    page.wait_for_url("**/moderation/organisations/")
    moderator.check()
    assert "is verified" in page.get_by_role("status").inner_text()
    assert page.get_by_role("row").filter(has_text="Ministry of Labour, Jobs and Employment").count() == 0
    ghana.refresh_from_db()
    assert ghana.verification_status == "verified" and ghana.verified_at is not None

    # The decision is in the organisation's history, with who took it.
    moderator.go(f"/moderation/organisations/{ghana.pk}/", screenshot="verification-review")
    assert "Verified by Mona Moderator" in page.locator(".timeline").inner_text()
    with unscoped("assertion"):
        assert OrganisationReview.objects.filter(organisation=ghana, action="verify").count() == 1


def test_a_suspended_governments_official_sees_why_on_every_page(visitor_factory: Any) -> None:
    ghana = OrganisationFactory(
        name="Ministry of Labour, Jobs and Employment", slug="gh-employment", country="GH", suspended=True
    )
    Organisation.objects.filter(pk=ghana.pk).update(suspension_reason=REASON)
    yaw = member(ghana, "official", email="yaw@labour.gov.example", full_name="Yaw Boateng")

    official = visitor_factory()
    official.sign_in_as(yaw)
    for path in ("/dashboard/", "/listings/", "/alerts/"):
        official.go(path, screenshot="verification-banner" if path == "/dashboard/" else None)
        banner = official.page.locator(".standing-banner").inner_text()
        assert f"Your organisation is suspended: {REASON}." in banner
        assert "cannot submit listings" in banner
