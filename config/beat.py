"""Every periodic task, in one place, each with a comment saying when and why.

Issues that add periodic work (listing expiry, digests, the delivery sweeper) add
their entries here; ``config/celery.py`` installs this dict as the beat schedule.
"""

BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
