"""Who reads which listing: each state × role × tenant. Anything not visible is a 404."""

from __future__ import annotations

import pytest

from opportunities.models import Listing
from tests.conftest import token_client
from tests.factories import OrganisationFactory, member
from tests.opportunities.test_listing_workflow import STATES, listing_in

pytestmark = pytest.mark.django_db

OWNER_ROLES = ("owner_admin", "owner_official", "owner_viewer")


@pytest.fixture
def readers(spain, rosa, agency, mona, morocco, charlie, italy, bob):
    philippines = OrganisationFactory(
        name="Department of Migrant Workers", slug="ph-dmw", country="PH", is_origin=True, is_destination=False
    )
    return {
        "owner_admin": (member(spain, "admin", email="jefa@inclusion.gob.example"), spain),
        "owner_official": (rosa, spain),
        "owner_viewer": (member(spain, "viewer", email="lector@inclusion.gob.example"), spain),
        "partner_government": (charlie, morocco),  # MA is among the partner countries
        "other_government": (member(philippines, "official", email="ana@dmw.gov.example"), philippines),
        "moderator": (mona, agency),
        "agency_viewer": (member(agency, "viewer", email="reader@ilma.example"), agency),
    }


def expected_visible(state: str, visibility: str, reader: str) -> bool:
    if reader in OWNER_ROLES:
        return True
    if state == "draft":
        return False
    if state in ("submitted", "changes_requested", "rejected"):
        return reader == "moderator"
    # published, or history (closed, withdrawn, expired): per visibility
    if reader in ("moderator", "agency_viewer"):
        return True
    if visibility == "partners":
        return reader == "partner_government"
    return True


@pytest.mark.parametrize("visibility", ["members", "partners", "public"])
@pytest.mark.parametrize("state", STATES)
def test_each_reader_sees_exactly_what_the_rules_allow(state, visibility, readers, spain_actor, moderator, anon_api):
    listing = listing_in(state, spain_actor, moderator)
    Listing.objects.filter(pk=listing.pk).update(visibility=visibility)
    for reader, (user, org) in readers.items():
        client = token_client(user, org)
        detail = client.get(f"/api/v1/listings/{listing.id}/")
        listed = {row["id"] for row in client.get("/api/v1/listings/?page_size=100").json()["results"]}
        if expected_visible(state, visibility, reader):
            assert detail.status_code == 200, (reader, state, visibility)
            assert str(listing.id) in listed
        else:
            assert detail.status_code == 404, (reader, state, visibility)
            assert detail.json() == {"detail": "Not found."}
            assert str(listing.id) not in listed
    # Anonymous callers use the public API; the private API asks them to sign in.
    assert anon_api.get(f"/api/v1/listings/{listing.id}/").status_code == 401


def test_the_owner_alone_may_edit_even_when_others_can_read(readers, spain_actor, moderator):
    listing = listing_in("draft", spain_actor, moderator)
    Listing.objects.filter(pk=listing.pk).update(visibility="members")
    for reader, (user, org) in readers.items():
        response = token_client(user, org).patch(
            f"/api/v1/listings/{listing.id}/", {"title": f"Edited by {reader}"}, format="json"
        )
        if reader in ("owner_admin", "owner_official"):
            assert response.status_code == 200
        elif reader == "owner_viewer":
            assert response.status_code == 403
        else:
            assert response.status_code == 404
    listing.refresh_from_db()
    assert listing.title == "Edited by owner_official"  # the last permitted editor, no one after
