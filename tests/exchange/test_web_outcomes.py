"""The "Outcomes" section of a listing's page: who sees it, the entry form, corrections, errors."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase

from accounts.models import Organisation, User
from accounts.tenancy import Actor
from opportunities.models import Listing
from tests.conftest import signed_in
from tests.exchange.conftest import published, scheme
from tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing(italy: Organisation, bob: User, moderator: Actor) -> Listing:
    owner = Actor(user=bob, organisation=italy, role="official")
    return published(
        owner,
        moderator,
        scheme(
            partner_countries=["MA", "MD"],
            allocations=[{"country": "MA", "places": 30}, {"country": "MD", "places": 60}],
            gender_target_percent=30,
            occupation_lines=[{"isco_code": "9211", "quantity": 90}],
        ),
    )


def page(listing: Listing) -> str:
    return f"/listings/{listing.pk}/"


def action(listing: Listing) -> str:
    return f"/listings/{listing.pk}/outcomes/record/"


def entry(listing: Listing, **values: Any) -> dict[str, Any]:
    fields = {
        "origin_country": "MD",
        "period": str(listing.starts_on.year),
        "stage": "selected",
        "sex": "F",
        "count": "5",
        **values,
    }
    prefix = values.pop("form_prefix", "new")
    return {"form_prefix": prefix, **{f"{prefix}-{k}": v for k, v in fields.items() if k != "form_prefix"}}


def test_the_owner_records_an_entry_and_sees_the_figures_change(bob_web: Client, listing):
    before = bob_web.get(page(listing)).content.decode()
    assert 'id="outcomes"' in before and "No entries yet." in before
    response = bob_web.post(action(listing), entry(listing, count="5"))
    assert response.status_code == 302 and response["Location"].endswith("#outcomes")
    bob_web.post(action(listing), entry(listing, sex="M", count="15"))
    after = bob_web.get(page(listing)).content.decode()
    assert "20 of 60 allocated places used" in after
    assert "Selected: 25.0 % women — target of 30.0 % not met." in after
    assert 'id="outcomes-funnel-md"' in after and "<svg" in after


def test_a_bad_entry_comes_back_with_its_errors_on_the_fields(bob_web: Client, listing):
    response = bob_web.post(action(listing), entry(listing, stage="selected", count="61"))
    assert response.status_code == 400
    text = response.content.decode()
    assert "There is a problem" in text and "above the allocation of 60 places" in text


def test_a_correction_is_shown_struck_with_its_history(bob_web: Client, listing):
    bob_web.post(action(listing), entry(listing, count="5"))
    text = bob_web.get(page(listing)).content.decode()
    prefix = text.split('name="form_prefix" value="fix-', 1)[1].split('"', 1)[0]
    corrects = text.split(f'name="fix-{prefix}-corrects" value="', 1)[1].split('"', 1)[0]
    values = entry(listing, form_prefix=f"fix-{prefix}", count="6", corrects=corrects, reason="recount")
    assert bob_web.post(action(listing), values).status_code == 302
    text = bob_web.get(page(listing)).content.decode()
    assert "<s>5</s>" in text and "corrected by a later entry" in text and "<q>recount</q>" in text


def test_the_origin_government_records_for_its_own_country_only(moldova: Organisation, listing):
    mihai = signed_in(member(moldova, "official", email="mihai@md.example"))
    text = mihai.get(page(listing)).content.decode()
    assert 'value="MD"' in text and 'value="MA"' not in text.split("data-outcome-form", 1)[1].split("</form>", 1)[0]
    assert mihai.post(action(listing), entry(listing)).status_code == 302
    assert mihai.post(action(listing), entry(listing, origin_country="MA")).status_code == 400


def test_a_government_not_admitted_sees_no_section_and_cannot_post(germany: Organisation, listing):
    greta = signed_in(member(germany, "official", email="greta@de.example"))
    response = greta.get(page(listing))
    assert response.status_code == 200 and 'id="outcomes"' not in response.content.decode()
    assert greta.post(action(listing), entry(listing)).status_code == 404


def test_the_agency_reads_the_section_without_a_form(mona: User, listing):
    text = signed_in(mona).get(page(listing)).content.decode()
    assert 'id="outcomes"' in text and "data-outcome-form" not in text


def test_a_viewer_of_the_owner_is_refused(italy: Organisation, listing):
    viewer = signed_in(member(italy, "viewer", email="viewer@it.example"))
    assert "data-outcome-form" not in viewer.get(page(listing)).content.decode()
    assert viewer.post(action(listing), entry(listing)).status_code == 403


def test_the_owner_uploads_a_csv_and_reads_its_result_in_the_section(bob_web: Client, listing):
    year = listing.starts_on.year
    good = f"origin_country,period,stage,sex,count\nMD,{year},selected,F,4\nMD,{year},selected,M,6\n"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = bob_web.post(
            f"/listings/{listing.pk}/outcomes/upload/", {"file": SimpleUploadedFile("md.csv", good.encode())}
        )
    assert response.status_code == 302 and response["Location"].endswith("#outcome-imports")
    text = bob_web.get(page(listing)).content.decode()
    assert "md.csv — Succeeded: 2 entries saved" in text and "10 of 60 allocated places used" in text
    bad = f"origin_country,period,stage,sex,count\nPH,{year},selected,F,4\n"
    with TestCase.captureOnCommitCallbacks(execute=True):
        bob_web.post(f"/listings/{listing.pk}/outcomes/upload/", {"file": SimpleUploadedFile("ph.csv", bad.encode())})
    text = bob_web.get(page(listing)).content.decode()
    assert "ph.csv — Failed: nothing saved" in text and "Line 2 (origin_country)" in text


def test_a_government_not_admitted_cannot_upload(germany: Organisation, listing):
    greta = signed_in(member(germany, "official", email="greta@de.example"))
    upload = {"file": SimpleUploadedFile("x.csv", b"origin_country,period,stage,sex,count\n")}
    assert greta.post(f"/listings/{listing.pk}/outcomes/upload/", upload).status_code == 404
