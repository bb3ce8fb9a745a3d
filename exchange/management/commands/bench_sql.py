"""``manage.py bench_sql``: the SQL each hot request runs, measured with EXPLAIN ANALYZE.

Scenario 4 of the benchmark plan (issue 15): for the listing list (filtered on an
ISCO prefix and a partner country), the unfiltered list, keyword search, the
detail and the public list, it makes the request through Django's test client
with the benchmark official's token (``exchange.loadgen.bench_token``), captures
every statement, and re-runs each read with ``EXPLAIN (ANALYZE, BUFFERS)``:
the figure is the sum of the statements' execution times and their number.

Scenario 7 compares the indexed keyword search (the statement the list runs for
``q=``) with ``ILIKE '%term%'`` over the same columns (and with the same page ranked on
the full vector, as before the rank vector), and times rewriting 2,000 listings'
vectors with and without the GIN index, each from a vacuumed table. Run it on data
from ``generate_load_data``.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tenancy import unscoped
from exchange.loadgen import bench_token
from opportunities.models import Listing

LIST = "/api/v1/listings/?occupation=92&partner_country=MA&page_size=50"
SCENARIOS = {
    "list (ISCO 92, partner MA, 50)": LIST,
    "list (ISCO 92, partner MA, 5)": LIST.replace("page_size=50", "page_size=5"),
    "list (no filter, 50)": "/api/v1/listings/?page_size=50",
    "search (q=nurse, 50)": "/api/v1/listings/?q=nurse&page_size=50",
    "detail": "/api/v1/listings/{id}/",
    "public list (50)": "/api/v1/public/listings/?page_size=50",
}
# What the request spends before the endpoint's own work (the token, the membership).
AUTH_TABLES = ('"accounts_apitoken"', '"accounts_membership"')
READS = ("SELECT", "WITH")
WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


class Rollback(Exception):
    pass


def explain_ms(sql: str) -> tuple[float, dict[str, Any]]:
    """Execution time of one statement (planning included) and its plan."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return plan[0]["Planning Time"] + plan[0]["Execution Time"], plan[0]


def request_sql(client: Client, url: str, *, runs: int = 3) -> dict[str, Any]:
    """Queries of one request, and the median over ``runs`` of their summed EXPLAIN ANALYZE time."""
    # Warmed up: the token's last use is written at most once a minute, and the reference
    # code sets the filters check are read once per process.
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        raise AssertionError(f"{url} answered {response.status_code}: {response.content[:300]!r}")
    statements = [q["sql"] for q in captured.captured_queries]
    # Reads only (a CTE too: the statistics' outcome totals are one): EXPLAIN ANALYZE runs them.
    reads = [sql for sql in statements if sql.lstrip().upper().startswith(READS) and not WRITES.search(sql)]
    totals = []
    plans: list[tuple[float, str, dict[str, Any]]] = []
    for _run in range(runs):
        timed = [(explain_ms(sql), sql) for sql in reads]
        totals.append(sum(ms for (ms, _plan), _sql in timed))
        plans = [(ms, sql, plan) for (ms, plan), sql in timed]
    endpoint = [sql for sql in statements if not any(table in sql.split(" WHERE ")[0] for table in AUTH_TABLES)]
    return {
        "url": url,
        "queries": len(statements),
        "endpoint_queries": len(endpoint),
        "sql_ms": statistics.median(totals),
        "plans": plans,
    }


class Command(BaseCommand):
    help = "EXPLAIN ANALYZE the SQL of the hot listing requests, and indexed search against ILIKE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--plans", action="store_true", help="Print each statement's plan.")
        parser.add_argument("--json", help="Write the figures to this file.")

    def handle(self, *args: Any, **options: Any) -> None:
        _org, secret = bench_token()
        client = Client(HTTP_AUTHORIZATION=f"Token {secret}")
        with unscoped("the benchmark picks a published listing to read"):
            listing_id = Listing.objects.filter(status="published", visibility="members").values_list("pk", flat=True)[
                0
            ]
        results: dict[str, Any] = {"listings": Listing.objects.using("default").count(), "requests": {}}
        self.stdout.write(f"{'request':<34} {'queries':>7} {'endpoint':>8} {'SQL ms':>8}")
        for name, url in SCENARIOS.items():
            figures = request_sql(client, url.format(id=listing_id))
            self.stdout.write(
                f"{name:<34} {figures['queries']:>7} {figures['endpoint_queries']:>8} {figures['sql_ms']:>8.2f}"
            )
            if options["plans"]:
                for ms, sql, plan in figures["plans"]:
                    self.stdout.write(f"\n  {ms:.2f} ms  {sql[:400]}")
                    self.stdout.write(_plan_text(plan["Plan"], "    "))
            results["requests"][name] = {k: v for k, v in figures.items() if k != "plans"}
        results["search_vs_ilike"] = self._search_vs_ilike()
        results["insert_with_gin"] = self._insert_cost()
        if options["json"]:
            with open(options["json"], "w") as out:
                json.dump(results, out, indent=2, default=str)

    def _search_vs_ilike(self) -> dict[str, float]:
        # The page of 50 best matches, as the list's filter asks for it, against ILIKE over the same
        # text; and the same page ranked as before the rank vector (ts_rank over the full, TOASTed
        # search vector), for the record.
        from django.contrib.postgres.search import SearchRank
        from django.db.models import F

        from opportunities.selectors import listing_query, listing_rank

        query = listing_query("nurse")
        assert query is not None
        ranks = {
            "indexed": listing_rank("nurse"),
            "full_vector_rank": SearchRank(F("search_vector"), query, weights=[0.6, 0.1, 0.4, 1.0]),
        }
        statements = {}
        with connection.cursor() as cursor:
            for name, rank in ranks.items():
                with unscoped("the same statement as the list, without the caller's visibility"):
                    sql, params = (
                        Listing.objects.filter(search_vector=query)
                        .annotate(rank=rank)
                        .order_by("-rank", "-published_at")
                        .values("id")[:50]
                        .query.sql_with_params()
                    )
                statements[name] = cursor.mogrify(sql, params)
        statements["ilike"] = (
            "SELECT id FROM opportunities_listing WHERE title ILIKE '%nurse%' OR summary ILIKE '%nurse%' "
            "OR description ILIKE '%nurse%' ORDER BY published_at DESC LIMIT 50"
        )
        runs: dict[str, list[float]] = {name: [] for name in statements}
        for _round in range(3):
            for name, sql in statements.items():
                runs[name].append(explain_ms(sql)[0])
        figures = {k: statistics.median(v) for k, v in runs.items()}
        self.stdout.write(
            f"search 'nurse' page: indexed {figures['indexed']:.1f} ms, ILIKE {figures['ilike']:.1f} ms, "
            f"{figures['ilike'] / figures['indexed']:.1f}×; ranked on the full vector (before) "
            f"{figures['full_vector_rank']:.1f} ms"
        )
        return figures

    def _insert_cost(self) -> dict[str, float]:
        """Re-writing 2,000 listings' vectors with the GIN index, then without it (rolled back)."""
        sql = (
            "UPDATE opportunities_listing SET search_vector = search_vector || ''::tsvector "
            "WHERE id IN (SELECT id FROM opportunities_listing ORDER BY id LIMIT 2000)"
        )
        figures: dict[str, list[float]] = {"with": [], "without": []}
        for _round in range(3):
            for case in ("with", "without"):
                # Each rewrite starts from a merged index, as autovacuum leaves it: a rolled-back
                # rewrite's entries stay in the GIN pending list and the next one would merge them.
                _vacuum_listings()
                try:
                    with transaction.atomic(), connection.cursor() as cursor:
                        if case == "without":
                            cursor.execute("DROP INDEX listing_search_vector")
                        started = time.perf_counter()
                        cursor.execute(sql)
                        figures[case].append((time.perf_counter() - started) * 1000)
                        raise Rollback
                except Rollback:
                    pass
        # The rolled-back rewrites leave dead row versions and their entries in every listing
        # index (the GIN pending lists too): clear them, as autovacuum would, so the requests
        # measured after this (bench_http, the next run) are not slowed.
        _vacuum_listings(analyze=True)
        result = {k: statistics.median(v) for k, v in figures.items()}
        self.stdout.write(
            f"vector writes (2,000 rows): with GIN {result['with']:.0f} ms, without {result['without']:.0f} ms, "
            f"{result['with'] / result['without']:.2f}×"
        )
        return result


def _vacuum_listings(*, analyze: bool = False) -> None:
    if connection.in_atomic_block:  # a caller's transaction (the tests): VACUUM cannot run there
        return
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {'ANALYZE ' if analyze else ''}opportunities_listing")


def _plan_text(node: dict[str, Any], indent: str) -> str:
    line = (
        f"{indent}{node['Node Type']}"
        f"{' on ' + node['Relation Name'] if 'Relation Name' in node else ''}"
        f"{' using ' + node['Index Name'] if 'Index Name' in node else ''}"
        f"  rows={node.get('Actual Rows')} est={node.get('Plan Rows')} "
        f"time={node.get('Actual Total Time')} ms"
    )
    children = [_plan_text(child, indent + "  ") for child in node.get("Plans", [])]
    return "\n".join([line, *children])
