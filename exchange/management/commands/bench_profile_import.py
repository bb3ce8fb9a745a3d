"""``manage.py bench_profile_import``: importing an SDMX-CSV file of N figures, against the per-figure path.

Writes a throwaway government, official and draft profile, generates ``--rows``
valid figures (four indicators by sex, age band and year, women and men within
the total), and times, on the same file:

* **import** — the service the Celery task runs
  (``exchange.profiles.imports.profile_import_run``): the catalogue and the
  draft's figures read once, every row validated in memory, saved in batches;
* **per figure** (the baseline) — what a client posting the same rows one by one
  to ``POST /api/v1/profiles/{id}/observations/`` costs the server: each row
  validated by ``ObservationInput`` against the database, then
  ``observation_save`` (its lock, its audit row).

Rounds alternate the two (``--rounds``), each in a transaction that is rolled
back, so both meet the same empty draft and nothing is left in the database.
The report is the medians, their ratio and the SQL statements each ran.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Organisation, OrganisationKind, Role, User, VerificationStatus
from accounts.services import membership_add
from accounts.tenancy import Actor, tenant_boundary, unscoped
from exchange.models import ImportStatus, MigrationProfile, Observation, ProfileImport
from exchange.profiles import sdmx
from exchange.profiles.imports import profile_import_run, row_data
from exchange.profiles.inputs import ObservationInput
from exchange.profiles.services import observation_save

INDICATORS = ("MIG_STOCK_IN", "MIG_STOCK_OUT", "EMP_MIGRANTS", "REFUGEES_HOSTED")  # persons, by sex and age
SEXES = (("T", 1000), ("F", 450), ("M", 500))


class Rollback(Exception):
    pass


def generated_file(rows: int, *, year: int) -> str:
    """``rows`` distinct, valid figures of Moldova, as SDMX-CSV."""
    ages = ["_T", *(f"Y{a}-{a + 4}" for a in range(0, 100, 5)), *(f"Y_GE{a}" for a in range(15, 100))]
    periods = range(year - 25, year + 1)
    lines = [",".join(sdmx.HEADER)]
    keys = itertools.product(INDICATORS, periods, ages, SEXES)
    for indicator, period, age, (sex, value) in itertools.islice(keys, rows):
        lines.append(f"{sdmx.DATAFLOW},MDA,{indicator},{sex},{age},{period},{value},persons,benchmark,")
    if len(lines) - 1 < rows:
        raise CommandError(f"at most {len(lines) - 1} distinct figures can be generated")
    return "\r\n".join(lines) + "\r\n"


def _import(actor: Actor, profile: MigrationProfile, text: str) -> None:
    job = ProfileImport.objects.create(
        organisation=actor.org, profile=profile, created_by=actor.user, filename="bench.csv", content=text
    )
    profile_import_run(str(job.pk))
    job.refresh_from_db()
    if job.status != ImportStatus.SUCCEEDED:
        raise CommandError(f"the import {job.status}: {job.errors[:5]}")


def _per_figure(actor: Actor, profile: MigrationProfile, text: str) -> None:
    for row in sdmx.parse(text).rows:
        body = ObservationInput(data=row_data(row), profile=profile)
        if not body.is_valid():
            raise CommandError(f"line {row.line}: {body.errors}")
        observation_save(actor=actor, profile=profile, data=body.validated_data)


class Command(BaseCommand):
    help = "Time an SDMX-CSV import of --rows figures against posting them one by one (rolled back)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=10_000)
        parser.add_argument("--rounds", type=int, default=1)
        parser.add_argument(
            "--import-only",
            action="store_true",
            help="Time the import alone (the per-figure baseline takes minutes at 10,000 rows).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        rows, rounds = options["rows"], options["rounds"]
        # The latest year the throwaway Moldovan profile can take: a synthetic world
        # (generate_load_data --profiles) may already hold Moldova's recent profiles.
        with unscoped("which years already have a Moldovan profile"):
            taken = set(MigrationProfile.objects.filter(country="MD").values_list("year", flat=True))
        year = timezone.localdate().year - 1
        while year in taken:
            year -= 1
        text = generated_file(rows, year=year)
        ways: dict[str, Callable[[Actor, MigrationProfile, str], None]] = {
            "import": _import,
            "per figure": _per_figure,
        }
        if options["import_only"]:
            del ways["per figure"]
        seconds: dict[str, list[float]] = {name: [] for name in ways}
        statements: dict[str, int] = {}
        for _round in range(rounds):
            for name, way in ways.items():
                elapsed, count = self._measure(way, text, rows, year)
                seconds[name].append(elapsed)
                statements[name] = count
        median = {name: statistics.median(times) for name, times in seconds.items()}
        self.stdout.write(f"{rows:,} figures, {rounds} round(s), same file, rolled back")
        for name in ways:
            self.stdout.write(
                f"  {name:>10}: {median[name]:8.2f} s  {rows / median[name]:8,.0f} rows/s  "
                f"{statements[name]:>7,} SQL statements"
            )
        if "per figure" in median:
            self.stdout.write(f"  ratio (per figure ÷ import): {median['per figure'] / median['import']:.1f}×")

    def _measure(
        self, way: Callable[[Actor, MigrationProfile, str], None], text: str, rows: int, year: int
    ) -> tuple[float, int]:
        result: tuple[float, int] = (0.0, 0)
        try:
            with unscoped("a benchmark over its own throwaway organisation"), transaction.atomic():
                org = Organisation.objects.create(
                    name="Benchmark Moldova",
                    slug="bench-import-md",
                    kind=OrganisationKind.GOVERNMENT,
                    country="MD",
                    verification_status=VerificationStatus.VERIFIED,
                )
                user = User.objects.create_user(email="bench-import@md.example", password=None)
                membership_add(organisation=org, user=user, role=Role.OFFICIAL)
                profile = MigrationProfile.objects.create(owner=org, country="MD", year=year, visibility="members")
                actor = Actor(user=user, organisation=org, role=Role.OFFICIAL)
                with tenant_boundary(actor), CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    way(actor, profile, text)
                    elapsed = time.perf_counter() - started
                saved = Observation.objects.filter(profile=profile).count()
                if saved != rows:
                    raise CommandError(f"{saved} figures saved, not {rows}")
                # CaptureQueriesContext keeps the last 9,000; the count of executed ones is exact.
                result = (elapsed, (queries.final_queries or 0) - queries.initial_queries)
                raise Rollback
        except Rollback:
            pass
        return result
