"""``manage.py generate_load_data``: a synthetic world at scale, for the benchmarks (``make bench``).

Organisations (governments of many countries and one agency), listings in both
directions with 1–5 ISCO-08 unit groups each, partner-country lists and windows,
about 80 % published and the rest closed, expired, withdrawn or in moderation;
saved searches of which about 1 % want a typical listing (``exchange.loadgen``);
published migration profiles with their observations; with ``--outcomes N``, N
outcome ledger entries over the published demand listings (``synthetic_outcomes``:
both governments of each scheme reporting, women and men apart, a few corrections),
written with COPY. Listings and the rest are written in batches with ``bulk_create``;
the derived columns are the services' (see ``synthetic_world``).
The same ``--seed`` writes the same rows. It adds to what is there: run it on an
empty database (``--flush`` empties the tables it writes first).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from accounts.models import Organisation
from accounts.tenancy import unscoped
from exchange.loadgen import synthetic_world

# Emptied by --flush, children first (TRUNCATE … CASCADE also reaches what points at them).
TABLES = (
    "exchange_outcomeentry",
    "exchange_observation",
    "exchange_migrationprofile",
    "exchange_channel",
    "exchange_subscription",
    "opportunities_occupationline",
    "opportunities_listing",
)


class Command(BaseCommand):
    help = "Write synthetic organisations, listings, subscriptions and profiles in bulk (deterministic per --seed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organisations", type=int, default=300)
        parser.add_argument("--listings", type=int, default=10_000)
        parser.add_argument("--subscriptions", type=int, default=10_000)
        parser.add_argument("--profiles", type=int, default=200, help="Published profiles (one per country-year).")
        parser.add_argument(
            "--outcomes", type=int, default=0, help="Outcome ledger entries over the published demand listings."
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--flush", action="store_true", help="Empty the listing, subscription, profile and ledger tables first."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sizes = ("organisations", "listings", "subscriptions", "profiles", "outcomes")
        if min(options[name] for name in sizes) < 0:
            raise CommandError("Sizes must not be negative.")
        if options["organisations"] < 1:
            raise CommandError("--organisations must be at least 1.")
        started = time.perf_counter()
        with transaction.atomic():
            with connection.cursor() as cursor:
                # A bulk load, not a request: its COPY and the foreign keys checked at commit
                # run longer than the requests' statement_timeout.
                cursor.execute("SET LOCAL statement_timeout = 0")
            if options["flush"]:
                with connection.cursor() as cursor:
                    # Foreign keys are checked at commit; run what is pending before emptying.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    # Synthetic data only: the names are constants of this module.
                    cursor.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
                with unscoped("emptying the synthetic world"):
                    # Through the ORM: the benchmark official's membership and tokens go with them.
                    Organisation.objects.filter(slug__startswith="load-").delete()
            world = synthetic_world(
                organisations=options["organisations"],
                listings=options["listings"],
                subscriptions=options["subscriptions"],
                profiles=options["profiles"],
                seed=options["seed"],
                outcomes=options["outcomes"],
                stream=sys.stderr if options["verbosity"] else None,
            )
        with connection.cursor() as cursor:
            # Fresh statistics, or the first plans are guesses; and VACUUM, as autovacuum would
            # in time: it merges the GIN indexes' pending lists (fastupdate), which a bulk load
            # leaves long. Unmerged, every array or full-text filter scans them (issue 15: the
            # filtered list's count took 17 ms at 10k instead of 1 ms).
            # (VACUUM cannot run inside a transaction: a caller's, such as a test's, gets ANALYZE.)
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        self.stdout.write(
            f"{len(world.organisations):,} organisations, {world.listings:,} listings, "
            f"{world.subscriptions:,} subscriptions, {world.profiles:,} profiles, {world.outcomes:,} outcome entries "
            f"in {time.perf_counter() - started:.0f} s"
        )
