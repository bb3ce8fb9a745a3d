"""Re-queue dead rows of the outboxes: ``manage.py replay_outbox [--tasks] [--emails] [--since 2026-12-01]``.

A dead row is work whose attempts were spent (a task that kept failing or killing its
worker, an e-mail the SMTP server kept refusing). Once the cause is fixed, this gives
each a fresh set of attempts and publishes it; the sweeper covers what the broker loses.
Without ``--tasks`` or ``--emails`` both outboxes are replayed. Dead deliveries are
replayed per delivery (the delivery log, or ``POST /api/v1/deliveries/{id}/replay/``).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.mail import emails_replay
from accounts.models import OutboundEmail, OutboundEmailStatus
from exchange.models import OutboxStatus, OutboxTask
from exchange.outbox import outbox_replay


class Command(BaseCommand):
    help = "Re-queue dead task-outbox rows and dead outbound e-mails (after fixing their cause)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tasks", action="store_true", help="Replay dead outbox tasks (matching, imports…).")
        parser.add_argument("--emails", action="store_true", help="Replay dead outbound e-mails.")
        parser.add_argument("--since", help="Only rows created on or after this date (YYYY-MM-DD).")
        parser.add_argument("--task", help="Only outbox tasks of this Celery task name (e.g. exchange.match_listing).")

    def handle(self, *args: Any, **options: Any) -> None:
        both = not options["tasks"] and not options["emails"]
        since = None
        if options["since"]:
            try:
                day = datetime.date.fromisoformat(options["since"])
            except ValueError:
                raise CommandError(f"since: expected a date written YYYY-MM-DD, got '{options['since']}'.") from None
            since = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        if options["tasks"] or both:
            tasks = OutboxTask.objects.filter(status=OutboxStatus.DEAD)
            if since:
                tasks = tasks.filter(created_at__gte=since)
            if options["task"]:
                tasks = tasks.filter(task=options["task"])
            self.stdout.write(f"Outbox tasks queued again: {outbox_replay(rows=tasks)}")
        if options["emails"] or both:
            emails = OutboundEmail.objects.filter(status=OutboundEmailStatus.DEAD)
            if since:
                emails = emails.filter(created_at__gte=since)
            self.stdout.write(f"E-mails queued again: {emails_replay(emails=emails)}")
