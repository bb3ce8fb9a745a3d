"""SDMX-CSV imports into a draft profile: queue a file, then validate and save it in a worker.

``profile_import_create`` (the request) checks who asks, keeps the file's text in
a ``ProfileImport`` and owes ``exchange.import_profile`` through the task outbox (exchange/outbox.py).
``profile_import_run`` (the task) validates every row with ``ObservationInput``
against the profile's figures and the rows accepted before it in the same file
(``FigureBook``: the catalogue and the figures are read once, not per row), then
saves all of them in one transaction, or none.

What an import does to the draft: it **sets the figures it names** (one per
indicator, sex, age and year: a new key is added, a key the draft has already
takes the file's value, source and comment) and leaves the draft's other figures
as they are. A key named twice in one file is an error, like F + M > T across the
file's rows and the draft's remaining figures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from accounts.services import audit_record
from accounts.tenancy import Actor, through_access
from exchange import access
from exchange import imports as jobs
from exchange.imports import PROGRESS_EVERY
from exchange.models import ImportStatus, MigrationProfile, Observation, ProfileImport
from exchange.profiles import sdmx
from exchange.profiles.inputs import FigureBook, ObservationInput
from exchange.profiles.sdmx import COLUMN_OF, DATAFLOW, SEX_SYNONYMS, error

BATCH = 1000  # rows per INSERT / UPDATE statement


@through_access("a service writes into a profile its caller resolved through exchange.access")
@transaction.atomic
def profile_import_create(*, actor: Actor, profile: MigrationProfile, text: str, filename: str) -> ProfileImport:
    """Queue a file for a draft of the actor's own country (403/409 from ``can_edit_observations``)."""
    access.can_edit_observations(actor, profile).check()
    job = ProfileImport.objects.create(
        organisation=actor.org, profile=profile, created_by=actor.user, filename=filename, content=text
    )
    audit_record(actor=actor, action="profile.import_queued", obj=profile, changes={"import": str(job.pk)})
    from exchange.outbox import outbox_task_enqueue

    # Through the task outbox: a crash between commit and publish delays the run, never loses it.
    outbox_task_enqueue(
        task="exchange.import_profile",
        key=f"import_profile:{job.pk}",
        kwargs={"import_id": str(job.pk), "organisation_id": str(actor.org.pk)},
    )
    return job


@through_access("the import worker reads the profile its job names, in the job's organisation's scope")
def profile_import_run(import_id: str) -> ProfileImport:
    """Validate and save one queued import; bad rows are recorded on the job, never raised.

    Runs in the importing organisation's scope (the task's base). The uploader must
    still be allowed to change the figures, and the profile still be a draft, both
    when the work starts and under the profile's lock when it saves.
    """
    job = ProfileImport.objects.select_related("profile", "organisation", "created_by").get(pk=import_id)
    return jobs.run_once(job, _run, failed_action="profile.import_failed", obj=job.profile)


def _run(job: ProfileImport, actor: Actor) -> ProfileImport:
    _mark(job, status=ImportStatus.RUNNING, started_at=timezone.now(), processed=0, errors=[], saved=0)
    refusal = access.can_edit_observations(actor, job.profile)
    if not refusal:
        return _fail(job, actor, [error(0, "", refusal.reason)])
    parsed = sdmx.parse(job.content)
    _mark(job, total=len(parsed.rows))
    if parsed.errors and not parsed.rows:
        return _fail(job, actor, parsed.errors)

    book = FigureBook.load(job.profile)
    errors = list(parsed.errors)
    validate = _row_validator(job.profile, book)
    for done, row in enumerate(parsed.rows, start=1):
        errors.extend(validate(row))
        if done % PROGRESS_EVERY == 0:
            _mark(job, processed=done)  # committed now, so a poller sees it move
    _mark(job, processed=len(parsed.rows))
    if errors:
        return _fail(job, actor, sorted(errors, key=lambda problem: problem["row"]))
    return _save(job, actor, book)


def row_data(row: sdmx.FileRow) -> dict[str, Any]:
    """A file's record as the body ``ObservationInput`` validates (the API's field names)."""
    cells = {name: value.strip() for name, value in row.cells.items()}
    data: dict[str, Any] = {
        "indicator": cells["INDICATOR"],
        "time_period": cells["TIME_PERIOD"],
        "value": cells["OBS_VALUE"],
        "source": cells["SOURCE"],
        "comment": row.cells.get("COMMENT", ""),
    }
    sex = cells.get("SEX", "").upper()
    if sex:
        data["sex"] = SEX_SYNONYMS.get(sex, sex)
    if cells.get("AGE"):
        data["age"] = cells["AGE"]
    if cells.get("UNIT_MEASURE"):
        data["unit"] = cells["UNIT_MEASURE"].lower()
    return data


def _row_validator(profile: MigrationProfile, book: FigureBook) -> Callable[[sdmx.FileRow], list[dict[str, Any]]]:
    area = sdmx.alpha3(profile.country)
    body = ObservationInput(profile=profile, book=book)

    def validate(row: sdmx.FileRow) -> list[dict[str, Any]]:
        cells = {name: value.strip() for name, value in row.cells.items()}
        problems = []
        if cells["DATAFLOW"] != DATAFLOW:
            problems.append(error(row.line, "DATAFLOW", _("DATAFLOW is %(flow)s on every line.") % {"flow": DATAFLOW}))
        if cells["REF_AREA"].upper() != area:
            problems.append(
                error(
                    row.line,
                    "REF_AREA",
                    _("REF_AREA is the profile's country as ISO 3166-1 alpha-3: %(area)s, not “%(given)s”.")
                    % {"area": area, "given": cells["REF_AREA"]},
                )
            )
        data = row_data(row)
        code = cells["INDICATOR"].upper()
        key = (code, data.get("sex", "T"), data.get("age", "_T").upper(), _int(cells["TIME_PERIOD"]))
        current = book.existing(key) if key[3] is not None else None  # type: ignore[arg-type]
        try:
            validated = body.validate_row(data, current=current)
        except serializers.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {"": exc.detail}
            problems += [
                error(row.line, COLUMN_OF.get(name, ""), message)
                for name, messages in detail.items()
                for message in _flat(messages)
            ]
        if problems:
            return problems
        figure = current or Observation(profile=profile)
        for name, value in validated.items():
            setattr(figure, name, value)
        book.accept(figure)
        return []

    return validate


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _flat(messages: Any) -> list[str]:
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flat(value)]
    if isinstance(messages, list):
        return [m for value in messages for m in _flat(value)]
    return [str(messages)]


_mark = jobs.mark


def _fail(job: ProfileImport, actor: Actor, errors: list[dict[str, Any]]) -> ProfileImport:
    return jobs.fail(job, actor, errors, action="profile.import_failed", obj=job.profile)


def _save(job: ProfileImport, actor: Actor, book: FigureBook) -> ProfileImport:
    """All the file's rows in one transaction, under the profile's lock; or none."""
    try:
        with transaction.atomic():
            profile = MigrationProfile.objects.select_for_update().get(pk=job.profile_id)
            decision = access.can_edit_observations(actor, profile)
            if not decision:
                raise _Refused(decision.reason)
            rows = list(book.accepted())
            new = [row for row in rows if row._state.adding]
            changed = [row for row in rows if not row._state.adding]
            now = timezone.now()
            for row in changed:
                row.updated_at = now
            Observation.objects.bulk_create(new, batch_size=BATCH)
            fields = ["value", "source", "comment", "updated_at"]
            if Observation.objects.bulk_update(changed, fields, batch_size=BATCH) != len(changed):
                raise IntegrityError("a figure the file replaces was deleted meanwhile")
            _mark(job, status=ImportStatus.SUCCEEDED, saved=len(rows), finished_at=now)
            audit_record(
                actor=actor,
                action="profile.imported",
                obj=profile,
                changes={"import": str(job.pk), "added": len(new), "updated": len(changed)},
            )
    except _Refused as refused:
        return _fail(job, actor, [error(0, "", refused.reason)])
    except IntegrityError:
        # The draft changed while the file was checked (a figure with one of its keys was
        # added, or one it replaces deleted, meanwhile): nothing of the file is saved.
        return _fail(job, actor, [error(0, "", _("The draft changed during the import: upload the file again."))])
    return job


class _Refused(Exception):
    def __init__(self, reason: Any) -> None:
        super().__init__(str(reason))
        self.reason = reason
