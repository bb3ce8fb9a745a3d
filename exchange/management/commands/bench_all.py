"""``manage.py bench_all``: the benchmark suite of issue 15, one table at the end.

``make bench`` (100k listings and subscriptions) and ``make bench-quick`` (10k) call
it. It makes sure the synthetic world has the asked size (``generate_load_data``,
skipped when the database already holds exactly that many listings: generating
100k takes minutes), then runs, on that data and in this order:

* ``bench_sql``: the SQL of the hot requests (EXPLAIN ANALYZE), search against ILIKE;
* ``bench_http``: Corridor behind gunicorn against a bare psycopg + orjson app;
* ``bench_fanout``: set-based fan-out against a per-subscription loop (its own data,
  rolled back);
* ``bench_matching``: one new listing's candidates, the indexed query against a naive
  loop, and the query on a tenth of the world (rolled back);
* ``bench_relay``: deliveries handed to Redis per second against ``redis-benchmark``
  LPUSH (rolled back; its messages under a key prefix of its own, deleted);
* ``bench_e2e``: approval → first webhook attempt with a real Celery worker, against
  a one-subscriber approval (its rows deleted afterwards).

It writes every figure to ``bench/results/<date>.json`` and prints a Markdown table:
scenario | baseline | candidate | ratio | target | pass/short.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.utils import timezone

from accounts.tenancy import unscoped
from exchange.models import OutcomeEntry
from opportunities.models import Listing


class Command(BaseCommand):
    help = "Run the issue 15 benchmarks on a synthetic world and print the Markdown table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--listings", type=int, default=100_000)
        parser.add_argument("--subscriptions", type=int, default=100_000)
        parser.add_argument("--requests", type=int, default=200)
        parser.add_argument(
            "--fanout", type=int, nargs="*", default=[10_000], help="bench_fanout sizes; none to leave it out."
        )
        parser.add_argument("--relay", type=int, default=10_000, help="bench_relay deliveries; 0 to leave it out.")
        parser.add_argument("--approvals", type=int, default=10, help="bench_e2e approvals; 0 to leave it out.")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        # Scenario 10 reads the outcomes ledger: 1M entries beside 100k listings, 100k otherwise.
        outcomes = 1_000_000 if options["listings"] >= 100_000 else 100_000
        with unscoped("the benchmark counts the synthetic world"):
            present = (Listing.objects.count(), OutcomeEntry.objects.count())
        if present != (options["listings"], outcomes):
            call_command(
                "generate_load_data",
                listings=options["listings"],
                subscriptions=options["subscriptions"],
                organisations=max(100, options["listings"] // 200),
                profiles=min(1000, options["listings"] // 100),
                outcomes=outcomes,
                seed=options["seed"],
                flush=True,
            )
        else:
            with connection.cursor() as cursor:
                # Data reused from an earlier run: settled as autovacuum leaves it (GIN pending
                # lists merged; see generate_load_data), so that runs compare.
                cursor.execute("VACUUM ANALYZE opportunities_listing, opportunities_occupationline")
        results: dict[str, Any] = {"listings": options["listings"], "subscriptions": options["subscriptions"]}
        with tempfile.TemporaryDirectory() as tmp:
            call_command("bench_sql", json=f"{tmp}/sql.json")
            results["sql"] = json.loads(Path(f"{tmp}/sql.json").read_text())
            call_command("bench_http", json=f"{tmp}/http.json", requests=options["requests"])
            results["http"] = json.loads(Path(f"{tmp}/http.json").read_text())
            call_command("bench_matching", json=f"{tmp}/matching.json")
            results["matching"] = json.loads(Path(f"{tmp}/matching.json").read_text())
            if options["relay"]:
                call_command("bench_relay", json=f"{tmp}/relay.json", deliveries=options["relay"])
                results["relay"] = json.loads(Path(f"{tmp}/relay.json").read_text())
            if options["approvals"]:
                call_command("bench_e2e", json=f"{tmp}/e2e.json", approvals=options["approvals"])
                results["e2e"] = json.loads(Path(f"{tmp}/e2e.json").read_text())
            call_command("bench_stats", json=f"{tmp}/stats.json")
            results["stats"] = json.loads(Path(f"{tmp}/stats.json").read_text())
        results["fanout"] = []
        if options["fanout"]:
            # Its own subscriptions come on top of the world's: the loop reads them all.
            out = io.StringIO()
            call_command("bench_fanout", subscriptions=options["fanout"], stdout=out)
            self.stdout.write(out.getvalue())
            results["fanout"] = _fanout(out.getvalue())
        rows = table(results)
        results["table"] = rows
        # make bench writes <date>.json; a smaller world (bench-quick) says its size.
        size = "" if options["listings"] >= 100_000 else f"-{options['listings']}"
        path = Path(settings.BASE_DIR) / "bench" / "results" / f"{timezone.now():%Y-%m-%d}{size}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, default=str))
        self.stdout.write(f"\nListings: {options['listings']:,}. Figures in {path.relative_to(settings.BASE_DIR)}.\n")
        self.stdout.write(markdown(rows))


def _fanout(text: str) -> list[dict[str, float]]:
    """The rows of bench_fanout's report: size, set-based ms, naive ms, ratio."""
    rows = []
    for line in text.splitlines():
        match = re.match(
            r"\s*([\d,]+)\s+([\d,]+)\s+([\d,]+) \|\s+\d+\s+([\d.]+) \|\s+[\d,]+\s+([\d.]+) \|\s+([\d.]+)×", line
        )
        if match:
            size, _r, _d, set_ms, naive_ms, ratio = match.groups()
            rows.append(
                {
                    "subscriptions": int(size.replace(",", "")),
                    "set_ms": float(set_ms),
                    "naive_ms": float(naive_ms),
                    "ratio": float(ratio),
                }
            )
    return rows


def table(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(name: str, baseline: str, candidate: str, ratio: float | None, target: str, passed: bool | None) -> None:
        verdict = (
            ("not run" if target.startswith("see ") else "—") if passed is None else ("pass" if passed else "short")
        )
        shown = "—" if ratio is None else f"{ratio:.2f}×"
        rows.append(
            {
                "scenario": name,
                "baseline": baseline,
                "candidate": candidate,
                "ratio": shown,
                "target": target,
                "result": verdict,
            }
        )

    http = results["http"]
    for name, figures in http.items():
        if "ratio_p50" in figures:
            ok = figures["ratio_p50"] <= figures["target"] and figures["same_ids"]
            add(
                f"{name}, p50",
                f"{figures['baseline_p50']:.1f} ms",
                f"{figures['candidate_p50']:.1f} ms",
                figures["ratio_p50"],
                f"≤ {figures['target']}× (same ids: {figures['same_ids']})",
                ok,
            )
            if figures.get("target_p99"):
                add(
                    f"{name}, p99",
                    f"{figures['baseline_p99']:.1f} ms",
                    f"{figures['candidate_p99']:.1f} ms",
                    figures["ratio_p99"],
                    f"≤ {figures['target_p99']}×",
                    figures["ratio_p99"] <= figures["target_p99"],
                )
        else:
            add(
                name,
                f"{figures['baseline_rps']:.0f} req/s",
                f"{figures['candidate_rps']:.0f} req/s",
                figures["ratio"],
                f"≥ {figures['target']}×",
                figures["ratio"] >= figures["target"],
            )
    sql = results["sql"]["requests"]
    limits = {"list (ISCO 92, partner MA, 50)": 5, "detail": 2, "search (q=nurse, 50)": 40}
    for name, figures in sql.items():
        limit = limits.get(name)
        add(
            f"4. SQL of {name}",
            "—",
            f"{figures['sql_ms']:.2f} ms, {figures['queries']} queries",
            None,
            f"≤ {limit} ms" if limit else "(reported)",
            None if limit is None else figures["sql_ms"] <= limit,
        )
    small, big = sql["list (ISCO 92, partner MA, 5)"]["queries"], sql["list (ISCO 92, partner MA, 50)"]["queries"]
    add("4. queries, page of 50 vs page of 5", f"{small}", f"{big}", big / small, "= 1.0×, list ≤ 4", big == small)
    search = results["sql"]["search_vs_ilike"]
    add(
        "7. search 'nurse' page: GIN vs ILIKE (SQL)",
        f"{search['ilike']:.1f} ms",
        f"{search['indexed']:.1f} ms",
        search["ilike"] / search["indexed"],
        "≥ 50× faster",
        search["ilike"] / search["indexed"] >= 50,
    )
    gin = results["sql"]["insert_with_gin"]
    add(
        "7. vector writes with GIN vs without",
        f"{gin['without']:.0f} ms",
        f"{gin['with']:.0f} ms",
        gin["with"] / gin["without"],
        "≤ 1.5×",
        gin["with"] / gin["without"] <= 1.5,
    )
    for row in results["fanout"]:
        add(
            f"6. fan-out, {row['subscriptions']:,} subscriptions: set-based vs loop",
            f"{row['naive_ms']:.0f} ms",
            f"{row['set_ms']:.0f} ms",
            row["ratio"],
            "≥ 100× faster",
            row["ratio"] >= 100,
        )
    _scenario_rows(results, add)
    rows += stats_rows(results["stats"]) if "stats" in results else []
    return rows


def _scenario_rows(results: dict[str, Any], add: Callable[..., None]) -> None:
    """Scenarios 5 (matching), 8 (the delivery relay) and 9 (approval → first webhook)."""
    matching = results.get("matching")
    if matching:
        add(
            f"5. matching one listing ({matching['candidates']} candidates): SQL vs a loop in memory",
            f"{matching['loop_ms']:.1f} ms",
            f"{matching['sql_ms']:.1f} ms",
            matching["ratio"],
            f"≥ 100× faster (same ids: {matching['same_ids']})",
            matching["ratio"] >= 100 and matching["same_ids"],
        )
        add(
            "5. the same, loading the listings included",
            f"{matching['load_ms'] + matching['loop_ms']:.0f} ms",
            f"{matching['sql_ms']:.1f} ms",
            matching["ratio_with_load"],
            "≥ 100× faster (a naive engine reads its candidates too)",
            matching["ratio_with_load"] >= 100 and matching["same_ids"],
        )
        growth = matching["growth"]
        add(
            f"5. matching SQL, {growth['subset_listings']:,} → {growth['listings']:,} listings",
            f"{growth['subset_ms']:.1f} ms",
            f"{growth['full_ms']:.1f} ms",
            growth["ratio"],
            f"< {growth['factor']}× (sub-linear)",
            growth["sub_linear"],
        )
    relay = results.get("relay")
    if relay:
        add(
            f"8. delivery relay vs redis-benchmark LPUSH ({relay['raw_clients']} clients)",
            f"{relay['raw_per_s']:,.0f} /s",
            f"{relay['relay_per_s']:,.0f} /s",
            relay["ratio"],
            f"≥ {relay['target']}×",
            relay["ratio"] >= relay["target"],
        )
    e2e = results.get("e2e")
    if e2e:
        fanout, baseline = e2e["fanout"], e2e["baseline"]
        for stat, ratio in (("p50", e2e["ratio_p50"]), ("p95", e2e["ratio_p95"])):
            add(
                f"9. approval → first webhook, {stat} ({fanout['deliveries']:,} deliveries vs 1 subscriber)",
                f"{baseline['first_webhook_ms'][stat]:.0f} ms",
                f"{fanout['first_webhook_ms'][stat]:.0f} ms",
                ratio,
                f"p95 ≤ {e2e['target_p95_ms'] / 1000:.0f} s" if stat == "p95" else "(reported)",
                fanout["first_webhook_ms"]["p95"] <= e2e["target_p95_ms"] if stat == "p95" else None,
            )


def stats_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """Scenario 10: each chart's SQL for its costliest reader (bench_stats), against ≤ 50 ms."""
    worst: dict[str, tuple[str, dict[str, Any]]] = {}
    for reader, charts in stats["readers"].items():
        for chart, figures in charts.items():
            if chart != "statistics page" and (chart not in worst or figures["sql_ms"] > worst[chart][1]["sql_ms"]):
                worst[chart] = (reader, figures)
    return [
        {
            "scenario": f"10. {chart}, SQL ({reader})",
            "baseline": "—",
            "candidate": f"{figures['sql_ms']:.1f} ms, {figures['endpoint_queries']} statements",
            "ratio": "—",
            "target": f"≤ {stats['target_ms']:.0f} ms",
            "result": "pass" if figures["sql_ms"] <= stats["target_ms"] else "short",
        }
        for chart, (reader, figures) in worst.items()
    ]


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| scenario | baseline | candidate | ratio | target | pass/short |", "|---|---|---|---|---|---|"]
    lines += [
        f"| {r['scenario']} | {r['baseline']} | {r['candidate']} | {r['ratio']} | {r['target']} | {r['result']} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"
