"""Partnership pages: Germany creates one with the Philippines, which confirms; documents are
shared among the two; Moldova, not a member, meets 404s everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from exchange.models import MemberState, Partnership, PartnershipDocument
from tests.exchange.conftest import offer, published, scheme
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def nurses_scheme(germany_actor, moderator):
    return published(germany_actor, moderator, scheme(title="Triple Win: nurses for German hospitals"))


@pytest.fixture
def partnership(greta_web, germany, philippines, nurses_scheme) -> Partnership:
    response = greta_web.post(
        "/partnerships/new/",
        {
            "name": "Germany–Philippines health workforce partnership",
            "kind": "talent_partnership",
            "members": [str(philippines.pk)],
            "status": "negotiating",
            "listings": [str(nurses_scheme.pk)],
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    return Partnership.objects.get()


def pdf(name: str = "memorandum.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.7\n" + b"0" * 200, content_type="application/pdf")


def text(response: Any) -> str:
    return response.content.decode()


def test_create_then_the_named_government_confirms(partnership, greta_web, paolo_web, germany, philippines):
    page = text(greta_web.get(f"/partnerships/{partnership.pk}/"))
    assert "Germany–Philippines health workforce partnership" in page
    assert "Triple Win: nurses for German hospitals" in page
    assert "Department of Migrant Workers" in page and "Invited" in page
    assert "Edit the partnership" in page and "Upload a document" in page

    listed = text(paolo_web.get("/partnerships/"))
    assert "Germany–Philippines health workforce partnership" in listed
    assert "Federal Employment Agency" in listed and "Confirm membership" in listed
    invited = text(paolo_web.get(f"/partnerships/{partnership.pk}/"))
    assert "Your organisation is invited" in invited and "Upload a document" not in invited
    assert paolo_web.get(f"/partnerships/{partnership.pk}/edit/").status_code == 403

    confirm = paolo_web.get(f"/partnerships/{partnership.pk}/confirm/")
    assert confirm.status_code == 200 and "Confirm that Department of Migrant Workers is a member" in text(confirm)
    done = paolo_web.post(f"/partnerships/{partnership.pk}/confirm/", follow=True)
    assert "now a confirmed member" in text(done)
    assert partnership.memberships.get(organisation=philippines).state == MemberState.CONFIRMED
    assert "Your organisation is invited" not in text(done)
    # Confirming twice: the service's message, on the page.
    again = paolo_web.post(f"/partnerships/{partnership.pk}/confirm/", follow=True)
    assert "already confirmed" in text(again)


def test_the_form_shows_the_services_rules_inline(greta_web, germany):
    response = greta_web.post(
        "/partnerships/new/", {"name": "Alone", "kind": "talent_partnership", "members": [], "status": "negotiating"}
    )
    assert response.status_code == 400 and "There is a problem" in text(response)
    assert 'href="#id_members"' in text(response)
    foreign_office = OrganisationFactory(name="Federal Foreign Office", slug="de-aa", country="DE")
    response = greta_web.post(
        "/partnerships/new/",
        {
            "name": "German only",
            "kind": "talent_partnership",
            "members": [str(foreign_office.pk)],
            "status": "signed",
        },
    )
    assert response.status_code == 400
    assert "A partnership is between the governments of at least two countries." in text(response)
    assert not Partnership.objects.exists()


def test_the_creator_edits_status_and_dates(partnership, greta_web):
    page = greta_web.get(f"/partnerships/{partnership.pk}/edit/")
    assert page.status_code == 200 and 'value="Germany–Philippines health workforce partnership"' in text(page)
    data = {
        "name": "Germany–Philippines health workforce partnership",
        "kind": "talent_partnership",
        "status": "signed",
        "listings": [str(pk) for pk in partnership.listings.values_list("pk", flat=True)],
    }
    missing_date = greta_web.post(f"/partnerships/{partnership.pk}/edit/", data)
    assert missing_date.status_code == 400 and "needs the date it was signed" in text(missing_date)
    saved = greta_web.post(f"/partnerships/{partnership.pk}/edit/", {**data, "signed_on": "2025-03-01"})
    assert saved.status_code == 302
    partnership.refresh_from_db()
    assert partnership.status == "signed" and str(partnership.signed_on) == "2025-03-01"
    assert partnership.listings.count() == 1


def test_non_members_get_404_everywhere(partnership, mihai_web, greta_web):
    document = greta_web.post(f"/partnerships/{partnership.pk}/documents/", {"file": pdf(), "document_type": "minutes"})
    assert document.status_code == 302
    stored = PartnershipDocument.objects.get()
    assert "Germany–Philippines" not in text(mihai_web.get("/partnerships/"))
    for path in ("", "edit/", "confirm/", f"documents/{stored.pk}/"):
        assert mihai_web.get(f"/partnerships/{partnership.pk}/{path}").status_code == 404, path
    upload = mihai_web.post(f"/partnerships/{partnership.pk}/documents/", {"file": pdf(), "document_type": "annex"})
    assert upload.status_code == 404
    assert mihai_web.post(f"/partnerships/{partnership.pk}/confirm/").status_code == 404
    assert PartnershipDocument.objects.count() == 1


def test_a_bad_upload_shows_the_error_and_a_good_one_downloads_as_an_attachment(
    partnership, greta_web, paolo_web, mihai_web
):
    bad = greta_web.post(
        f"/partnerships/{partnership.pk}/documents/",
        {
            "file": SimpleUploadedFile("minutes.txt", b"just text", content_type="text/plain"),
            "document_type": "minutes",
        },
    )
    assert bad.status_code == 400
    assert "Upload a PDF, DOCX, ODT, PNG or JPEG file" in text(bad) and 'href="#id_file"' in text(bad)
    renamed = greta_web.post(
        f"/partnerships/{partnership.pk}/documents/",
        {"file": SimpleUploadedFile("annex.pdf", b"PK\x03\x04 not a pdf"), "document_type": "annex"},
    )
    assert renamed.status_code == 400 and "is not a PDF file" in text(renamed)
    assert not PartnershipDocument.objects.exists()

    good = greta_web.post(
        f"/partnerships/{partnership.pk}/documents/",
        {"file": pdf(), "document_type": "agreement", "title": "Memorandum of understanding"},
        follow=True,
    )
    assert "“memorandum.pdf” uploaded." in text(good) and "Memorandum of understanding" in text(good)
    document = PartnershipDocument.objects.get()

    # Paolo, invited, is a member: he downloads it.
    download = paolo_web.get(f"/partnerships/{partnership.pk}/documents/{document.pk}/")
    assert download.status_code == 200
    assert (
        download["Content-Disposition"].startswith("attachment;")
        and "memorandum.pdf" in download["Content-Disposition"]
    )
    assert download["Content-Type"] == "application/pdf" and download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content).startswith(b"%PDF-1.7")
    assert mihai_web.get(f"/partnerships/{partnership.pk}/documents/{document.pk}/").status_code == 404


def test_the_list_keeps_to_a_fixed_number_of_queries(
    partnership, greta_web, philippines, moldova, django_assert_max_num_queries
):
    for n in range(3):
        greta_web.post(
            "/partnerships/new/",
            {
                "name": f"Partnership {n}",
                "kind": "memorandum_of_understanding",
                "members": [str(philippines.pk), str(moldova.pk)],
                "status": "negotiating",
            },
        )
    with django_assert_max_num_queries(9):
        page = text(greta_web.get("/partnerships/"))
    assert page.count('href="/partnerships/') >= 4
    assert "Ministry of Labour and Social Protection" in page


def test_agreed_matches_appear_on_the_partnership(partnership, germany_actor, philippines_actor, moderator, greta_web):
    from exchange.dialogue import services
    from exchange.models import Match

    supply = published(philippines_actor, moderator, offer(title="Filipino nurses", partner_countries=[]))
    match = Match.objects.get(supply=supply)
    services.match_express_interest(actor=germany_actor, match=match, message="Interested")
    services.match_decide(actor=philippines_actor, match=Match.objects.get(pk=match.pk), accept=True)
    form = text(greta_web.get(f"/partnerships/{partnership.pk}/edit/"))
    assert "Filipino nurses" in form
    saved = greta_web.post(
        f"/partnerships/{partnership.pk}/edit/",
        {
            "name": partnership.name,
            "kind": partnership.kind,
            "status": "negotiating",
            "listings": [str(partnership.listings.get().pk)],
            "matches": [str(match.pk)],
        },
    )
    assert saved.status_code == 302, text(saved)[:2000]
    page = text(greta_web.get(f"/partnerships/{partnership.pk}/"))
    assert "Filipino nurses" in page and f'href="/matches/{match.pk}/"' in page


def test_the_named_government_may_decline_and_then_no_longer_sees_it(partnership, paolo_web, philippines):
    page = paolo_web.get(f"/partnerships/{partnership.pk}/decline/")
    assert page.status_code == 200 and "Decline the invitation" in text(page)
    done = paolo_web.post(f"/partnerships/{partnership.pk}/decline/", follow=True)
    assert "You declined the invitation" in text(done)
    assert partnership.memberships.get(organisation=philippines).state == MemberState.DECLINED
    assert paolo_web.get(f"/partnerships/{partnership.pk}/").status_code == 404


def test_the_csv_export_lists_the_members(partnership, greta_web):
    response = greta_web.get("/partnerships/export.csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response["Content-Disposition"] == 'attachment; filename="partnerships.csv"'
    assert "Germany–Philippines health workforce partnership" in body
    assert "Department of Migrant Workers (Invited)" in body and "Confirmed" in body
