"""The import page of a draft profile and its progress fragment (the browser test follows the task live)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from accounts.tenancy import unscoped
from exchange.models import ProfileImport
from exchange.profiles.sdmx import HEADER
from tests.conftest import signed_in
from tests.factories import member

pytestmark = pytest.mark.django_db

HEAD = ",".join(HEADER)


@pytest.fixture
def mihai(moldova: Any) -> Any:
    return member(moldova, "official", email="official@md.example")


@pytest.fixture
def draft(mihai: Any, moldova: Any) -> Any:
    from accounts.tenancy import Actor, tenant_scope
    from exchange.profiles.services import profile_create

    with tenant_scope(Actor(user=mihai, organisation=moldova, role="official")):
        return profile_create(
            actor=Actor(user=mihai, organisation=moldova, role="official"),
            data={"country": "MD", "year": 2025, "visibility": "members"},
        )


def test_the_page_offers_the_template_and_a_labelled_upload_form(mihai, draft):
    response = signed_in(mihai).get(reverse("exchange:profile-import", kwargs={"pk": draft.pk}))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'href="/api/v1/reference/indicators/template.csv"' in page
    assert '<label for="id_file">' in page and 'type="file"' in page


def test_an_upload_is_queued_and_its_status_page_shows_the_outcome(mihai, draft):
    client = signed_in(mihai)
    text = f"{HEAD}\nCORRIDOR:PROFILE(1.0),MDA,HDI,T,_T,2024,0.75,index,UNDP,\n"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("exchange:profile-import", kwargs={"pk": draft.pk}),
            {"file": SimpleUploadedFile("hdi.csv", text.encode())},
        )
    assert response.status_code == 302
    with unscoped("assertion"):
        job = ProfileImport.objects.get()
    assert response["Location"] == reverse("exchange:profile-import-status", kwargs={"pk": job.pk})
    page = client.get(response["Location"]).content.decode()
    assert "1 figure saved." in page and "hx-trigger" not in page  # done: no more polling
    fragment = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<div id="import-progress"')


def test_a_bad_file_shows_its_lines_and_columns(mihai, draft):
    client = signed_in(mihai)
    text = f"{HEAD}\nCORRIDOR:PROFILE(1.0),DEU,HDI,T,_T,2024,0.75,percent,UNDP,\n"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("exchange:profile-import", kwargs={"pk": draft.pk}),
            {"file": SimpleUploadedFile("hdi.csv", text.encode())},
        )
    page = client.get(response["Location"]).content.decode()
    assert "Nothing was saved" in page
    assert "<code>REF_AREA</code>" in page and "<code>UNIT_MEASURE</code>" in page


def test_a_missing_or_non_utf8_file_is_a_400_on_the_form(mihai, draft):
    client = signed_in(mihai)
    url = reverse("exchange:profile-import", kwargs={"pk": draft.pk})
    assert client.post(url, {}).status_code == 400
    response = client.post(url, {"file": SimpleUploadedFile("x.csv", "é".encode("latin-1"))})
    assert response.status_code == 400 and "UTF-8" in response.content.decode()


def test_a_running_import_polls_and_shows_a_progress_bar(mihai, draft, moldova):
    with unscoped("test setup"):
        job = ProfileImport.objects.create(
            organisation=moldova,
            profile=draft,
            created_by=mihai,
            content="x",
            status="running",
            total=400,
            processed=200,
        )
    page = signed_in(mihai).get(reverse("exchange:profile-import-status", kwargs={"pk": job.pk})).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert '<progress id="import-progress-bar" max="400" value="200" aria-labelledby="import-progress-label">' in page
