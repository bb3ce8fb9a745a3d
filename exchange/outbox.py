"""The task outbox: work a committed change owes, written in the change's own transaction.

Who writes what (docs/notifications.md, "Outbox"):

* :func:`outbox_task_enqueue` writes one :class:`~exchange.models.OutboxTask` inside the
  caller's transaction (matching a listing, refreshing suggestions, running an import)
  and publishes the task after commit. A rolled-back change leaves no row and no message.
* Publishing never raises and never holds a request for more than about 2 s (the broker
  socket timeouts in settings); whatever it does, the row stays ``pending``.
* The task, run by a worker, claims the row (a lease), counts the attempt, runs, and
  marks the row ``done``: :func:`outbox_run`. A duplicate message finds the row claimed
  or done and does nothing.
* :func:`outbox_sweep` (beat, every 15 s, inside ``exchange.sweep_outbox``) publishes
  again every pending row that is due and not claimed: the broker was down at commit,
  the web process died between commit and publish, Redis lost its queue, or a worker
  died mid-task. A row started ``OUTBOX_MAX_ATTEMPTS`` times without finishing is
  ``dead``, with the reason in ``last_error``; ``manage.py replay_outbox`` revives it.

So a committed publication is always matched, whatever crashes; a crash may run a task
twice, which is why every outboxed task is idempotent.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from config.request_id import current_request_id
from exchange.models import OutboxStatus, OutboxTask

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _retry_delay(attempts: int) -> int:
    """Seconds before the sweeper publishes a row again that has been started ``attempts`` times.

    At least NOTIFICATION_SWEEP_AFTER_SECONDS, so a row just published after commit is left
    to the worker that may simply not have got to it yet.
    """
    schedule = settings.NOTIFICATION_RETRY_SCHEDULE
    return max(settings.NOTIFICATION_SWEEP_AFTER_SECONDS, schedule[min(attempts, len(schedule) - 1)])


def _lease_seconds() -> int:
    # A worker that dies holding the lease gives the row back when its message would
    # come back from the broker anyway.
    return int(settings.CELERY_VISIBILITY_TIMEOUT)


def outbox_task_enqueue(*, task: str, kwargs: dict[str, Any], key: str = "") -> OutboxTask | None:
    """Owe the Celery task ``task(**kwargs)``, in the caller's transaction; publish it after commit.

    ``key`` names work that is the same however often it is asked for (``match:<listing_id>``):
    while a row with that key is pending no second row is written. If a worker is running
    it already, the row is marked as asked for again, so it runs once more afterwards (the
    run in progress may have read the data from before this change). Returns the row
    written, or None when an existing pending row stands for it.
    """
    return outbox_tasks_enqueue([(task, kwargs, key)])[0]


# One statement for any number of tasks: a keyed task whose pending row exists marks that
# row as asked for again (``requested_at`` now, due now at the latest), any other is inserted. The conflict target
# is the partial unique index ``outbox_task_pending_key_unique``, so a concurrent twin waits
# for the other transaction and then updates its row instead of failing.
_ENQUEUE_SQL = """
INSERT INTO exchange_outboxtask
    (id, task, kwargs, key, status, attempts, next_attempt_at, requested_at, last_error, created_at, request_id)
VALUES {values}
ON CONFLICT (key) WHERE (status = 'pending' AND NOT (key = ''))
DO UPDATE SET requested_at = EXCLUDED.requested_at,
    next_attempt_at = LEAST(exchange_outboxtask.next_attempt_at, EXCLUDED.requested_at)
RETURNING id, (xmax = 0) AS inserted
"""
_ENQUEUE_ROW = "(%s, %s, %s::jsonb, %s, 'pending', 0, %s, %s, '', %s, %s)"


def outbox_tasks_enqueue(tasks: Sequence[tuple[str, dict[str, Any], str]]) -> list[OutboxTask | None]:
    """``outbox_task_enqueue`` for each ``(task, kwargs, key)``, in one statement.

    Returns, in order, the row written for each task, or None where a pending row with
    its key (already there, or earlier in ``tasks``) stands for it.
    """
    now = timezone.now()
    request_id = current_request_id()
    rows: list[OutboxTask | None] = []
    seen: set[str] = set()
    for task, kwargs, key in tasks:
        if key and key in seen:
            rows.append(None)  # one statement cannot touch the same row twice: the first stands for it
            continue
        seen.add(key)
        row = OutboxTask(
            id=uuid.uuid4(),
            task=task,
            kwargs=kwargs,
            key=key,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now + timedelta(seconds=_retry_delay(0)),
            requested_at=now,
            last_error="",
            created_at=now,
            request_id=request_id,
        )
        row._state.adding = False
        row._state.db = "default"
        rows.append(row)
    written = [row for row in rows if row is not None]
    if not written:
        return rows
    params: list[Any] = []
    for row in written:
        params += [
            row.pk,
            row.task,
            json.dumps(row.kwargs),
            row.key,
            row.next_attempt_at,
            row.requested_at,
            row.created_at,
            row.request_id,
        ]
    with connection.cursor() as cursor:
        cursor.execute(_ENQUEUE_SQL.format(values=", ".join([_ENQUEUE_ROW] * len(written))), params)
        inserted = {str(pk) for pk, is_new in cursor.fetchall() if is_new}
    result: list[OutboxTask | None] = []
    for owed in rows:
        if owed is None or str(owed.pk) not in inserted:
            result.append(None)
            continue
        transaction.on_commit(functools.partial(outbox_publish, str(owed.pk)))
        result.append(owed)
    return result


def outbox_publish(outbox_id: str) -> bool:
    """Send one row's task to the broker; False (logged, never raised) when the broker is unreachable."""
    row = OutboxTask.objects.filter(pk=outbox_id, status=OutboxStatus.PENDING).only("task", "kwargs").first()
    if row is None:
        return False
    return _publish(row)


def _publish(row: OutboxTask) -> bool:
    from celery import current_app

    try:
        if row.task not in current_app.tasks:
            # A web process has not necessarily imported every app's tasks module yet.
            current_app.loader.import_default_modules()
        celery_task = current_app.tasks[row.task]
        celery_task.apply_async(kwargs={**row.kwargs, "outbox_id": str(row.pk)})
    except Exception:  # the broker is down or paused: the row stays pending for the sweeper
        logger.warning("Could not publish outbox task %s (%s); left for the sweeper", row.pk, row.task, exc_info=True)
        return False
    return True


def outbox_run(outbox_id: str | None, work: Callable[[], T]) -> T | None:
    """Run ``work`` for the outbox row ``outbox_id`` at most once at a time, and record the outcome.

    Claims the row (``SELECT … FOR UPDATE SKIP LOCKED`` and a lease), counts the attempt
    before running (so a task that kills its worker still uses up attempts), runs, marks
    it ``done``. A failure is logged and recorded on the row, which the sweeper publishes
    again when due; the attempt that reaches ``OUTBOX_MAX_ATTEMPTS`` makes it ``dead``.
    Returns what ``work`` returned, or None when the row was not run. Without an
    ``outbox_id`` (a call by hand, or a message from before the outbox) ``work`` just runs.
    """
    if outbox_id is None:
        return work()
    now = timezone.now()
    with transaction.atomic():
        row = (
            OutboxTask.objects.select_for_update(skip_locked=True)
            .filter(pk=outbox_id, status=OutboxStatus.PENDING)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .first()
        )
        if row is None:
            return None  # done, dead, or being run by another worker: a duplicate message
        if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            _bury(row, reason=row.last_error or "The worker running it was lost each time.")
            return None
        row.attempts += 1
        row.claimed_until = now + timedelta(seconds=_lease_seconds())
        row.save(update_fields=["attempts", "claimed_until"])
        seen = row.requested_at
    try:
        result = work()
    except Exception as exc:
        logger.exception("Outbox task %s (%s) failed, attempt %d", row.pk, row.task, row.attempts)
        _failed(row, error=f"{type(exc).__name__}: {exc}"[:2000])
        return None
    done = OutboxTask.objects.filter(pk=row.pk, status=OutboxStatus.PENDING, requested_at=seen).update(
        status=OutboxStatus.DONE, done_at=timezone.now(), claimed_until=None, last_error=""
    )
    if not done:
        # Asked for again while it ran: run once more, on the data of the later change.
        OutboxTask.objects.filter(pk=row.pk, status=OutboxStatus.PENDING).update(
            claimed_until=None, next_attempt_at=timezone.now()
        )
        outbox_publish(str(row.pk))
    return result


def _failed(row: OutboxTask, *, error: str) -> None:
    if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        _bury(row, reason=error)
        return
    OutboxTask.objects.filter(pk=row.pk, status=OutboxStatus.PENDING).update(
        claimed_until=None,
        last_error=error,
        next_attempt_at=timezone.now() + timedelta(seconds=_retry_delay(row.attempts)),
    )


def _bury(row: OutboxTask, *, reason: str) -> None:
    OutboxTask.objects.filter(pk=row.pk).update(
        status=OutboxStatus.DEAD,
        claimed_until=None,
        last_error=f"Gave up after {row.attempts} attempts. {reason}"[:2000],
    )
    logger.error("Outbox task %s (%s) is dead after %d attempts: %s", row.pk, row.task, row.attempts, reason)


def outbox_due(limit: int = 500) -> list[OutboxTask]:
    """Pending rows the sweeper should publish now: due, and no worker holds them."""
    now = timezone.now()
    return list(
        OutboxTask.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at")
        .only("pk", "task", "kwargs", "attempts", "last_error", "created_at")[:limit]
    )


def outbox_sweep() -> int:
    """Publish every due pending row again (or bury it when its attempts are spent); return how many.

    A published row's ``next_attempt_at`` moves on by the retry schedule, and at least by
    its age (up to an hour), so a row no worker takes is not sent on every sweep. While the
    broker refuses, rows stay due and the next sweep tries again.
    """
    published = 0
    for row in outbox_due():
        if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            _bury(row, reason=row.last_error or "The worker running it was lost each time.")
            continue
        if not _publish(row):
            break  # the broker is down: the rest waits for the next sweep
        now = timezone.now()
        age = min((now - row.created_at).total_seconds(), 3600)
        OutboxTask.objects.filter(pk=row.pk, status=OutboxStatus.PENDING, claimed_until__isnull=True).update(
            next_attempt_at=now + timedelta(seconds=max(_retry_delay(row.attempts), age))
        )
        published += 1
    return published


def outbox_replay(*, rows: QuerySet[OutboxTask]) -> int:
    """Give dead rows a fresh set of attempts and publish them; return how many.

    A dead row whose key has a pending twin meanwhile is left dead (the twin does the work).
    """
    revived = 0
    for row in rows.filter(status=OutboxStatus.DEAD):
        if row.key and OutboxTask.objects.filter(key=row.key, status=OutboxStatus.PENDING).exists():
            continue
        with transaction.atomic():
            OutboxTask.objects.filter(pk=row.pk, status=OutboxStatus.DEAD).update(
                status=OutboxStatus.PENDING,
                attempts=0,
                claimed_until=None,
                next_attempt_at=timezone.now() + timedelta(seconds=_retry_delay(0)),
                requested_at=timezone.now(),
            )
            row_id = str(row.pk)
            transaction.on_commit(lambda row_id=row_id: outbox_publish(row_id))  # type: ignore[misc]
        revived += 1
    return revived
