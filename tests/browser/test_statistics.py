"""The statistics and open-data pages in the browser: every chart agrees with its table, axe passes.

Anonymous readers in English and in Arabic (right to left), then the agency's
moderator, who also reads the moderation turnaround, and the open-data page.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_profiles import chart_agrees_with_its_table
from tests.exchange import conftest as exchange
from tests.exchange.statistics_world import World, world_fixture  # noqa: F401  (the fixture)

germany, philippines, moldova = exchange.germany, exchange.philippines, exchange.moldova
greta, paolo, mihai = exchange.greta, exchange.paolo, exchange.mihai
germany_actor, philippines_actor, moldova_actor = (
    exchange.germany_actor,
    exchange.philippines_actor,
    exchange.moldova_actor,
)
italy_official = exchange.italy_official


@pytest.mark.parametrize(("locale", "direction"), [("en-GB", "ltr"), ("ar", "rtl")])
def test_the_public_reads_charts_that_agree_with_their_tables(
    visitor_factory: Any, world: World, locale: str, direction: str
) -> None:
    visitor = visitor_factory(locale=locale)
    visitor.go("/statistics/", screenshot=f"statistics-{locale}")
    page = visitor.page
    assert page.locator("html").get_attribute("dir") == direction
    charts = page.locator("figure.chart").evaluate_all("els => els.map(e => e.id)")
    assert charts == [
        "chart-places-by-isco-major",
        "chart-places-by-isic-section",
        "chart-places-by-scheme-type",
        "chart-places-by-country",
        "chart-matches-funnel",
        "chart-provisions",
        "chart-outcomes",
    ]
    # The funnel is all small cells for the public (nothing plotted), so it is left out here.
    plotted = sum(chart_agrees_with_its_table(page, chart) for chart in charts if chart != "chart-matches-funnel")
    # ISCO 3 groups × 2, ISIC 2 × 2, schemes 2 × 2, countries 2 × 2, provisions 4, outcomes 9 stages × 2 less
    # the re-engaged small cell.
    assert plotted == 6 + 4 + 4 + 4 + 4 + 17
    assert visitor.console_errors == []
    # The period filter: a bad date is named in the error summary.
    # (A 400, so not through go(), which expects a success.)
    visitor.reset()
    response = page.goto("/statistics/?from=2025-02-01&to=2025-01-01")
    assert response is not None and response.status == 400
    visitor.check()
    assert page.locator(".error-summary a[href='#period-to']").count() == 1


def test_the_agencies_read_the_moderation_turnaround(visitor_factory: Any, world: World, mona: Any) -> None:
    visitor = visitor_factory()
    visitor.sign_in_as(mona)
    visitor.go("/statistics/")
    page = visitor.page
    assert chart_agrees_with_its_table(page, "chart-moderation-turnaround") == 2
    assert chart_agrees_with_its_table(page, "chart-matches-funnel") == 4
    page.get_by_role("link", name="Open data").first.click()
    page.wait_for_load_state("load")
    visitor.check(screenshot="open-data")
    assert page.locator("script[type='application/ld+json']").count() == 2
