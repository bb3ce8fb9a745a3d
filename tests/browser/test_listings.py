"""Officials post listings in the browser: an origin government with the mouse, a
destination government with the keyboard alone; both meet an inline error, fix it and
submit the listing for moderation after the confirmation step."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.utils import timezone

from accounts.tenancy import Actor
from opportunities.models import Listing, ListingStatus
from tests.factories import OrganisationFactory, member
from tests.opportunities.conftest import create_listing, publish, seasonal_scheme

# A listing's page (a redirect keeps the fragment of the link followed before it).
DETAIL = re.compile(r"/listings/[0-9a-f-]{36}/(#.*)?$")


def day(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def maria(db: Any) -> Any:
    philippines = OrganisationFactory(
        name="Department of Migrant Workers", slug="ph-dmw", country="PH", is_origin=True, is_destination=False
    )
    return member(philippines, "official", email="maria@dmw.gov.example", full_name="Maria Santos")


def pick_suggestion(page: Any, field: Any, typed: str, code: str) -> None:
    """Type words into an ISCO picker and take the suggestion for ``code``."""
    field.press_sequentially(typed, delay=40)
    options = page.locator(f"#{field.get_attribute('list')} option")
    page.wait_for_function(
        "([id, code]) => [...document.querySelectorAll(`#${id} option`)].some(o => o.value.startsWith(code))",
        arg=[field.get_attribute("list"), code],
    )
    suggestion = next(v for v in options.evaluate_all("os => os.map(o => o.value)") if v.startswith(code))
    field.fill(suggestion)


def test_an_origin_official_posts_a_listing_fixes_an_error_and_submits_it(
    visitor: Any, maria: Any, italy: Any, bob: Any, moderator: Any
) -> None:
    # Schemes Italy has published, for the list to show.
    italy_actor = Actor(user=bob, organisation=italy, role="official")
    publish(create_listing(italy_actor, seasonal_scheme(partner_countries=[], allocations=[])), italy_actor, moderator)
    nurses = seasonal_scheme(
        title="Nurses for hospitals in Lombardy",
        summary="Registered nurses for public hospitals, with Italian classes before departure.",
        scheme_type="talent_partnership",
        partner_countries=["PH", "IN"],
        allocations=[],
        annual_cap=None,
        occupation_lines=[{"isco_code": "2221", "quantity": 120, "languages": [{"language": "it", "level": "B1"}]}],
    )
    publish(create_listing(italy_actor, nurses), italy_actor, moderator)

    page = visitor.page
    visitor.sign_in_as(maria)
    visitor.go("/listings/", screenshot="listings-browse")
    assert page.get_by_role("heading", name="2 listings").is_visible()
    assert page.get_by_role("link", name="Nurses for hospitals in Lombardy").is_visible()

    visitor.reset()
    page.get_by_role("link", name="Post a listing").click()
    page.wait_for_url("**/listings/new/")
    visitor.check(screenshot="listing-form")
    # The Philippines is an origin country: it posts supply.
    assert page.get_by_label("Supply: workers offered by an origin government").is_checked()

    page.get_by_label("Title", exact=True).fill("Registered nurses ready for hospital contracts")
    page.get_by_label("Summary").fill("Board-certified nurses with two years' experience or more.")
    page.get_by_label("Scheme type").select_option(label="Talent / skills partnership")
    pick_suggestion(page, page.locator("#id_lines-0-isco_code"), "nurs", "2221")
    page.locator("#id_lines-0-quantity").fill("300")
    page.locator("#id_lines-0-language_1").select_option("en")
    page.locator("#id_lines-0-level_1").select_option("B2")

    # A second line, added in place (no reload), focused for typing.
    page.get_by_role("button", name="Add another occupation line").click()
    second = page.locator("#id_lines-1-isco_code")
    assert second.evaluate("el => el === document.activeElement")
    assert page.get_by_role("group", name="Occupation line 2").is_visible()
    pick_suggestion(page, second, "care work", "5322")
    page.locator("#id_lines-1-quantity").fill("0")

    page.get_by_label("Pre-departure training is offered").check()
    page.get_by_label("Window starts").fill(day(60).isoformat())
    page.get_by_label("Window ends").fill(day(400).isoformat())
    page.get_by_label("Application deadline").fill(day(45).isoformat())

    visitor.reset()
    with page.expect_navigation():
        page.get_by_role("button", name="Save as draft").click()
    visitor.check(screenshot="listing-form-errors")
    summary = page.locator(".error-summary")
    link = summary.get_by_role(
        "link", name="Occupation line 2, Quantity: Ensure this value is greater than or equal to 1."
    )
    assert link.get_attribute("href") == "#id_lines-1-quantity"
    assert summary.evaluate("el => el === document.activeElement")  # announced first
    assert page.locator("#id_lines-1-quantity_error").is_visible()
    assert not Listing.objects.filter(owner__slug="ph-dmw").exists()
    # What was typed is still there.
    assert page.locator("#id_lines-0-isco_code").input_value().startswith("2221 — ")
    assert page.get_by_label("Pre-departure training is offered").is_checked()

    link.click()
    page.locator("#id_lines-1-quantity").fill("50")
    visitor.reset()
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_url(DETAIL)
    visitor.check(screenshot="listing-detail")
    assert page.get_by_role("heading", name="Registered nurses ready for hospital contracts").is_visible()
    assert page.get_by_role("cell", name="Nursing professionals").is_visible()
    assert "is saved as a draft" in page.locator(".messages").inner_text()

    submit_for_moderation(visitor)
    listing = Listing.objects.get(owner__slug="ph-dmw")
    assert listing.status == ListingStatus.SUBMITTED
    assert [(line.occupation_id, line.quantity) for line in listing.occupation_lines.order_by("position")] == [
        ("2221", 300),
        ("5322", 50),
    ]
    assert listing.pre_departure_training
    # No script error; the one failed load is the form answered 400 with its errors.
    assert [e for e in visitor.console_errors if "status of 400" not in e] == []


def submit_for_moderation(visitor: Any) -> None:
    page = visitor.page
    visitor.reset()
    page.get_by_role("link", name="Submit for moderation").click()
    page.wait_for_url("**/submit/")
    visitor.check()
    assert "for moderation?" in page.locator(".lead").inner_text()
    visitor.reset()
    page.get_by_role("button", name="Submit for moderation").click()
    page.wait_for_url(DETAIL)
    visitor.check()
    assert "is submitted for moderation" in page.locator(".messages").inner_text()


# --- The keyboard alone -------------------------------------------------------------------------


def focused(page: Any, selector: str) -> bool:
    return page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector)


def tab_to(page: Any, selector: str, *, back: bool = False, limit: int = 400) -> None:
    """Press Tab (or Shift+Tab) until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        if focused(page, selector):
            return
        page.keyboard.press("Shift+Tab" if back else "Tab")
    raise AssertionError(f"{selector} never received the focus")


def date_keys(page: Any, probe: str) -> Any:
    """How this browser's date fields take typed digits (month or day first), learnt by typing once."""
    tab_to(page, probe)
    page.keyboard.type("01022030")
    value = page.locator(probe).input_value()
    assert value in ("2030-01-02", "2030-02-01"), value
    month_first = value == "2030-01-02"
    return lambda d: d.strftime("%m%d%Y" if month_first else "%d%m%Y")


def test_a_destination_official_posts_a_listing_with_the_keyboard_alone(visitor: Any, bob: Any) -> None:
    page = visitor.page
    keys = page.keyboard
    visitor.sign_in_as(bob)
    visitor.go("/listings/")
    typed_date = date_keys(page, "#id_window_start")  # the search form's date field, never submitted

    tab_to(page, 'a[href="/listings/new/"]', back=True)
    visitor.reset()
    keys.press("Enter")
    page.wait_for_url("**/listings/new/")
    visitor.check()

    tab_to(page, "#id_title")
    keys.type("Seasonal fruit pickers for Trentino")
    tab_to(page, "#id_scheme_type")
    keys.type("Seasonal")
    assert page.locator("#id_scheme_type").input_value() == "seasonal"
    tab_to(page, "#id_partner_countries")
    keys.type("Morocco")
    assert page.locator("#id_partner_countries").evaluate("s => [...s.selectedOptions].map(o => o.value)") == ["MA"]

    tab_to(page, "#id_lines-0-isco_code")
    keys.type("fruit")
    page.wait_for_function("() => document.querySelectorAll('#id_lines-0-isco_code-options option').length > 0")
    suggestion = page.locator("#id_lines-0-isco_code-options option").first.get_attribute("value")
    keys.press("Control+A")
    keys.type(suggestion)
    code = suggestion.split(" ")[0]
    tab_to(page, "#id_lines-0-quantity")
    keys.type("0")  # not allowed: at least 1
    tab_to(page, "#id_lines-0-language_1")
    keys.type("Italian")
    keys.press("Tab")
    keys.type("A2")
    assert page.locator("#id_lines-0-level_1").input_value() == "A2"

    tab_to(page, 'button[name="add_line"]')
    keys.press("Enter")
    assert focused(page, "#id_lines-1-isco_code")  # the new row, in place
    keys.type("6111")
    keys.press("Tab")
    keys.type("15")

    tab_to(page, "#id_housing")
    keys.press("Space")
    tab_to(page, "#id_fair_recruitment")
    keys.press("Space")
    tab_to(page, "#id_starts_on")
    keys.type(typed_date(day(90)))
    tab_to(page, "#id_ends_on")
    keys.type(typed_date(day(200)))
    tab_to(page, "#id_application_deadline")
    keys.type(typed_date(day(60)))
    assert page.locator("#id_application_deadline").input_value() == day(60).isoformat()

    tab_to(page, '.actions button[name="save"]')
    visitor.reset()
    with page.expect_navigation():
        keys.press("Enter")
    visitor.check()
    assert focused(page, ".error-summary")
    assert (
        "Occupation line 1, Quantity: Ensure this value is greater than or equal to 1."
        in page.locator(".error-summary").inner_text()
    )
    assert not Listing.objects.exists()

    tab_to(page, "#id_lines-0-quantity")
    keys.press("Control+A")
    keys.type("120")
    visitor.reset()
    keys.press("Enter")  # Enter in a field saves (not "add a line")
    page.wait_for_url(DETAIL)
    visitor.check()
    assert "is saved as a draft" in page.locator(".messages").inner_text()

    tab_to(page, 'a[href$="/submit/"]')
    visitor.reset()
    keys.press("Enter")
    page.wait_for_url("**/submit/")
    visitor.check()
    tab_to(page, 'main button[type="submit"]')
    visitor.reset()
    keys.press("Enter")
    page.wait_for_url(DETAIL)
    visitor.check()
    assert "is submitted for moderation" in page.locator(".messages").inner_text()

    listing = Listing.objects.get()
    assert listing.status == ListingStatus.SUBMITTED
    assert listing.title == "Seasonal fruit pickers for Trentino"
    assert listing.partner_countries == ["MA"] and listing.housing and listing.fair_recruitment
    assert [(line.occupation_id, line.quantity) for line in listing.occupation_lines.order_by("position")] == [
        (code, 120),
        ("6111", 15),
    ]
    assert listing.occupation_lines.order_by("position").first().languages == [{"language": "it", "level": "A2"}]
    assert (listing.starts_on, listing.ends_on) == (day(90), day(200))
