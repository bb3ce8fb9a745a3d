"""Recording an outcome in the browser: Bob, an official of Italy, opens his published scheme,
records an entry in the "Outcomes" section with the labelled form, and sees the pipeline
(chart and table) and the gender target, in words, change. Axe runs on every page."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from accounts.tenancy import Actor
from tests.exchange.conftest import scheme
from tests.opportunities.conftest import create_listing, publish


def test_the_owner_records_an_outcome_entry_and_sees_the_summary_change(
    visitor: Any, italy: Any, bob: Any, moderator: Any
) -> None:
    owner = Actor(user=bob, organisation=italy, role="official")
    listing = publish(
        create_listing(
            owner,
            scheme(
                title="Seasonal harvest in Trentino",
                partner_countries=["MD"],
                allocations=[{"country": "MD", "places": 60}],
                gender_target_percent=30,
            ),
        ),
        owner,
        moderator,
    )
    page = visitor.page
    visitor.sign_in_as(bob)
    visitor.go(f"/listings/{listing.pk}/")
    section = page.locator("#outcomes")
    expect(section.get_by_role("heading", name="Outcomes")).to_be_visible()
    expect(section.get_by_text("0 of 60 allocated places used (selected); 60 remaining.")).to_be_visible()

    form = page.locator("form[data-outcome-form]")
    form.get_by_label("Origin country").select_option("MD")
    form.get_by_label("Period").fill(str(listing.starts_on.year))
    form.get_by_label("Stage").select_option("selected")
    form.get_by_label("Sex").select_option("F")
    form.get_by_label("Number of people").fill("5")
    visitor.reset()
    form.get_by_role("button", name="Record the entry").click()
    expect(page.get_by_text("The outcome entry is recorded.")).to_be_visible()
    visitor.check()

    form = page.locator("form[data-outcome-form]")
    form.get_by_label("Period").fill(str(listing.starts_on.year))
    form.get_by_label("Stage").select_option("selected")
    form.get_by_label("Sex").select_option("M")
    form.get_by_label("Number of people").fill("15")
    visitor.reset()
    form.get_by_role("button", name="Record the entry").click()
    expect(page.get_by_text("The outcome entry is recorded.")).to_be_visible()
    visitor.check()

    section = page.locator("#outcomes")
    expect(section.get_by_text("20 of 60 allocated places used (selected); 40 remaining.")).to_be_visible()
    expect(section.get_by_text("Selected: 25.0 % women — target of 30.0 % not met.").first).to_be_visible()
    # The funnel's table says what the chart draws.
    table = page.locator("table[data-chart-table='outcomes-funnel-md']")
    expect(table.get_by_role("row", name="Selected")).to_contain_text("20")
    expect(page.locator("#outcomes-funnel-md svg")).to_be_attached()
