"""``manage.py bench_stats``: the SQL of each statistics chart and corridor, measured with EXPLAIN ANALYZE.

Scenario 10 of the benchmark plan (issue 15): at 100k listings and 1M outcome
entries, each chart costs at most 50 ms of SQL. For each statistics table
(``/api/v1/statistics/{name}/``), the open data's outcome totals, a busy corridor
(API and page) and the statistics page, it makes the request through Django's test
client as three readers — the benchmark official (``exchange.loadgen.bench_token``:
a destination government's, whose outcome totals count the public schemes), an
agency's viewer (every published scheme: the whole ledger) and an anonymous visitor
— captures every statement and re-runs each read with ``EXPLAIN (ANALYZE, BUFFERS)``
(``bench_sql.request_sql``). A chart's figure is the sum of its request's statements
other than authentication. Run it on data from ``generate_load_data --outcomes``.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.test import Client

from accounts.models import Role, User
from accounts.tenancy import unscoped
from exchange.loadgen import BENCH_EMAIL, bench_token
from exchange.management.commands.bench_sql import _plan_text, request_sql
from exchange.models import OutcomeEntry
from exchange.statistics.selectors import TABLES
from opportunities.models import Listing

AGENCY = "load-agency"
AGENCY_EMAIL = "load-agency-viewer@corridor.invalid"
# The busiest corridor of the synthetic world: Morocco (ORIGINS[0]) to Germany (DESTINATIONS[0],
# the benchmark official's country, so it reads the corridor's exact figures).
CORRIDOR = "MA-DE"
TARGET_MS = 50.0
PAGES = (f"/corridors/{CORRIDOR}/", "/statistics/")


def charts(*, agency: bool) -> dict[str, str]:
    """Each chart (or corridor) and the URL that draws it, for one reader."""
    urls = {
        f"statistics: {name}": f"/api/v1/statistics/{name}/"
        for name in TABLES
        if name != "moderation-turnaround" or agency
    }
    urls["open data: outcome-totals.csv"] = "/api/v1/open-data/outcome-totals.csv"
    return urls


class Command(BaseCommand):
    help = "EXPLAIN ANALYZE the SQL of every statistics chart and of a corridor, for three readers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--plans", action="store_true", help="Print each statement's plan.")
        parser.add_argument("--runs", type=int, default=3, help="EXPLAIN ANALYZE runs; the median counts.")
        parser.add_argument("--json", help="Write the figures to this file.")

    def handle(self, *args: Any, **options: Any) -> None:
        _org, secret = bench_token()
        _agency, agency_secret = bench_token(slug=AGENCY, email=AGENCY_EMAIL, role=Role.VIEWER)
        with unscoped("the benchmark counts the synthetic world"):
            official = User.objects.get(email=BENCH_EMAIL)
            sizes = {"listings": Listing.objects.count(), "outcome_entries": OutcomeEntry.objects.count()}
        page_client = Client()
        page_client.force_login(official)
        readers = {
            "official": (Client(HTTP_AUTHORIZATION=f"Token {secret}"), False),
            "agency": (Client(HTTP_AUTHORIZATION=f"Token {agency_secret}"), True),
            "anonymous": (Client(), False),
        }
        results: dict[str, Any] = {**sizes, "target_ms": TARGET_MS, "readers": {}}
        self.stdout.write(f"{'reader':<10} {'chart':<44} {'queries':>7} {'endpoint':>8} {'SQL ms':>8}")
        for reader, (client, agency) in readers.items():
            urls = charts(agency=agency)
            if reader != "anonymous":  # the corridors are for members
                urls[f"corridor {CORRIDOR} (API)"] = f"/api/v1/corridors/{CORRIDOR}/"
            if reader == "official":  # the pages in the official's session
                urls[f"corridor {CORRIDOR} (page)"] = f"/corridors/{CORRIDOR}/"
            if reader != "agency":  # (an agency's pages ask for a second factor)
                urls["statistics page"] = "/statistics/"
            figures_by_chart: dict[str, Any] = {}
            for chart, url in urls.items():
                on = page_client if reader == "official" and url in PAGES else client
                figures = request_sql(on, url, runs=options["runs"])
                plans = figures.pop("plans")
                figures["slowest_ms"] = max((ms for ms, _sql, _plan in plans), default=0.0)
                figures_by_chart[chart] = figures
                self.stdout.write(
                    f"{reader:<10} {chart:<44} {figures['queries']:>7} {figures['endpoint_queries']:>8} "
                    f"{figures['sql_ms']:>8.2f}"
                )
                if options["plans"]:
                    for ms, sql, plan in plans:
                        self.stdout.write(f"\n  {ms:.2f} ms  {sql[:400]}")
                        self.stdout.write(_plan_text(plan["Plan"], "    "))
            results["readers"][reader] = figures_by_chart
        results["worst"] = worst(results)
        self.stdout.write(
            f"worst chart: {results['worst']['chart']} ({results['worst']['reader']}), "
            f"{results['worst']['sql_ms']:.2f} ms of SQL (target ≤ {TARGET_MS:.0f} ms)"
        )
        if options["json"]:
            with open(options["json"], "w") as out:
                json.dump(results, out, indent=2, default=str)


def worst(results: dict[str, Any]) -> dict[str, Any]:
    """The chart with the most SQL over every reader (the statistics page, all charts at once, left out)."""
    rows = [
        {"reader": reader, "chart": chart, **figures}
        for reader, by_chart in results["readers"].items()
        for chart, figures in by_chart.items()
        if chart != "statistics page"
    ]
    return max(rows, key=lambda row: row["sql_ms"])
