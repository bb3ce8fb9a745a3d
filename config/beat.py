"""Every periodic task, in one place, each with a comment saying when and why.

Issues that add periodic work (listing expiry, digests, the delivery sweeper) add
their entries here; ``config/celery.py`` installs this dict as the beat schedule.
"""

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Hourly, a few minutes past: a listing whose application deadline has passed
    # moves from published to expired. Deadlines are dates, so hourly is ample and
    # covers every time zone's midnight; the task is idempotent, so a late or
    # repeated run does no harm.
    "opportunities.expire-listings": {
        "task": "opportunities.expire_listings",
        "schedule": crontab(minute=7),
    },
}
