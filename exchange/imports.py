"""What every CSV import job shares: the upload, the job's progress and failure, the uploader.

A profile's SDMX-CSV import (``exchange.profiles.imports``) and a ledger's CSV
import (``exchange.outcomes.imports``) keep the file's text in a job row scoped to
the importing organisation (``exchange.models.imports.ImportJob``), validate every
row in a Celery task, and save all rows or none. What differs is the file's
format, its rules and what is saved; this module holds the rest once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import membership_for
from accounts.services import audit_record
from accounts.tenancy import Actor
from exchange.models import ImportStatus
from exchange.models.imports import ImportJob

MAX_BYTES = 5 * 1024 * 1024  # about 40,000 rows of typical figures
MAX_ERRORS = 1000  # reported row by row; beyond that, counted
PROGRESS_EVERY = 200  # rows between two progress commits

Job = TypeVar("Job", bound=ImportJob)


class FileProblem(Exception):
    """The upload itself is unusable (missing, empty, not UTF-8, too large): a 400 naming ``file``."""


def error(line: int, column: str, message: Any) -> dict[str, Any]:
    """One problem of a file: its line (the header is line 1; 0 is the whole file), column and message."""
    return {"row": line, "column": column, "message": str(message)}


def read_upload(upload: Any) -> tuple[str, str]:
    """The text and name of an uploaded file, or ``FileProblem``."""
    if upload is None or not hasattr(upload, "read"):
        raise FileProblem(_("Choose an SDMX-CSV file to upload."))
    if upload.size is not None and upload.size > MAX_BYTES:
        raise FileProblem(_("The file is larger than %(mb)d MB: split it by year.") % {"mb": MAX_BYTES // 1024**2})
    raw = upload.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise FileProblem(_("The file is larger than %(mb)d MB: split it by year.") % {"mb": MAX_BYTES // 1024**2})
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileProblem(_("The file is not UTF-8 text: save it as “CSV UTF-8”.")) from exc
    if not text.removeprefix("\ufeff").strip():
        raise FileProblem(_("The file is empty."))
    return text, str(getattr(upload, "name", "") or "")[:255]


def uploader(job: ImportJob) -> Actor:
    """The person who uploaded the file, with the role they hold now (none if they left)."""
    user: User | None = job.created_by
    membership = membership_for(user=user, organisation=job.organisation) if user is not None else None
    return Actor(user=user, organisation=job.organisation, role=membership.role if membership else None)


def mark(job: ImportJob, **changes: Any) -> None:
    """Write the job's progress or result now (a poller reads it while the task works)."""
    for name, value in changes.items():
        setattr(job, name, value)
    type(job)._default_manager.filter(pk=job.pk).update(**changes)


def fail(job: Job, actor: Actor, errors: list[dict[str, Any]], *, action: str, obj: models.Model) -> Job:
    """Record a failed job with its errors (the first ``MAX_ERRORS``, then a count) and an audit row."""
    shown = errors[:MAX_ERRORS]
    if len(errors) > MAX_ERRORS:
        shown.append(error(0, "", _("…and %(more)d more errors, not listed.") % {"more": len(errors) - MAX_ERRORS}))
    with transaction.atomic():
        mark(job, status=ImportStatus.FAILED, errors=shown, saved=0, finished_at=timezone.now())
        audit_record(actor=actor, action=action, obj=obj, changes={"import": str(job.pk), "errors": len(errors)})
    return job


def run_once(job: Job, work: Callable[[Job, Actor], Job], *, failed_action: str, obj: models.Model) -> Job:
    """Run a queued job once as its uploader; a fault of ours fails the job (never left running) and raises."""
    if job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return job  # already done: a redelivered message changes nothing
    actor = uploader(job)
    try:
        return work(job, actor)
    except Exception:
        message = _("The import stopped on an internal error; try again later.")
        fail(job, actor, [error(0, "", message)], action=failed_action, obj=obj)
        raise
