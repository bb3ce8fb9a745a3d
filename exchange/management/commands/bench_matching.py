"""``manage.py bench_matching``: the candidates of one newly published listing, SQL against a loop.

Scenario 5 of issue 15. On the synthetic world (``generate_load_data``) it publishes
one listing the way production does (created by an official of a German government,
submitted, approved by a moderator): nurses and care assistants recruited from
Morocco, the Philippines and India, as Germany's Triple Win does. Then, on the same
data and interleaved round by round, it times:

* **set-based**: ``exchange.matching.services.candidates(listing)``, the indexed
  query the matching task runs, fetched as the candidates' ids (ORM compile and
  round trip included);
* **naive loop**: ``candidates_in_python(listing, listings)``, the same rules in plain
  Python, over every listing of the world loaded beforehand with what the rules read
  (the owner through ``select_related``, only the columns they use). Only the loop is
  timed; the load is reported beside it. The loop must run no SQL (checked).

The two id sets must be identical. Only the candidate selection is compared: the
matching task (``listing_match``) then scores each candidate and writes the matches;
its time is reported for reference.

**Growth.** The same query on a tenth of the world in the same run: a copy of a
random tenth of the listings (the first ids; the ids are random) in a schema of its
own, with the same indexes (pending GIN entries merged, as ``VACUUM`` leaves them) and
fresh statistics, reached through ``search_path``. World ×10 at a time ratio below
10× is sub-linear; both plans are reported (indexes used, buffers).

Everything runs in one transaction that is rolled back.
"""

from __future__ import annotations

import datetime
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Organisation, OrganisationKind, Role, User
from accounts.services import membership_add
from accounts.tenancy import Actor, unscoped
from exchange.loadgen import BENCH_ORGANISATION
from exchange.management.bench_support import Rollback, Statements, write_json
from exchange.matching.services import candidates, candidates_in_python, listing_match
from opportunities.inputs import ListingWriteSerializer
from opportunities.models import Listing
from opportunities.services import listing_create, listing_transition

SUBSET_SCHEMA = "bench_matching_subset"
# What ``is_candidate`` and the read rule read of each listing and its owner (nothing else is
# loaded: the naive side is not charged for search vectors and descriptions it never reads).
LOADED = (
    "status",
    "direction",
    "owner_country",
    "starts_on",
    "ends_on",
    "isco_prefixes",
    "partner_countries",
    "visibility",
    "requires_origin_consent",
    "owner__is_active",
    "owner__kind",
    "owner__country",
)


class Command(BaseCommand):
    help = "Time one listing's candidate selection: the indexed SQL against a naive Python loop (same ids)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rounds", type=int, default=5, help="Interleaved rounds (median reported).")
        parser.add_argument("--factor", type=int, default=10, help="The world is this many times the subset.")
        parser.add_argument("--json", help="Write the figures to this file.")

    def handle(self, *args: Any, **options: Any) -> None:
        rounds, factor = max(1, options["rounds"]), max(2, options["factor"])
        try:
            with unscoped("a benchmark over every organisation's listings"), transaction.atomic():
                results = self._run(rounds, factor)
                raise Rollback
        except Rollback:
            pass
        write_json(options["json"], results)
        self._report(results)

    def _run(self, rounds: int, factor: int) -> dict[str, Any]:
        listing = _publish_new_listing()
        sql_ids = _sql_ids(listing)
        started = time.perf_counter()
        world = list(Listing.objects.select_related("owner").only(*LOADED))
        load_ms = (time.perf_counter() - started) * 1000
        loop_ids, loop_statements = _loop_ids(listing, world)
        if sql_ids != loop_ids:
            raise AssertionError(
                f"the SQL found {len(sql_ids)} candidates and the loop {len(loop_ids)}: "
                f"{len(sql_ids - loop_ids)} only in SQL, {len(loop_ids - sql_ids)} only in the loop"
            )
        sql_ms: list[float] = []
        loop_ms: list[float] = []
        for _round in range(rounds):
            sql_ms.append(_timed(lambda: _sql_ids(listing)))
            loop_ms.append(_timed(lambda: _loop_ids(listing, world)))
        growth = _growth(listing, factor, rounds)
        match_ms = _listing_match_ms(listing)
        sql, loop = statistics.median(sql_ms), statistics.median(loop_ms)
        return {
            "listing": {
                "title": listing.title,
                "owner_country": listing.owner_country,
                "direction": listing.direction,
                "partner_countries": listing.partner_countries,
                "isco_codes": sorted(p for p in listing.isco_prefixes if len(p) == 4),
            },
            "listings": len(world),
            "published": sum(1 for other in world if other.status == "published"),
            "candidates": len(sql_ids),
            "same_ids": sql_ids == loop_ids,
            "loop_statements": loop_statements,
            "sql_ms": sql,
            "loop_ms": loop,
            "load_ms": load_ms,
            "ratio": loop / sql,
            "ratio_with_load": (load_ms + loop) / sql,
            "target": 100,
            "listing_match_ms": match_ms,
            "rounds": {"sql_ms": sql_ms, "loop_ms": loop_ms},
            "growth": growth,
        }

    def _report(self, r: dict[str, Any]) -> None:
        g = r["growth"]
        self.stdout.write(
            f"Matching one new listing ({r['listing']['title']}) against {r['listings']:,} listings "
            f"({r['published']:,} published): {r['candidates']} candidates, same ids in SQL and loop: {r['same_ids']}\n"
            f"  set-based SQL   {r['sql_ms']:9.2f} ms\n"
            f"  naive loop      {r['loop_ms']:9.2f} ms  ({r['loop_statements']} statements; loading the listings "
            f"first: {r['load_ms']:.0f} ms)\n"
            f"  ratio           {r['ratio']:9.1f}×  (loop only; {r['ratio_with_load']:.0f}× with the load)\n"
            f"  listing_match (selection, scoring, writing): {r['listing_match_ms']:.1f} ms\n"
            f"Growth: {g['subset_listings']:,} → {g['listings']:,} listings (×{g['factor']}), candidates "
            f"{g['subset_candidates']} → {g['candidates']}: SQL {g['subset_ms']:.2f} → {g['full_ms']:.2f} ms "
            f"({g['ratio']:.2f}×); EXPLAIN {g['subset_plan']['execution_ms']:.2f} → "
            f"{g['full_plan']['execution_ms']:.2f} ms, "
            f"buffers {g['subset_plan']['buffers']} → {g['full_plan']['buffers']}, "
            f"indexes {', '.join(g['full_plan']['indexes']) or 'none'}\n"
        )


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) * 1000


def _sql_ids(listing: Listing) -> set[Any]:
    return set(candidates(listing).values_list("pk", flat=True))


def _loop_ids(listing: Listing, world: list[Listing]) -> tuple[set[Any], int]:
    with Statements() as statements:
        found = {other.pk for other in candidates_in_python(listing, world)}
    return found, statements.count


def _publish_new_listing() -> Listing:
    """Germany's nurses and care assistants from Morocco, the Philippines and India, published."""
    owner = Organisation.objects.filter(slug=BENCH_ORGANISATION).first()
    agency = Organisation.objects.filter(kind=OrganisationKind.AGENCY, is_active=True).order_by("slug").first()
    if owner is None or agency is None:
        raise CommandError("No synthetic world here: run manage.py generate_load_data first.")
    official = User.objects.create_user(email="bench-matching@corridor.invalid", password=None, full_name="Benchmark")
    membership_add(organisation=owner, user=official, role=Role.OFFICIAL)
    moderator = User.objects.create_user(
        email="bench-matching-moderator@corridor.invalid", password=None, full_name="Benchmark"
    )
    membership_add(organisation=agency, user=moderator, role=Role.MODERATOR)
    actor = Actor(user=official, organisation=owner, role=Role.OFFICIAL)
    today = timezone.localdate()
    body = ListingWriteSerializer(
        data={
            "direction": "demand",
            "title": "Nurses and care assistants for hospitals and care homes",
            "scheme_type": "g2g_recruitment",
            "visibility": "members",
            "partner_countries": ["MA", "PH", "IN"],
            "starts_on": (today + datetime.timedelta(days=120)).isoformat(),
            "ends_on": (today + datetime.timedelta(days=850)).isoformat(),
            "application_deadline": (today + datetime.timedelta(days=60)).isoformat(),
            "occupation_lines": [{"isco_code": "2221", "quantity": 200}, {"isco_code": "5321", "quantity": 300}],
        },
        context={"actor": actor},
    )
    body.is_valid(raise_exception=True)
    listing = listing_create(actor=actor, data=body.validated_data)
    listing_transition(actor=actor, listing=listing, action="submit")
    listing_transition(
        actor=Actor(user=moderator, organisation=agency, role=Role.MODERATOR), listing=listing, action="approve"
    )
    return Listing.objects.select_related("owner").get(pk=listing.pk)


def _explain(query: QuerySet[Any]) -> dict[str, Any]:
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = (plan if isinstance(plan, list) else json.loads(plan))[0]
    indexes: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        if "Index Name" in node:
            indexes.add(node["Index Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    top = plan["Plan"]
    return {
        "execution_ms": plan["Planning Time"] + plan["Execution Time"],
        "buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
        "indexes": sorted(indexes),
        "rows": top.get("Actual Rows"),
    }


def _growth(listing: Listing, factor: int, rounds: int) -> dict[str, Any]:
    """The query on the whole world and on a copy of 1/``factor`` of it, in this transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema(), current_setting('search_path'), count(*) FROM opportunities_listing")
        schema, path, total = cursor.fetchone()
        size = total // factor
        table = connection.ops.quote_name("opportunities_listing")
        cursor.execute(f"CREATE SCHEMA {SUBSET_SCHEMA}")
        cursor.execute(f"CREATE TABLE {SUBSET_SCHEMA}.{table} (LIKE {schema}.{table} INCLUDING ALL)")
        # Every stored column but the generated ones (the copy computes those itself).
        cursor.execute(
            "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)"
            " FROM information_schema.columns WHERE table_schema = %s AND table_name = 'opportunities_listing'"
            " AND is_generated = 'NEVER'",
            [schema],
        )
        (columns,) = cursor.fetchone()
        cursor.execute(
            f"INSERT INTO {SUBSET_SCHEMA}.{table} ({columns}) SELECT {columns} FROM {schema}.{table}"  # noqa: S608 - catalogue names
            " ORDER BY id LIMIT %s",
            [size],
        )
        # Settled as VACUUM leaves an index: the GIN pending lists merged (cf. generate_load_data).
        cursor.execute(
            "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_am am ON am.oid = c.relam WHERE i.indrelid = %s::regclass AND am.amname = 'gin'",
            [f"{SUBSET_SCHEMA}.opportunities_listing"],
        )
        cursor.execute(f"ANALYZE {SUBSET_SCHEMA}.{table}")

    def on(search_path: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('search_path', %s, true)", [search_path])

    subset_path = f"{SUBSET_SCHEMA}, {path}"
    full_ms: list[float] = []
    subset_ms: list[float] = []
    for _round in range(rounds):
        on(subset_path)
        subset_ms.append(_timed(lambda: _sql_ids(listing)))
        on(path)
        full_ms.append(_timed(lambda: _sql_ids(listing)))
    on(subset_path)
    subset_candidates = len(_sql_ids(listing))
    subset_plan = _explain(candidates(listing).values("pk"))
    on(path)
    full_plan = _explain(candidates(listing).values("pk"))
    full, subset = statistics.median(full_ms), statistics.median(subset_ms)
    return {
        "factor": factor,
        "listings": total,
        "subset_listings": size,
        "candidates": len(_sql_ids(listing)),
        "subset_candidates": subset_candidates,
        "full_ms": full,
        "subset_ms": subset,
        "ratio": full / subset,
        "sub_linear": full / subset < factor,
        "full_plan": full_plan,
        "subset_plan": subset_plan,
    }


def _listing_match_ms(listing: Listing) -> float:
    """The whole matching task (selection, scoring, writing the matches), rolled back."""
    try:
        with transaction.atomic():
            elapsed = _timed(lambda: listing_match(str(listing.pk)))
            raise Rollback
    except Rollback:
        return elapsed
