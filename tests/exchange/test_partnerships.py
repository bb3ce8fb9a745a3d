"""Partnerships: creation, confirmation, visibility, edits, documents and the outsider's 404s.

Italy (Alice, admin; Bob, official) creates partnerships and names Morocco (Charlie,
admin); Spain (Rosa, official) is the outsider unless named; Mona moderates at an
agency, which can never be a member.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Organisation, User
from accounts.tenancy import Actor, tenant_scope, unscoped
from exchange.models import Match, MatchState, MemberState, Partnership, PartnershipDocument, PartnershipMember
from exchange.partnerships.services import partnership_document_upload
from opportunities.models import Listing
from tests.conftest import token_client
from tests.factories import OrganisationFactory, member
from tests.opportunities.conftest import create_listing, publish, seasonal_scheme, worker_offer

pytestmark = pytest.mark.django_db

URL = "/api/v1/partnerships/"
TODAY = timezone.localdate()


# --- Fixtures and builders ----------------------------------------------------------------


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def spain(db: Any) -> Organisation:
    return OrganisationFactory(
        name="Ministry of Inclusion, Social Security and Migration", slug="es-inclusion", country="ES"
    )


@pytest.fixture
def rosa(spain: Organisation) -> User:
    return member(spain, "official", email="rosa@inclusion.gob.example", full_name="Rosa Martín")


@pytest.fixture
def rosa_api(rosa: User, spain: Organisation) -> APIClient:
    return token_client(rosa, spain)


@pytest.fixture
def mona_api(mona: User, agency: Organisation) -> APIClient:
    return token_client(mona, agency)


@pytest.fixture
def italy_actor(italy: Organisation, alice: User) -> Actor:
    return Actor(user=alice, organisation=italy, role="admin")


@pytest.fixture
def morocco_actor(morocco: Organisation, charlie: User) -> Actor:
    return Actor(user=charlie, organisation=morocco, role="admin")


@pytest.fixture
def moderator(agency: Organisation, mona: User) -> Actor:
    return Actor(user=mona, organisation=agency, role="moderator")


def create(client: APIClient, **body: Any) -> Any:
    return client.post(URL, body, format="json")


def detail(partnership: Any, suffix: str = "") -> str:
    pk = partnership["id"] if isinstance(partnership, dict) else partnership.pk
    return f"{URL}{pk}/{suffix}"


@pytest.fixture
def partnership(alice_api: APIClient, morocco: Organisation, charlie: User) -> dict[str, Any]:
    """Italy's mobility partnership with Morocco, Morocco invited and not yet confirmed."""
    response = create(
        alice_api, name="Italy–Morocco mobility partnership", kind="mobility_partnership", members=[str(morocco.pk)]
    )
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def confirmed(partnership: dict[str, Any], charlie_api: APIClient) -> dict[str, Any]:
    assert charlie_api.post(detail(partnership, "confirm/")).status_code == 200
    return partnership


def in_force_public(client: APIClient, partnership: dict[str, Any]) -> None:
    signed = client.patch(detail(partnership), {"status": "signed", "signed_on": "2024-03-01"}, format="json")
    assert signed.status_code == 200, signed.json()
    in_force = client.patch(
        detail(partnership), {"status": "in_force", "in_force_from": "2024-06-01", "public": True}, format="json"
    )
    assert in_force.status_code == 200, in_force.json()


def published(owner: Actor, moderator: Actor, payload: dict[str, Any]) -> Listing:
    return publish(create_listing(owner, payload), owner, moderator)


def a_match(demand: Listing, supply: Listing, state: str = MatchState.AGREED) -> Match:
    # Matches are computed by the matching engine; a test only needs one in a given state.
    return Match.objects.create(
        demand=demand,
        supply=supply,
        demand_owner=demand.owner,
        supply_owner=supply.owner,
        score=0.8,
        state=state,
        computed_at=timezone.now(),
    )


def pdf(name: str = "agreement.pdf", size: int = 200) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.7\n" + b"0" * size, content_type="application/pdf")


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, content in files.items():
            package.writestr(name, content)
    return buffer.getvalue()


DOCX = zipped({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
ODT = zipped({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office:document/>"})
XLSX = zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def upload(client: APIClient, partnership: dict[str, Any], file: SimpleUploadedFile, **extra: Any) -> Any:
    body = {"file": file, "document_type": "agreement", **extra}
    return client.post(detail(partnership, "documents/"), body, format="multipart")


def audit_actions(organisation: Organisation) -> list[str]:
    with unscoped("assertion"):
        return list(AuditEvent.objects.filter(organisation=organisation).values_list("action", flat=True))


# --- Creation -------------------------------------------------------------------------------


def test_a_government_creates_a_partnership_and_becomes_its_first_confirmed_member(
    alice_api, italy, morocco, partnership
):
    assert partnership["name"] == "Italy–Morocco mobility partnership"
    assert partnership["kind"] == "mobility_partnership"
    assert partnership["status"] == "negotiating"
    assert partnership["public"] is False
    assert set(partnership["members"]) == {str(italy.pk), str(morocco.pk)}
    states = {m["organisation"]["id"]: m["state"] for m in partnership["memberships"]}
    assert states == {str(italy.pk): "confirmed", str(morocco.pk): "invited"}
    assert partnership["my_membership"] == "confirmed"
    assert partnership["created_by_organisation"] == str(italy.pk)
    with unscoped("assertion"):
        event = AuditEvent.objects.get(organisation=italy, action="partnership.created")
    assert event.object_id == partnership["id"]
    assert set(event.changes["members"]) == {str(italy.pk), str(morocco.pk)}


def test_naming_its_own_organisation_among_the_members_changes_nothing(alice_api, italy, morocco):
    response = create(
        alice_api, name="MoU", kind="memorandum_of_understanding", members=[str(italy.pk), str(morocco.pk)]
    )
    assert response.status_code == 201
    assert PartnershipMember.objects.filter(partnership_id=response.json()["id"]).count() == 2


@pytest.mark.parametrize("missing", ["name", "kind", "members"])
def test_it_requires_a_name_a_kind_and_members(alice_api, morocco, missing):
    body = {"name": "Talent partnership", "kind": "talent_partnership", "members": [str(morocco.pk)]}
    del body[missing]
    response = create(alice_api, **body)
    assert response.status_code == 400
    assert missing in response.json()
    assert not Partnership.objects.exists()


def test_it_rejects_an_empty_member_list_a_blank_name_and_an_unknown_kind(alice_api):
    response = create(alice_api, name="  ", kind="friendship", members=[])
    assert response.status_code == 400
    assert set(response.json()) == {"name", "kind", "members"}


def test_it_rejects_an_unknown_member_id_naming_only_members(alice_api, morocco):
    ghost = "00000000-0000-4000-8000-000000000000"
    response = create(alice_api, name="X", kind="talent_partnership", members=[str(morocco.pk), ghost])
    assert response.status_code == 400
    assert list(response.json()) == ["members"]
    assert ghost in response.json()["members"][0]
    assert not Partnership.objects.exists()


def test_it_rejects_a_member_id_that_is_not_a_uuid(alice_api):
    response = create(alice_api, name="X", kind="talent_partnership", members=["morocco"])
    assert response.status_code == 400 and "members" in response.json()


def test_it_rejects_an_agency_as_a_member(alice_api, agency):
    response = create(alice_api, name="X", kind="talent_partnership", members=[str(agency.pk)])
    assert response.status_code == 400
    assert "only governments can be members" in response.json()["members"][0]


def test_it_rejects_an_inactive_government_as_a_member(alice_api, morocco):
    morocco.is_active = False
    morocco.save(update_fields=["is_active"])
    response = create(alice_api, name="X", kind="talent_partnership", members=[str(morocco.pk)])
    assert response.status_code == 400 and "members" in response.json()


def test_it_rejects_a_partnership_with_no_other_government(alice_api, italy):
    response = create(alice_api, name="X", kind="talent_partnership", members=[str(italy.pk)])
    assert response.status_code == 400
    assert "at least one other government" in response.json()["members"][0]


def test_it_rejects_a_partnership_between_governments_of_one_country(alice_api):
    interior = OrganisationFactory(name="Ministry of the Interior", slug="it-interior", country="IT")
    response = create(alice_api, name="X", kind="talent_partnership", members=[str(interior.pk)])
    assert response.status_code == 400
    assert "at least two countries" in response.json()["members"][0]


def test_an_agency_cannot_create_a_partnership(mona_api, morocco):
    response = create(mona_api, name="X", kind="talent_partnership", members=[str(morocco.pk)])
    assert response.status_code == 403
    assert not Partnership.objects.exists()


def test_a_viewer_cannot_create_a_partnership(italy, morocco):
    viewer = member(italy, "viewer", email="vera@lavoro.gov.example")
    response = create(token_client(viewer, italy), name="X", kind="talent_partnership", members=[str(morocco.pk)])
    assert response.status_code == 403


def test_it_groups_listings_of_members_that_the_creator_can_see(
    alice_api, italy_actor, morocco_actor, moderator, morocco
):
    scheme = published(italy_actor, moderator, seasonal_scheme())
    offer = published(morocco_actor, moderator, worker_offer())
    response = create(
        alice_api,
        name="Seasonal work",
        kind="bilateral_labour_agreement",
        members=[str(morocco.pk)],
        listings=[str(scheme.pk), str(offer.pk)],
    )
    assert response.status_code == 201, response.json()
    assert set(response.json()["listings"]) == {str(scheme.pk), str(offer.pk)}


def test_it_rejects_a_listing_the_creator_cannot_see(alice_api, morocco_actor, morocco):
    draft = create_listing(morocco_actor, worker_offer(title="moroccan-draft"))
    response = create(
        alice_api, name="X", kind="talent_partnership", members=[str(morocco.pk)], listings=[str(draft.pk)]
    )
    assert response.status_code == 400
    assert response.json()["listings"] == [f"No listing you can see has the id '{draft.pk}'."]


def test_it_rejects_a_listing_of_a_government_that_is_not_a_member(alice_api, moderator, morocco, spain, rosa):
    spanish = published(Actor(user=rosa, organisation=spain, role="official"), moderator, seasonal_scheme())
    response = create(
        alice_api, name="X", kind="talent_partnership", members=[str(morocco.pk)], listings=[str(spanish.pk)]
    )
    assert response.status_code == 400
    assert "not posted by a member government" in response.json()["listings"][0]


def test_it_groups_an_agreed_match_between_two_members(alice_api, italy_actor, morocco_actor, moderator, morocco):
    match = a_match(
        published(italy_actor, moderator, seasonal_scheme()), published(morocco_actor, moderator, worker_offer())
    )
    response = create(
        alice_api, name="X", kind="talent_partnership", members=[str(morocco.pk)], matches=[str(match.pk)]
    )
    assert response.status_code == 201, response.json()
    assert response.json()["matches"] == [str(match.pk)]


def test_it_rejects_a_match_that_is_not_agreed(alice_api, italy_actor, morocco_actor, moderator, morocco):
    match = a_match(
        published(italy_actor, moderator, seasonal_scheme()),
        published(morocco_actor, moderator, worker_offer()),
        state=MatchState.IN_DIALOGUE,
    )
    response = create(
        alice_api, name="X", kind="talent_partnership", members=[str(morocco.pk)], matches=[str(match.pk)]
    )
    assert response.status_code == 400
    assert "only agreed matches" in response.json()["matches"][0]


def test_it_rejects_a_match_the_creator_cannot_see(alice_api, morocco_actor, moderator, morocco, spain, rosa):
    spanish = published(Actor(user=rosa, organisation=spain, role="official"), moderator, seasonal_scheme())
    match = a_match(spanish, published(morocco_actor, moderator, worker_offer()))
    response = create(
        alice_api, name="X", kind="talent_partnership", members=[str(morocco.pk)], matches=[str(match.pk)]
    )
    assert response.status_code == 400
    assert response.json()["matches"] == [f"No match you can see has the id '{match.pk}'."]


def test_it_rejects_an_agreed_match_with_a_government_that_is_not_a_member(
    alice_api, italy_actor, morocco_actor, moderator, spain
):
    match = a_match(
        published(italy_actor, moderator, seasonal_scheme()), published(morocco_actor, moderator, worker_offer())
    )
    response = create(alice_api, name="X", kind="talent_partnership", members=[str(spain.pk)], matches=[str(match.pk)])
    assert response.status_code == 400
    assert "not between two member governments" in response.json()["matches"][0]


def test_an_agreement_already_in_force_can_be_recorded_as_such(alice_api, morocco):
    response = create(
        alice_api,
        name="Circular migration agreement",
        kind="circular_migration_agreement",
        members=[str(morocco.pk)],
        status="in_force",
        signed_on="2008-06-05",
        in_force_from="2008-07-01",
        ends_on="2028-06-30",
        public=True,
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "in_force"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "signed"}, "signed_on"),
        ({"status": "in_force", "signed_on": "2024-01-01"}, "in_force_from"),
        ({"status": "ended"}, "ends_on"),
        ({"signed_on": "2024-05-01", "in_force_from": "2024-04-01"}, "in_force_from"),
        ({"in_force_from": "2024-05-01", "ends_on": "2024-04-30"}, "ends_on"),
        ({"signed_on": "2024-05-01", "ends_on": "2024-04-30"}, "ends_on"),
        ({"signed_on": "01/05/2024"}, "signed_on"),
        ({"status": "ratified"}, "status"),
    ],
)
def test_it_rejects_dates_that_do_not_fit_the_status_or_each_other(alice_api, morocco, body, field):
    response = create(alice_api, name="X", kind="talent_partnership", members=[str(morocco.pk)], **body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Partnership.objects.exists()


# --- Confirmation ---------------------------------------------------------------------------


def test_an_invited_government_sees_the_partnership_and_confirms_it(charlie_api, partnership, morocco, italy):
    seen = charlie_api.get(detail(partnership))
    assert seen.status_code == 200
    assert seen.json()["my_membership"] == "invited"
    assert partnership["id"] in [p["id"] for p in charlie_api.get(URL).json()["results"]]

    response = charlie_api.post(detail(partnership, "confirm/"))
    assert response.status_code == 200
    assert response.json()["my_membership"] == "confirmed"
    row = PartnershipMember.objects.get(partnership_id=partnership["id"], organisation=morocco)
    assert row.state == MemberState.CONFIRMED and row.confirmed_at is not None
    assert "partnership.member_confirmed" in audit_actions(morocco)
    assert "partnership.member_confirmed" not in audit_actions(italy)


def test_confirming_twice_is_a_conflict(charlie_api, confirmed):
    response = charlie_api.post(detail(confirmed, "confirm/"))
    assert response.status_code == 409
    assert "already confirmed" in response.json()["detail"]


def test_a_viewer_cannot_confirm_for_their_government(partnership, morocco):
    viewer = member(morocco, "viewer", email="viewer@emploi.gov.example")
    assert token_client(viewer, morocco).post(detail(partnership, "confirm/")).status_code == 403


def test_an_invited_government_cannot_change_the_partnership_before_confirming(charlie_api, partnership):
    response = charlie_api.patch(detail(partnership), {"name": "Renamed"}, format="json")
    assert response.status_code == 403
    assert "Confirm" in response.json()["detail"]


def test_an_invited_government_cannot_leave_but_declines(charlie_api, partnership, morocco):
    assert charlie_api.post(detail(partnership, "leave/")).status_code == 409
    assert charlie_api.post(detail(partnership, "decline/")).status_code == 204
    assert PartnershipMember.objects.get(partnership_id=partnership["id"], organisation=morocco).state == "declined"
    assert "partnership.member_declined" in audit_actions(morocco)
    # Having declined, Morocco no longer sees it, and cannot confirm after all.
    assert charlie_api.get(detail(partnership)).status_code == 404
    assert charlie_api.post(detail(partnership, "confirm/")).status_code == 404


def test_a_confirmed_member_cannot_decline_but_leaves(charlie_api, confirmed, morocco):
    assert charlie_api.post(detail(confirmed, "decline/")).status_code == 409
    assert charlie_api.post(detail(confirmed, "leave/")).status_code == 204
    assert PartnershipMember.objects.get(partnership_id=confirmed["id"], organisation=morocco).state == "left"
    assert "partnership.member_left" in audit_actions(morocco)
    assert charlie_api.get(detail(confirmed)).status_code == 404


def test_the_last_confirmed_member_cannot_leave(alice_api, partnership):
    response = alice_api.post(detail(partnership, "leave/"))
    assert response.status_code == 409
    assert "last confirmed member" in response.json()["detail"]


def test_leaving_ungroups_the_members_listings_and_matches(
    alice_api, charlie_api, confirmed, italy_actor, morocco_actor, moderator
):
    scheme = published(italy_actor, moderator, seasonal_scheme())
    offer = published(morocco_actor, moderator, worker_offer())
    match = a_match(scheme, offer)
    body = {"listings": [str(scheme.pk), str(offer.pk)], "matches": [str(match.pk)]}
    assert alice_api.patch(detail(confirmed), body, format="json").status_code == 200
    assert charlie_api.post(detail(confirmed, "leave/")).status_code == 204
    after = alice_api.get(detail(confirmed)).json()
    assert after["listings"] == [str(scheme.pk)]
    assert after["matches"] == []


# --- Visibility -----------------------------------------------------------------------------


def test_an_outsider_gets_404_for_a_private_partnership_and_does_not_see_it_listed(rosa_api, mona_api, partnership):
    for client in (rosa_api, mona_api):
        response = client.get(detail(partnership))
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
        assert client.get(URL).json()["results"] == []


def test_a_public_partnership_still_negotiating_stays_private(alice_api, rosa_api, partnership):
    assert alice_api.patch(detail(partnership), {"public": True}, format="json").status_code == 200
    assert rosa_api.get(detail(partnership)).status_code == 404


def test_a_private_partnership_in_force_stays_private(alice_api, rosa_api, partnership):
    in_force_public(alice_api, partnership)
    assert alice_api.patch(detail(partnership), {"public": False}, format="json").status_code == 200
    assert rosa_api.get(detail(partnership)).status_code == 404


def test_a_public_partnership_in_force_is_visible_to_everyone_but_its_documents_are_not(
    alice_api, rosa_api, mona_api, partnership, italy
):
    in_force_public(alice_api, partnership)
    document = upload(alice_api, partnership, pdf()).json()
    for client in (rosa_api, mona_api):
        response = client.get(detail(partnership))
        assert response.status_code == 200
        body = response.json()
        assert body["my_membership"] is None
        # Outsiders see the confirmed parties only, not who has been invited.
        assert body["members"] == [str(italy.pk)]
        assert partnership["id"] in [p["id"] for p in client.get(URL).json()["results"]]
        assert client.get(detail(partnership, "documents/")).status_code == 404
        assert client.get(detail(partnership, f"documents/{document['id']}/")).status_code == 404
        assert client.get(detail(partnership, f"documents/{document['id']}/download/")).status_code == 404
        assert client.delete(detail(partnership, f"documents/{document['id']}/")).status_code == 404
        assert client.post(detail(partnership, "documents/"), {"file": pdf()}, format="multipart").status_code == 404
        # Reading is not joining: no edits, no confirmation.
        assert client.patch(detail(partnership), {"name": "Hijacked"}, format="json").status_code == 403
        assert client.post(detail(partnership, "confirm/")).status_code == 403
    assert Partnership.objects.get(pk=partnership["id"]).name == partnership["name"]


def test_the_list_filters_by_status_kind_member_and_name(alice_api, partnership, morocco, italy):
    create(alice_api, name="Social security", kind="social_security_agreement", members=[str(morocco.pk)])

    def names(query: str) -> list[str]:
        response = alice_api.get(URL + query)
        assert response.status_code == 200, response.json()
        return sorted(p["name"] for p in response.json()["results"])

    assert names("?kind=social_security_agreement") == ["Social security"]
    assert names("?q=mobility") == [partnership["name"]]
    assert names("?status=in_force") == []
    assert len(names(f"?member={italy.pk}")) == 2
    assert names(f"?member={morocco.pk}") == []  # invited, not yet confirmed
    assert alice_api.get(URL + "?public=perhaps").status_code == 400


def test_the_list_costs_the_same_number_of_queries_for_one_or_many(alice_api, morocco, partnership):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert alice_api.get(URL).status_code == 200
        return len(queries)

    one = count()
    for n in range(4):
        create(alice_api, name=f"Partnership {n}", kind="talent_partnership", members=[str(morocco.pk)])
    assert count() == one


# --- Edits ----------------------------------------------------------------------------------


def test_a_partnership_moves_from_negotiating_to_signed_to_in_force_to_ended(alice_api, partnership, italy):
    url = detail(partnership)
    response = alice_api.patch(url, {"status": "signed"}, format="json")
    assert response.status_code == 400 and "signed_on" in response.json()
    assert alice_api.patch(url, {"status": "signed", "signed_on": "2024-03-01"}, format="json").status_code == 200
    response = alice_api.patch(url, {"status": "in_force"}, format="json")
    assert response.status_code == 400 and "in_force_from" in response.json()
    response = alice_api.patch(url, {"status": "in_force", "in_force_from": "2024-02-01"}, format="json")
    assert response.status_code == 400 and "in_force_from" in response.json()
    assert alice_api.patch(url, {"status": "in_force", "in_force_from": "2024-06-01"}, format="json").status_code == 200
    response = alice_api.patch(url, {"status": "ended"}, format="json")
    assert response.status_code == 400 and "ends_on" in response.json()
    response = alice_api.patch(url, {"status": "ended", "ends_on": "2024-05-01"}, format="json")
    assert response.status_code == 400 and "ends_on" in response.json()
    ended = alice_api.patch(url, {"status": "ended", "ends_on": str(TODAY)}, format="json")
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    with unscoped("assertion"):
        statuses = [
            e.changes["status"]
            for e in AuditEvent.objects.filter(organisation=italy, action="partnership.updated").order_by("created_at")
            if "status" in e.changes
        ]
    assert statuses == [["negotiating", "signed"], ["signed", "in_force"], ["in_force", "ended"]]


@pytest.mark.parametrize(
    ("start", "target"),
    [("signed", "negotiating"), ("in_force", "signed"), ("negotiating", "in_force"), ("ended", "in_force")],
)
def test_a_status_cannot_skip_ahead_or_go_back(alice_api, morocco, start, target):
    body = {
        "name": "X",
        "kind": "talent_partnership",
        "members": [str(morocco.pk)],
        "status": start,
        "signed_on": "2024-01-01",
        "in_force_from": "2024-02-01",
        "ends_on": "2024-12-31",
    }
    if start == "negotiating":
        body.update(signed_on=None, in_force_from="2024-02-01", ends_on=None)
    created = create(alice_api, **body)
    assert created.status_code == 201, created.json()
    response = alice_api.patch(detail(created.json()), {"status": target}, format="json")
    assert response.status_code == 400
    assert "status" in response.json()


def test_a_dates_change_that_breaks_the_order_is_rejected(alice_api, partnership):
    in_force_public(alice_api, partnership)
    response = alice_api.patch(detail(partnership), {"signed_on": "2024-07-01"}, format="json")
    assert response.status_code == 400 and "in_force_from" in response.json()
    response = alice_api.patch(detail(partnership), {"signed_on": None}, format="json")
    assert response.status_code == 400 and "signed_on" in response.json()


def test_an_official_of_a_confirmed_member_edits_and_every_change_is_audited(bob_api, partnership, italy):
    response = bob_api.patch(
        detail(partnership), {"name": "Renamed", "kind": "talent_partnership", "public": True}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["kind"], response.json()["public"]) == (
        "Renamed",
        "talent_partnership",
        True,
    )
    with unscoped("assertion"):
        event = AuditEvent.objects.get(organisation=italy, action="partnership.updated")
    assert event.changes == {
        "name": ["Italy–Morocco mobility partnership", "Renamed"],
        "kind": ["mobility_partnership", "talent_partnership"],
        "public": [False, True],
    }


def test_a_patch_that_changes_nothing_writes_no_audit_row(alice_api, partnership, italy):
    assert alice_api.patch(detail(partnership), {"name": partnership["name"]}, format="json").status_code == 200
    assert "partnership.updated" not in audit_actions(italy)


def test_a_viewer_of_a_member_cannot_edit(partnership, italy):
    viewer = member(italy, "viewer", email="vera@lavoro.gov.example")
    client = token_client(viewer, italy)
    assert client.get(detail(partnership)).status_code == 200
    assert client.patch(detail(partnership), {"name": "Renamed"}, format="json").status_code == 403


def test_a_patch_with_an_invalid_field_saves_nothing(alice_api, partnership):
    response = alice_api.patch(detail(partnership), {"name": "Renamed", "status": "signed"}, format="json")
    assert response.status_code == 400
    assert Partnership.objects.get(pk=partnership["id"]).name == partnership["name"]


def test_put_and_delete_are_not_offered(alice_api, partnership):
    assert alice_api.put(detail(partnership), {"name": "X"}, format="json").status_code == 405
    assert alice_api.delete(detail(partnership)).status_code == 405


def test_members_invite_more_governments_and_reinvite_one_that_declined(
    alice_api, charlie_api, rosa_api, partnership, spain, morocco, italy
):
    assert charlie_api.post(detail(partnership, "decline/")).status_code == 204
    response = alice_api.patch(detail(partnership), {"members": [str(spain.pk), str(morocco.pk)]}, format="json")
    assert response.status_code == 200
    assert set(response.json()["members"]) == {str(italy.pk), str(morocco.pk), str(spain.pk)}
    assert rosa_api.get(detail(partnership)).json()["my_membership"] == "invited"
    assert charlie_api.get(detail(partnership)).json()["my_membership"] == "invited"
    with unscoped("assertion"):
        event = AuditEvent.objects.get(organisation=italy, action="partnership.updated")
    assert sorted(event.changes["members"]["invited"]) == sorted([str(spain.pk), str(morocco.pk)])


def test_members_are_not_removed_by_leaving_them_out(alice_api, partnership, morocco):
    response = alice_api.patch(detail(partnership), {"members": []}, format="json")
    assert response.status_code == 200
    assert str(morocco.pk) in response.json()["members"]


def test_adding_an_agency_as_a_member_is_rejected(alice_api, partnership, agency):
    response = alice_api.patch(detail(partnership), {"members": [str(agency.pk)]}, format="json")
    assert response.status_code == 400 and "members" in response.json()


def test_listings_are_replaced_but_another_members_draft_is_kept(
    alice_api, charlie_api, confirmed, italy_actor, morocco_actor, moderator
):
    scheme = published(italy_actor, moderator, seasonal_scheme())
    draft = create_listing(morocco_actor, worker_offer(title="moroccan-draft"))
    assert charlie_api.patch(detail(confirmed), {"listings": [str(draft.pk)]}, format="json").status_code == 200
    # Italy cannot read Morocco's draft, so it does not see it grouped, and cannot drop it.
    italian = alice_api.patch(detail(confirmed), {"listings": [str(scheme.pk)]}, format="json")
    assert italian.status_code == 200
    assert italian.json()["listings"] == [str(scheme.pk)]
    moroccan = charlie_api.get(detail(confirmed)).json()["listings"]
    assert sorted(moroccan) == sorted([str(scheme.pk), str(draft.pk)])
    assert alice_api.patch(detail(confirmed), {"listings": []}, format="json").status_code == 200
    assert charlie_api.get(detail(confirmed)).json()["listings"] == [str(draft.pk)]


def test_a_listing_the_editor_cannot_see_is_rejected_on_patch(alice_api, confirmed, morocco_actor):
    draft = create_listing(morocco_actor, worker_offer(title="moroccan-draft"))
    response = alice_api.patch(detail(confirmed), {"listings": [str(draft.pk)]}, format="json")
    assert response.status_code == 400 and "listings" in response.json()


def test_a_match_that_is_not_agreed_is_rejected_on_patch(alice_api, confirmed, italy_actor, morocco_actor, moderator):
    match = a_match(
        published(italy_actor, moderator, seasonal_scheme()),
        published(morocco_actor, moderator, worker_offer()),
        state=MatchState.SUGGESTED,
    )
    response = alice_api.patch(detail(confirmed), {"matches": [str(match.pk)]}, format="json")
    assert response.status_code == 400 and "matches" in response.json()


# --- Documents ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("agreement.pdf", b"%PDF-1.7\n" + b"0" * 100, "application/pdf"),
        ("annex.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("annex.odt", ODT, "application/vnd.oasis.opendocument.text"),
        ("signing.png", PNG, "image/png"),
        ("signing.JPG", JPEG, "image/jpeg"),
        ("signing.jpeg", JPEG, "image/jpeg"),
    ],
)
def test_a_confirmed_member_uploads_each_accepted_type(alice_api, partnership, italy, name, content, content_type):
    response = upload(alice_api, partnership, SimpleUploadedFile(name, content, content_type="text/plain"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["original_filename"] == name
    assert body["content_type"] == content_type  # from the checked type, not the client's claim
    assert body["size"] == len(content)
    assert body["uploaded_by_organisation"]["id"] == str(italy.pk)
    assert body["download_url"] == detail(partnership, f"documents/{body['id']}/download/")


def test_a_document_is_stored_under_a_name_no_one_can_guess(alice_api, partnership, _media):
    body = upload(alice_api, partnership, pdf("Confidential annex.pdf")).json()
    stored = PartnershipDocument.objects.get(pk=body["id"]).file
    assert "Confidential" not in stored.name and body["id"] not in stored.name
    assert stored.name.startswith("private/partnerships/") and stored.name.endswith(".pdf")
    assert len(Path(stored.name).stem) == 64
    assert (Path(_media) / stored.name).exists()


@pytest.mark.parametrize(
    ("name", "content", "rule"),
    [
        ("payload.exe", b"MZ\x90\x00", "Upload a PDF, DOCX, ODT, PNG or JPEG file"),
        ("agreement", b"%PDF-1.7\n", "Upload a PDF, DOCX, ODT, PNG or JPEG file"),
        ("agreement.pdf", PNG, "content is not a PDF file"),
        ("agreement.pdf", b"<html><script>alert(1)</script>", "content is not a PDF file"),
        ("annex.docx", XLSX, "content is not a DOCX file"),
        ("annex.docx", b"PK\x03\x04 not really a zip", "content is not a DOCX file"),
        ("annex.odt", DOCX, "content is not a ODT file"),
        ("photo.png", JPEG, "content is not a PNG file"),
        ("photo.jpg", PNG, "content is not a JPG file"),
    ],
)
def test_it_rejects_a_file_whose_type_or_content_is_not_accepted(alice_api, partnership, name, content, rule):
    response = upload(alice_api, partnership, SimpleUploadedFile(name, content))
    assert response.status_code == 400
    assert list(response.json()) == ["file"]
    assert rule in response.json()["file"][0]
    assert not PartnershipDocument.objects.exists()


def test_it_rejects_a_file_over_the_size_limit(alice_api, partnership, settings, _media):
    settings.PARTNERSHIP_DOCUMENT_MAX_BYTES = 1000
    response = upload(alice_api, partnership, pdf(size=1000))
    assert response.status_code == 400
    assert "larger than the limit of 1000 bytes" in response.json()["file"][0]
    assert upload(alice_api, partnership, pdf(size=900)).status_code == 201
    assert len(list(Path(_media).rglob("*.pdf"))) == 1  # nothing stored for the refused one


def test_it_rejects_an_empty_file_and_a_missing_document_type(alice_api, partnership):
    response = alice_api.post(
        detail(partnership, "documents/"), {"file": SimpleUploadedFile("a.pdf", b"")}, format="multipart"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"file", "document_type"}


def test_an_upload_is_audited(alice_api, partnership, italy):
    body = upload(alice_api, partnership, pdf(), title="Signed text", document_type="agreement").json()
    with unscoped("assertion"):
        event = AuditEvent.objects.get(organisation=italy, action="partnership.document_uploaded")
    assert event.object_id == partnership["id"]
    assert event.changes["document"] == body["id"] and event.changes["filename"] == "agreement.pdf"


def test_an_invited_member_reads_documents_but_cannot_upload(alice_api, charlie_api, partnership):
    document = upload(alice_api, partnership, pdf()).json()
    listed = charlie_api.get(detail(partnership, "documents/"))
    assert listed.status_code == 200
    assert [d["id"] for d in listed.json()["results"]] == [document["id"]]
    assert charlie_api.get(document["download_url"]).status_code == 200
    assert upload(charlie_api, partnership, pdf()).status_code == 403


def test_a_download_is_an_attachment_that_browsers_must_not_sniff(alice_api, charlie_api, confirmed):
    document = upload(alice_api, confirmed, pdf('Accord "final" été.pdf')).json()
    response = charlie_api.get(document["download_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == ("attachment; filename*=utf-8''Accord%20%22final%22%20%C3%A9t%C3%A9.pdf")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-1.7")


def test_a_file_name_loses_its_path_and_control_characters(partnership, italy_actor):
    found = Partnership.objects.get(pk=partnership["id"])  # as the view finds it, before the service
    with tenant_scope(italy_actor):
        document = partnership_document_upload(
            actor=italy_actor,
            partnership=found,
            file=SimpleUploadedFile("Annex\r\n1\x00.pdf", b"%PDF-1.4\n"),
            document_type="annex",
        )
    assert document.original_filename == "Annex1.pdf"


def test_the_uploading_organisation_deletes_its_document_and_the_file_goes(
    alice_api, bob_api, charlie_api, confirmed, italy, _media, django_capture_on_commit_callbacks
):
    document = upload(alice_api, confirmed, pdf()).json()
    stored = Path(_media) / PartnershipDocument.objects.get(pk=document["id"]).file.name
    url = detail(confirmed, f"documents/{document['id']}/")
    assert charlie_api.delete(url).status_code == 403  # another member's document
    with django_capture_on_commit_callbacks(execute=True):
        assert bob_api.delete(url).status_code == 204  # any official of the uploading organisation
    assert not PartnershipDocument.objects.exists()
    assert not stored.exists()
    assert "partnership.document_deleted" in audit_actions(italy)
    assert alice_api.get(url).status_code == 404


def test_a_member_that_left_loses_the_documents(alice_api, charlie_api, confirmed):
    document = upload(alice_api, confirmed, pdf()).json()
    assert charlie_api.post(detail(confirmed, "leave/")).status_code == 204
    assert charlie_api.get(detail(confirmed, "documents/")).status_code == 404
    assert charlie_api.get(document["download_url"]).status_code == 404


def test_a_document_of_another_partnership_is_not_reachable_through_this_one(alice_api, partnership, morocco):
    other = create(alice_api, name="Other", kind="talent_partnership", members=[str(morocco.pk)]).json()
    document = upload(alice_api, other, pdf()).json()
    assert alice_api.get(detail(partnership, f"documents/{document['id']}/download/")).status_code == 404


# --- The outsider, on every route and method --------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_an_outsider_gets_404_or_405_on_every_partnership_route(method, alice_api, rosa_api, partnership):
    document = upload(alice_api, partnership, pdf()).json()
    routes = [
        detail(partnership),
        detail(partnership, "confirm/"),
        detail(partnership, "decline/"),
        detail(partnership, "leave/"),
        detail(partnership, "documents/"),
        detail(partnership, f"documents/{document['id']}/"),
        detail(partnership, f"documents/{document['id']}/download/"),
    ]
    for url in routes:
        response = getattr(rosa_api, method)(url, {}, format="json")
        assert response.status_code in (404, 405), (url, method, response.status_code)
        assert response["Content-Type"].startswith("application/json")
        assert partnership["name"] not in response.content.decode()
    assert PartnershipMember.objects.filter(partnership_id=partnership["id"]).count() == 2
    assert PartnershipDocument.objects.count() == 1


def test_an_anonymous_caller_is_refused(anon_api, partnership):
    assert anon_api.get(URL).status_code == 401
    assert anon_api.get(detail(partnership)).status_code == 401


def test_a_malformed_id_is_a_404(alice_api):
    assert alice_api.get(URL + "not-a-uuid/").status_code == 404
    assert alice_api.get(URL + "not-a-uuid/documents/").status_code == 404


def test_dates_in_the_response_round_trip(alice_api, morocco):
    signed = TODAY - timedelta(days=30)
    body = create(
        alice_api,
        name="X",
        kind="talent_partnership",
        members=[str(morocco.pk)],
        status="signed",
        signed_on=str(signed),
    ).json()
    assert body["signed_on"] == signed.isoformat()
    assert date.fromisoformat(body["signed_on"]) == signed


# --- The operators' admin -------------------------------------------------------------------


def test_the_admin_lists_and_opens_every_tenants_partnerships(client, alice_api, partnership):
    from tests.factories import UserFactory

    document = upload(alice_api, partnership, pdf()).json()
    client.force_login(UserFactory(email="operator@corridor.example", is_staff=True, is_superuser=True))
    listed = client.get("/admin/exchange/partnership/")
    assert listed.status_code == 200 and partnership["name"] in listed.content.decode()
    opened = client.get(f"/admin/exchange/partnership/{partnership['id']}/change/")
    assert opened.status_code == 200
    assert document["original_filename"] in opened.content.decode()
    assert client.get("/admin/exchange/partnership/add/").status_code == 403
