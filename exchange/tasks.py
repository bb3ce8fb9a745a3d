"""Celery adapters for the exchange: take ids, call a service. All schedules: config/beat.py.

A task that acts for one organisation uses ``base=OrganisationTask`` and takes its
``organisation_id``; the sweeps and digests below cross tenants on purpose and say
so with ``unscoped("why")`` in their services.
"""

from celery import shared_task

from accounts.tenancy import OrganisationTask
from exchange.matching.services import listing_match
from exchange.notifications.events import ENQUEUE_INLINE


@shared_task(name="exchange.match_listing", queue="matching", autoretry_for=(ConnectionError,), retry_backoff=True)
def match_listing(listing_id: str) -> int:
    return listing_match(listing_id)


@shared_task(name="exchange.rematch_recent", queue="matching")
def rematch_recent() -> int:
    """Matching is enqueued after commit; if the broker was down then, this catches up."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.tenancy import unscoped
    from opportunities.access import live_listings

    since = timezone.now() - timedelta(hours=2)
    with unscoped("periodic catch-up of matching over every tenant's recent listings"):
        ids = list(live_listings().filter(updated_at__gte=since).values_list("pk", flat=True))
    for listing_id in ids:
        listing_match(str(listing_id))
    return len(ids)


@shared_task(
    name="exchange.refresh_suggestions", queue="matching", autoretry_for=(ConnectionError,), retry_backoff=True
)
def refresh_suggestions(countries: list[str] | None = None, listing_id: str | None = None) -> int:
    """Recompute the suggestions from evidence (of ``countries``, of the pairs a listing's owner is in
    (``listing_id``), or all); a system task over every tenant."""
    from exchange.profiles.suggestions import suggestions_refresh, suggestions_refresh_for_listing

    if listing_id is not None:
        return len(suggestions_refresh_for_listing(listing_id))
    return len(suggestions_refresh(countries=countries))


def enqueue_suggestions_refresh(countries: list[str] | None = None, *, listing_id: str | None = None) -> None:
    """After commit: a profile was published, or a listing opened or closed."""
    import logging

    try:
        refresh_suggestions.delay(countries, listing_id)
    except Exception:  # broker down: the hourly beat run (config/beat.py) catches up
        logging.getLogger(__name__).warning("Broker unavailable; suggestions refresh deferred", exc_info=True)


@shared_task(base=OrganisationTask, name="exchange.deliver", queue="notifications")
def deliver(delivery_id: str, *, organisation_id: str) -> str:
    """Runs in the scope of the receiving organisation (``organisation_id``, the delivery's own).

    Failures are recorded on the row and retried by the sweeper, never by a broker countdown.
    """
    from exchange.notifications.delivery import delivery_attempt

    return delivery_attempt(delivery_id)


@shared_task(name="exchange.deliver_many", queue="notifications")
def deliver_many(delivery_ids: list[str]) -> int:
    """Split a large fan-out into one ``deliver`` message per delivery, from a worker."""
    from exchange.notifications.events import enqueue

    for start in range(0, len(delivery_ids), ENQUEUE_INLINE):
        enqueue(delivery_ids[start : start + ENQUEUE_INLINE])
    return len(delivery_ids)


@shared_task(name="exchange.sweep_deliveries", queue="maintenance")
def sweep_deliveries() -> int:
    from exchange.notifications.delivery import deliveries_sweep

    return deliveries_sweep()


@shared_task(name="exchange.send_daily_digests", queue="notifications")
def send_daily_digests() -> int:
    from exchange.notifications.emails import send_digests

    return send_digests(frequency="daily")


@shared_task(name="exchange.send_weekly_digests", queue="notifications")
def send_weekly_digests() -> int:
    from exchange.notifications.emails import send_digests

    return send_digests(frequency="weekly")


@shared_task(name="exchange.send_held_digests", queue="notifications")
def send_held_digests() -> int:
    from exchange.notifications.emails import send_digests

    return send_digests(frequency="instant")


@shared_task(name="exchange.notify_closing_soon", queue="notifications")
def notify_closing_soon() -> int:
    from exchange.notifications.events import closing_soon

    return closing_soon()


@shared_task(base=OrganisationTask, name="exchange.import_profile", queue="default")
def import_profile(import_id: str, *, organisation_id: str) -> str:
    """Validate and save an uploaded SDMX-CSV file, in the importing organisation's scope.

    Bad rows are recorded on the import, never raised; no retry (a second run of a
    finished import does nothing, and a fault of ours is recorded as a failure).
    """
    from exchange.profiles.imports import profile_import_run

    return profile_import_run(import_id).status


@shared_task(base=OrganisationTask, name="exchange.import_outcomes", queue="default")
def import_outcomes(import_id: str, *, organisation_id: str) -> str:
    """Validate and save an uploaded outcomes CSV file, in the importing organisation's scope (all or nothing)."""
    from exchange.outcomes.imports import outcome_import_run

    return outcome_import_run(import_id).status


@shared_task(name="exchange.agreement_review_reminders", queue="notifications")
def agreement_review_reminders() -> int:
    """Daily (config/beat.py): remind member governments of agreement review dates, once per date."""
    from exchange.partnerships.agreements import agreement_review_reminders_send

    return agreement_review_reminders_send()


# Registered here so that a worker loading this module knows it; the body is in the module.
from exchange.notifications.retention import purge_notifications  # noqa: E402, F401
