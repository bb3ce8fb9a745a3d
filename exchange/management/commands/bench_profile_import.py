"""``manage.py bench_profile_import``: the cost of importing an SDMX-CSV file of N figures.

Writes a throwaway government, official and draft profile, generates ``--rows``
valid figures (three indicators by sex, age band and year, women and men within
the total), and runs the import service the Celery task runs
(``exchange.profiles.imports.profile_import_run``) in that organisation's scope,
counting its SQL statements. Everything runs in a transaction that is rolled
back: nothing is left in the database.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Organisation, OrganisationKind, Role, User
from accounts.services import membership_add
from accounts.tenancy import Actor, tenant_boundary, unscoped
from exchange.models import ImportStatus, MigrationProfile, Observation, ProfileImport
from exchange.profiles import sdmx
from exchange.profiles.imports import profile_import_run

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


class Command(BaseCommand):
    help = "Time an SDMX-CSV import of --rows figures into a draft profile (rolled back)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=10_000)

    def handle(self, *args: Any, **options: Any) -> None:
        rows = options["rows"]
        year = timezone.localdate().year - 1
        text = generated_file(rows, year=year)
        try:
            with unscoped("a benchmark over its own throwaway organisation"), transaction.atomic():
                org = Organisation.objects.create(
                    name="Benchmark Moldova", slug="bench-import-md", kind=OrganisationKind.GOVERNMENT, country="MD"
                )
                user = User.objects.create_user(email="bench-import@md.example", password=None)
                membership_add(organisation=org, user=user, role=Role.OFFICIAL)
                profile = MigrationProfile.objects.create(owner=org, country="MD", year=year, visibility="members")
                job = ProfileImport.objects.create(
                    organisation=org, profile=profile, created_by=user, filename="bench.csv", content=text
                )
                actor = Actor(user=user, organisation=org, role=Role.OFFICIAL)
                with tenant_boundary(actor), CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    profile_import_run(str(job.pk))
                    elapsed = time.perf_counter() - started
                job.refresh_from_db()
                saved = Observation.objects.filter(profile=profile).count()
                if job.status != ImportStatus.SUCCEEDED or saved != rows:
                    raise CommandError(f"the import {job.status}: {job.errors[:5]}")
                self.stdout.write(
                    f"{rows} rows imported in {elapsed:.2f} s: {rows / elapsed:,.0f} rows/s, "
                    f"{len(queries)} SQL statements ({saved} figures saved, rolled back)"
                )
                raise Rollback
        except Rollback:
            pass
