"""CSV imports into a listing's outcomes ledger: queue a file, then validate and save it in a worker.

The same pattern as the profiles' SDMX-CSV import (exchange/profiles/imports.py):
``outcome_import_create`` (the request) checks who asks, keeps the text in an
``OutcomeImport`` and owes ``exchange.import_outcomes`` through the task outbox;
``outcome_import_run`` (the task, in the importing organisation's scope) checks
every row with ``OutcomeEntryInput`` against the ledger and the rows before it in
the same file (one ``LedgerBook``), then saves all of them under the listing's
lock in one transaction, or none. Errors are ``{row, column, message}``, ``row``
being the file's line (the header is 1; 0 is the whole file).

The format (docs/outcomes.md): a header naming at least ``origin_country``,
``period``, ``stage``, ``sex`` and ``count``; optionally ``isco_code``,
``corrects``, ``reason`` and ``match``. Other columns (the export's ``id``,
``organisation``, ``created_at``…) are ignored, so an export can be edited and
imported back as new entries or corrections.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from accounts.services import audit_record
from accounts.tenancy import Actor, through_access
from exchange import access
from exchange import imports as jobs
from exchange.imports import PROGRESS_EVERY, error
from exchange.models import ImportStatus, OutcomeImport
from exchange.outcomes.inputs import LedgerBook, OutcomeEntryInput
from exchange.outcomes.selectors import is_corrected
from exchange.outcomes.services import _lock, build_entry
from exchange.profiles.imports import _flat
from opportunities.models import Listing

REQUIRED = ("origin_country", "period", "stage", "sex", "count")
OPTIONAL = ("isco_code", "corrects", "reason", "match")
COLUMNS = (*REQUIRED, *OPTIONAL)

__all__ = ["outcome_import_create", "outcome_import_run"]


@through_access("a service writes into a ledger its caller resolved through exchange.access")
@transaction.atomic
def outcome_import_create(*, actor: Actor, listing: Listing, text: str, filename: str) -> OutcomeImport:
    """Queue a file for a listing's ledger (403/409 from ``can_record_outcomes``)."""
    access.can_record_outcomes(actor, listing).check()
    job = OutcomeImport.objects.create(
        organisation=actor.org, listing=listing, created_by=actor.user, filename=filename, content=text
    )
    audit_record(actor=actor, action="outcome.import_queued", obj=listing, changes={"import": str(job.pk)})
    from exchange.outbox import outbox_task_enqueue

    # Through the task outbox: a crash between commit and publish delays the run, never loses it.
    outbox_task_enqueue(
        task="exchange.import_outcomes",
        key=f"import_outcomes:{job.pk}",
        kwargs={"import_id": str(job.pk), "organisation_id": str(actor.org.pk)},
    )
    return job


@through_access("the import worker reads the listing its job names, in the job's organisation's scope")
def outcome_import_run(import_id: str) -> OutcomeImport:
    """Validate and save one queued import; bad rows are recorded on the job, never raised."""
    job = OutcomeImport.objects.select_related("listing", "organisation", "created_by").get(pk=import_id)
    return jobs.run_once(job, _run, failed_action="outcome.import_failed", obj=job.listing)


def parse(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[dict[str, Any]]]:
    """The file's records with their line numbers, or a header error."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        return [], [error(1, name, _("The header has no “%(column)s” column.") % {"column": name}) for name in missing]
    reader.fieldnames = header
    rows = []
    for record in reader:
        cells = {name: (record.get(name) or "").strip() for name in COLUMNS if name in header}
        if not any(cells.values()):
            continue
        rows.append((reader.line_num, cells))
    return rows, []


def _run(job: OutcomeImport, actor: Actor) -> OutcomeImport:
    _mark(job, status=ImportStatus.RUNNING, started_at=timezone.now(), processed=0, errors=[], saved=0)
    refusal = access.can_record_outcomes(actor, job.listing)
    if not refusal:
        return _fail(job, actor, [error(0, "", refusal.reason)])
    rows, errors = parse(job.content)
    _mark(job, total=len(rows))
    if errors or not rows:
        return _fail(job, actor, errors or [error(0, "", _("The file has no rows."))])
    entries, errors = _validate(job, actor, rows)
    if errors:
        return _fail(job, actor, errors)
    return _save(job, actor, entries)


def _validate(
    job: OutcomeImport, actor: Actor, rows: list[tuple[int, dict[str, str]]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    book = LedgerBook.load(job.listing)
    accepted: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for done, (line, cells) in enumerate(rows, start=1):
        decision = access.can_record_outcomes(actor, job.listing, cells.get("origin_country", "").upper() or None)
        if not decision:
            errors.append(error(line, "origin_country", decision.reason))
            continue
        data: dict[str, Any] = {name: value for name, value in cells.items() if value != ""}
        body = OutcomeEntryInput(data=data, listing=job.listing, book=book)
        if body.is_valid():
            values = body.validated_data
            book.accept(values, values.get("corrected_entry"))
            accepted.append(values)
        else:
            errors += [
                error(line, name if name in COLUMNS else "", message)
                for name, messages in body.errors.items()
                for message in _flat(messages)
            ]
        if done % PROGRESS_EVERY == 0:
            _mark(job, processed=done)
    _mark(job, processed=len(rows))
    return accepted, errors


_mark = jobs.mark


def _fail(job: OutcomeImport, actor: Actor, errors: list[dict[str, Any]]) -> OutcomeImport:
    return jobs.fail(job, actor, errors, action="outcome.import_failed", obj=job.listing)


def _save(job: OutcomeImport, actor: Actor, entries: list[dict[str, Any]]) -> OutcomeImport:
    """Every row in one transaction under the listing's lock, re-checked there; or none."""
    try:
        with transaction.atomic():
            listing = _lock(job.listing)
            book = LedgerBook.load(listing)
            rows = []
            for values in entries:
                # The ledger may have moved since the file was checked: check again under the lock.
                replaced = values.get("corrected_entry")
                problems = book.problems(values, replaced)
                if (
                    (replaced is not None and is_corrected(replaced.pk))
                    or problems
                    or not access.can_record_outcomes(actor, listing, values["origin_country"])
                ):
                    raise _Changed
                book.accept(values, values.get("corrected_entry"))
                rows.append(build_entry(actor=actor, listing=listing, values=values))
            for row in rows:  # one by one: created_at orders a file's rows as written
                row.save()
            _mark(job, status=ImportStatus.SUCCEEDED, saved=len(rows), finished_at=timezone.now())
            audit_record(
                actor=actor, action="outcome.imported", obj=listing, changes={"import": str(job.pk), "saved": len(rows)}
            )
    except (_Changed, serializers.ValidationError):
        return _fail(job, actor, [error(0, "", _("The ledger changed during the import: upload the file again."))])
    return job


class _Changed(Exception):
    pass
