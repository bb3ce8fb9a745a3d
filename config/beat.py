"""Every periodic task, in one place, each with a comment saying when and why.

Issues that add periodic work (listing expiry, digests, the delivery sweeper) add
their entries here; ``config/celery.py`` installs this dict as the beat schedule.
"""

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Hourly at :50: recompute every suggestion from evidence (idempotent; a new suggestion
    # is announced once). Each publication owes its own refresh through the task outbox;
    # this run also covers evidence that changes without one (figures ageing out).
    "exchange.refresh-suggestions": {"task": "exchange.refresh_suggestions", "schedule": crontab(minute=50)},
    # Every 15 s: the outboxes' sweeper. Deliveries, task-outbox rows (matching,
    # suggestions, imports) and outbound e-mails whose message the broker lost (Redis
    # down at commit, a web process killed between commit and publish, a worker killed
    # mid-task) and retries that have come due are published again; rows whose attempts
    # are spent become dead. A due retry is thus sent within ~15 s of its time (the
    # promise is 30 s). It replaces the hourly exchange.rematch_recent catch-up.
    "exchange.sweep-outbox": {"task": "exchange.sweep_outbox", "schedule": 15.0},
    # 06:00 UTC daily: the digest of the last day for daily subscriptions (and for
    # instant ones whose burst was held back); morning in Europe and Africa.
    "exchange.daily-digests": {"task": "exchange.send_daily_digests", "schedule": crontab(hour=6, minute=0)},
    # Hourly at :20: e-mails held back by the burst throttle go out as one digest,
    # so a burst waits at most an hour rather than until the morning.
    "exchange.held-digests": {"task": "exchange.send_held_digests", "schedule": crontab(minute=20)},
    # Mondays 06:30 UTC: the weekly digest.
    "exchange.weekly-digests": {
        "task": "exchange.send_weekly_digests",
        "schedule": crontab(hour=6, minute=30, day_of_week="mon"),
    },
    # 05:00 UTC daily: listing.closing_soon for listings whose deadline is in 7 days.
    "exchange.closing-soon": {"task": "exchange.notify_closing_soon", "schedule": crontab(hour=5, minute=0)},
    # Hourly, a few minutes past: a listing whose application deadline has passed
    # moves from published to expired. Deadlines are dates, so hourly is ample and
    # covers every time zone's midnight; the task is idempotent, so a late or
    # repeated run does no harm.
    "opportunities.expire-listings": {
        "task": "opportunities.expire_listings",
        "schedule": crontab(minute=7),
    },
    # 04:15 UTC daily: remind member governments of agreement review dates falling due within
    # AGREEMENT_REVIEW_REMINDER_DAYS; once per review date (idempotent), so a missed or
    # repeated day does no harm (issue 16; UN Network on Migration BLMA guidance).
    "exchange.agreement-review-reminders": {
        "task": "exchange.agreement_review_reminders",
        "schedule": crontab(hour=4, minute=15),
    },
    # 03:30 UTC daily, the quietest hour: purge deliveries, logs and event payloads past
    # DELIVERY_RETENTION_DAYS and inbox items past INBOX_RETENTION_DAYS
    # (exchange/notifications/retention.py says exactly what; never a pending delivery).
    "exchange.purge-notifications": {"task": "exchange.purge_notifications", "schedule": crontab(hour=3, minute=30)},
}
