"""Importing a year of figures in the browser: Mihai, an official of Moldova, opens the import
page of his draft profile, finds the template, uploads a file and watches the progress bar
follow a real Celery worker (on Redis) to the end; then uploads a bad file and reads its
errors line by line. Nothing of the bad file is saved."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.tenancy import Actor, tenant_scope, unscoped
from exchange.models import Observation
from exchange.profiles.sdmx import DATAFLOW, HEADER
from exchange.profiles.services import profile_create
from tests.factories import OrganisationFactory, member

HEAD = ",".join(HEADER)


@pytest.fixture
def moldova(db: Any) -> Any:
    return OrganisationFactory(
        name="Ministry of Labour and Social Protection", slug="md-labour", country="MD", is_origin=True
    )


@pytest.fixture
def mihai(moldova: Any) -> Any:
    return member(moldova, "official", email="mihai@md.example", full_name="Mihai Rusu")


@pytest.fixture
def draft(moldova: Any, mihai: Any) -> Any:
    actor = Actor(user=mihai, organisation=moldova, role="official")
    with tenant_scope(actor):
        return profile_create(actor=actor, data={"country": "MD", "year": 2025, "visibility": "public"})


def good_file() -> str:
    """600 figures (three progress steps of 200): emigrants by age band, sex and year."""
    ages = [f"Y{a}-{a + 4}" for a in range(15, 65, 5)]
    lines = [HEAD]
    for period in range(2005, 2025):
        for age in ages:
            for sex, value in (("T", 1000), ("F", 480), ("M", 500)):
                lines.append(f"{DATAFLOW},MDA,MIG_STOCK_OUT,{sex},{age},{period},{value},persons,UN DESA 2024,")
    return "\r\n".join(lines[:601]) + "\r\n"


def bad_file() -> str:
    return "\n".join(
        [
            HEAD,
            f"{DATAFLOW},MDA,HDI,T,_T,2024,0.75,index,UNDP,",
            f"{DATAFLOW},ROU,HDI,T,_T,2023,0.74,index,UNDP,",
            f"{DATAFLOW},MDA,REMIT_IN_USD,T,_T,2024,12,percent,World Bank,",
        ]
    )


def test_an_official_imports_a_file_watches_it_finish_and_reads_the_errors_of_a_bad_one(
    visitor: Any, celery_worker: Any, mihai: Any, draft: Any, tmp_path: Any
) -> None:
    page = visitor.page
    visitor.sign_in_as(mihai)
    visitor.go(f"/profiles/{draft.pk}/import/", screenshot="profile-import")
    expect(page.get_by_role("link", name="Download the template")).to_have_attribute(
        "href", "/api/v1/reference/indicators/template.csv"
    )

    good = tmp_path / "moldova-2025.csv"
    good.write_text(good_file(), encoding="utf-8")
    page.get_by_label("SDMX-CSV file").set_input_files(str(good))
    visitor.reset()
    page.get_by_role("button", name="Upload and check").click()
    expect(page.locator("#import-progress-bar")).to_be_attached()
    # The fragment is fetched again every second until the worker is done.
    expect(page.get_by_text("600 figures saved.")).to_be_visible(timeout=30_000)
    expect(page.locator("#import-progress-bar")).to_have_attribute("value", "600")
    expect(page.locator("#import-progress")).not_to_have_attribute("hx-trigger", "every 1s")
    visitor.check(screenshot="profile-import-done")
    with unscoped("assertion"):
        assert Observation.objects.filter(profile=draft).count() == 600

    page.get_by_role("link", name="Import figures").click()
    bad = tmp_path / "bad.csv"
    bad.write_text(bad_file(), encoding="utf-8")
    page.get_by_label("SDMX-CSV file").set_input_files(str(bad))
    visitor.reset()
    page.get_by_role("button", name="Upload and check").click()
    errors = page.locator("#import-errors")
    expect(errors).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Nothing was saved")).to_be_visible()
    rows = errors.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("3")
    expect(rows.nth(0)).to_contain_text("REF_AREA")
    expect(rows.nth(1)).to_contain_text("UNIT_MEASURE")
    visitor.check(screenshot="profile-import-errors")
    with unscoped("assertion"):
        assert Observation.objects.filter(profile=draft).count() == 600
    assert visitor.console_errors == []
