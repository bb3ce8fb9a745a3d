"""A published migration profile in the browser, in English and in Arabic (right to left).

Germany's official reads Moldova's profile: every chart's plotted values are the
values of the table beside it (raw numbers and the locale's formatting alike),
the page passes axe-core and stays within the page-weight budget, and in Arabic
the charts mirror (the first year on the right) while the tables read right to
left. Moldova's official then opens a part's editor, keyboard first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.exchange import conftest as exchange
from tests.exchange.test_web_profiles import moldova_profile

germany, moldova = exchange.germany, exchange.moldova
greta, mihai = exchange.greta, exchange.mihai
moldova_actor, germany_actor = exchange.moldova_actor, exchange.germany_actor


def chart_agrees_with_its_table(page: Any, chart_id: str) -> int:
    figure = page.locator(f"figure#{chart_id}")
    marks = figure.locator("svg .point")
    plotted = marks.evaluate_all("els => els.map(e => [e.dataset.value, e.querySelector('title').textContent])")
    cells = figure.locator("td[data-value]").evaluate_all(
        "els => els.filter(e => e.dataset.value).map(e => [e.dataset.value, e.textContent.trim()])"
    )
    assert plotted, chart_id
    assert sorted(Decimal(v) for v, _ in plotted) == sorted(Decimal(v) for v, _ in cells), chart_id
    # Each mark's title holds its number exactly as the table prints it.
    shown = dict(cells)
    assert all(shown[value] in title for value, title in plotted), (plotted, shown)
    return len(plotted)


@pytest.mark.parametrize(("locale", "direction"), [("en-GB", "ltr"), ("ar", "rtl")])
def test_a_reader_sees_charts_that_agree_with_their_tables(
    visitor_factory: Any, moldova_actor: Any, greta: Any, locale: str, direction: str
) -> None:
    profile = moldova_profile(moldova_actor)
    visitor = visitor_factory(locale=locale)
    visitor.sign_in_as(greta)
    visitor.go(f"/profiles/{profile.pk}/", screenshot=f"profile-detail-{locale}")
    page = visitor.page
    assert page.locator("html").get_attribute("dir") == direction
    charts = page.locator("figure.chart").evaluate_all("els => els.map(e => e.id)")
    assert len(charts) == 3
    assert sum(chart_agrees_with_its_table(page, chart) for chart in charts) == 7
    expect(page.locator("[lang=ro]")).to_be_visible()

    # The line chart runs from the first year to the last: left to right, or right to left.
    remittances = page.locator("figure#chart-remit_in_usd svg .point")
    first, last = (remittances.nth(i).bounding_box() for i in (0, 1))
    assert first is not None and last is not None
    assert (first["x"] < last["x"]) == (direction == "ltr")
    # The table beside it reads in the page's direction.
    table = page.locator("figure#chart-remit_in_usd table")
    assert table.evaluate("t => getComputedStyle(t).direction") == direction

    # The in-page navigation reaches each part.
    page.locator(".part-nav a").nth(2).click()
    assert page.url.endswith("#part-3")
    visitor.go("/profiles/compare/years/?country=MD&indicator=MIG_STOCK_OUT")
    assert chart_agrees_with_its_table(page, page.locator("figure.chart").first.get_attribute("id")) == 4


def test_the_owner_edits_a_part_with_the_keyboard(visitor_factory: Any, moldova_actor: Any, mihai: Any) -> None:
    draft = moldova_profile(moldova_actor, year=2025, publish=False)
    visitor = visitor_factory()
    visitor.sign_in_as(mihai)
    visitor.go(f"/profiles/{draft.pk}/parts/2/edit/")
    page = visitor.page
    page.get_by_label("Indicator").select_option("REMIT_IN_GDP")
    page.get_by_label("Year of the figure").fill("2023")
    page.get_by_label("Value").fill("140")
    page.get_by_label("Source").fill("World Bank")
    visitor.reset()
    page.get_by_role("button", name="Add the figure").press("Enter")
    page.wait_for_load_state("load")
    visitor.check()
    expect(page.locator("#id_value_error")).to_contain_text("between 0 and 100")
    page.get_by_label("Value").fill("14.5")
    visitor.reset()
    page.get_by_role("button", name="Add the figure").press("Enter")
    page.wait_for_load_state("load")
    visitor.check()
    expect(page.get_by_role("cell", name="14.5")).to_be_visible()
    visitor.go(f"/profiles/{draft.pk}/publish/")
    visitor.go("/profiles/")
    visitor.go("/profiles/new/")


def test_history_diff_and_comparisons_pass_the_checks(
    visitor_factory: Any, moldova_actor: Any, germany_actor: Any, greta: Any
) -> None:
    from accounts.tenancy import tenant_scope
    from exchange.profiles.services import profile_create, profile_publish, profile_update

    first = moldova_profile(moldova_actor, year=2024)
    with tenant_scope(moldova_actor):
        second = profile_update(actor=moldova_actor, profile=first, data={"migration_data": "Revised."})
        profile_publish(actor=moldova_actor, profile=second)
    with tenant_scope(germany_actor):
        german = profile_create(actor=germany_actor, data={"country": "DE", "year": 2024, "visibility": "members"})
        profile_publish(actor=germany_actor, profile=german)
    visitor = visitor_factory(locale="ar")
    visitor.sign_in_as(greta)
    visitor.go(f"/profiles/{second.pk}/versions/")
    visitor.go(f"/profiles/{second.pk}/diff/")
    assert visitor.page.locator("del").count() >= 1 and visitor.page.locator("ins").count() >= 1
    visitor.go("/profiles/compare/countries/?a=MD&b=DE&year=2024")
    visitor.go("/profiles/compare/years/")
    visitor.go("/help/#profiles")


def test_the_public_reads_a_public_profile(visitor: Any, moldova_actor: Any) -> None:
    from accounts.tenancy import tenant_scope
    from exchange.profiles.services import profile_publish, profile_update

    with tenant_scope(moldova_actor):
        draft = moldova_profile(moldova_actor, year=2024, publish=False)
        profile_update(actor=moldova_actor, profile=draft, data={"visibility": "public"})
        profile_publish(actor=moldova_actor, profile=draft)
    visitor.go("/public/profiles/")
    visitor.page.get_by_role("link", name="Moldova").click()
    visitor.page.wait_for_load_state("load")
    visitor.check()
    for chart in visitor.page.locator("figure.chart").evaluate_all("els => els.map(e => e.id)"):
        chart_agrees_with_its_table(visitor.page, chart)
    assert visitor.console_errors == []
