"""A corridor in the browser: the places/workers chart agrees with its table, the pipeline shows
small cells as "<5" to an outsider and exact counts to the corridor's governments, and axe passes
on the corridor and the list of corridors (every ``visitor.go`` checks axe and the page budget).

The fixture is the hand-counted one of tests/exchange/test_corridors.py.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.test_profiles import chart_agrees_with_its_table
from tests.exchange import test_corridors

actors, corridor, moldova = test_corridors.actors, test_corridors.corridor, test_corridors.moldova


def _pipeline(page: Any) -> dict[str, str]:
    rows = page.locator("#corridor-pipeline tbody tr").evaluate_all(
        "els => els.map(e => [e.dataset.stage, e.querySelector('td').textContent.trim()])"
    )
    return dict(rows)


def test_a_corridor_shows_charts_that_agree_with_their_tables(visitor_factory: Any, corridor: dict[str, Any]) -> None:
    visitor = visitor_factory()
    visitor.sign_in_as(corridor["users"]["morocco"])
    visitor.go("/corridors/MD-IT/", screenshot="corridor-outsider")
    page = visitor.page
    # Morocco reads D1, D2 and S1 live: groups 6, 7 and 9, two series each (zeros drawn too).
    assert chart_agrees_with_its_table(page, "corridor-places") == 6
    marks = page.locator("figure#corridor-places svg .point").evaluate_all("els => els.map(e => e.dataset.value)")
    assert sorted(int(v) for v in marks) == [0, 0, 3, 5, 17, 20]
    pipeline = _pipeline(page)
    assert pipeline["arrived"] == "<5" and pipeline["returned"] == "<5" and pipeline["selected"] == "8"
    expect(page.locator("#corridor-demand")).to_contain_text("D1 harvest")
    expect(page.locator("#corridor-demand")).not_to_contain_text("D5 partners only")
    visitor.go("/corridors/")

    italian = visitor_factory(locale="ar")
    italian.sign_in_as(corridor["users"]["italy"])
    italian.go("/corridors/MD-IT/", screenshot="corridor-destination-ar")
    assert chart_agrees_with_its_table(italian.page, "corridor-places") == 8
    pipeline = _pipeline(italian.page)
    assert pipeline["arrived"] == "3" and pipeline["returned"] == "1" and pipeline["nominated"] == "9"
