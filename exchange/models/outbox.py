"""The task outbox: work a committed change owes (matching a listing, refreshing suggestions,
running an import), written in the change's own transaction.

After commit the task is published with a short broker timeout; whether or not that
succeeds, the row stays ``pending`` until the task itself marks it ``done``. The sweeper
(beat) publishes again any pending row past its ``next_attempt_at``, so a crash between
commit and publish, a broker that lost its queue or a worker killed mid-task delays the
work but never loses it. ``attempts`` caps a task that keeps failing: it ends ``dead``,
with the reason in ``last_error``, visible to operators.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    DEAD = "dead", _("Dead: attempts exhausted")


class OutboxTask(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.CharField(max_length=100)
    kwargs = models.JSONField(default=dict)
    # Work that is the same whatever the number of requests for it (matching one listing)
    # shares a key: a second pending row with the same key is not written.
    key = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker running the task holds this lease; the sweeper leaves a claimed row alone.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Moved on when the same work is asked for again while a worker runs it: the worker then
    # does not mark the row done (what it read may predate the new change) and it runs again.
    requested_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(status="pending") & ~models.Q(key=""),
                name="outbox_task_pending_key_unique",
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_task_due")]

    def __str__(self) -> str:
        return f"{self.task} {self.key or self.pk} ({self.status})"
