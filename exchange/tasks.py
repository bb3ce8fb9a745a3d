"""Celery adapters for the exchange: take ids, call a service. All schedules: config/beat.py.

A task that acts for one organisation uses ``base=OrganisationTask`` and takes its
``organisation_id``; the sweeps and digests below cross tenants on purpose and say
so with ``unscoped("why")`` in their services.
"""

from typing import Any

from celery import shared_task

from accounts.tenancy import OrganisationTask
from exchange.matching.services import listing_match
from exchange.outbox import outbox_run


@shared_task(name="exchange.match_listing", queue="matching")
def match_listing(listing_id: str, outbox_id: str | None = None) -> int | None:
    """Match one listing (idempotent); ``outbox_id`` is its task-outbox row (exchange/outbox.py)."""
    return outbox_run(outbox_id, lambda: listing_match(listing_id))


@shared_task(name="exchange.refresh_suggestions", queue="matching")
def refresh_suggestions(
    countries: list[str] | None = None, listing_id: str | None = None, outbox_id: str | None = None
) -> int | None:
    """Recompute the suggestions from evidence (of ``countries``, of the pairs a listing's owner is in
    (``listing_id``), or all); a system task over every tenant."""
    from exchange.profiles.suggestions import suggestions_refresh, suggestions_refresh_for_listing

    def work() -> int:
        if listing_id is not None:
            return len(suggestions_refresh_for_listing(listing_id))
        return len(suggestions_refresh(countries=countries))

    return outbox_run(outbox_id, work)


def enqueue_suggestions_refresh(countries: list[str] | None = None, *, listing_id: str | None = None) -> None:
    """Inside the transaction of the change (a profile published, a listing opened or closed):
    owe a suggestions refresh through the task outbox, published after commit."""
    from exchange.outbox import outbox_tasks_enqueue

    outbox_tasks_enqueue([suggestions_refresh_task(countries, listing_id=listing_id)])


def suggestions_refresh_task(
    countries: list[str] | None = None, *, listing_id: str | None = None
) -> tuple[str, dict[str, Any], str]:
    """The outbox's ``(task, kwargs, key)`` for a suggestions refresh (``enqueue_suggestions_refresh``)."""
    if listing_id is not None:
        key = f"suggestions:listing:{listing_id}"
    else:
        key = "suggestions:" + (",".join(sorted(countries)) if countries is not None else "all")
    return "exchange.refresh_suggestions", {"countries": countries, "listing_id": listing_id}, key[:200]


# Published to the queue of its channel's type (email, webhooks, inbox) by events.enqueue;
# "inbox" is only the default for a message sent without one.
@shared_task(base=OrganisationTask, name="exchange.deliver", queue="inbox")
def deliver(delivery_id: str, *, organisation_id: str) -> str:
    """Runs in the scope of the receiving organisation (``organisation_id``, the delivery's own).

    Failures are recorded on the row and retried by the sweeper, never by a broker countdown.
    """
    from exchange.notifications.delivery import delivery_attempt

    return delivery_attempt(delivery_id)


@shared_task(name="exchange.deliver_many", queue="default")
def deliver_many(delivery_ids: list[str]) -> int:
    """Split a large fan-out into one ``deliver`` message per delivery, from a worker.

    The chunk's rows are read in one statement and its messages reach Redis in one
    pipeline (``deliveries_publish``); if the broker fails, the sweeper publishes them later.
    """
    from exchange.notifications.events import deliveries_publish

    deliveries_publish(delivery_ids)
    return len(delivery_ids)


@shared_task(name="exchange.sweep_deliveries", queue="maintenance")
def sweep_deliveries() -> int:
    """Deliveries, task-outbox rows and e-mails that are due: one beat entry covers all three."""
    return sweep_outbox()


@shared_task(name="exchange.sweep_outbox", queue="maintenance")
def sweep_outbox() -> int:
    """Publish again what the broker may have lost or what has come due: deliveries, outbox tasks
    (exchange/outbox.py) and outbound e-mails (accounts/mail.py)."""
    from accounts.mail import emails_sweep
    from exchange.notifications.delivery import deliveries_sweep
    from exchange.outbox import outbox_sweep

    return deliveries_sweep() + outbox_sweep() + emails_sweep()


@shared_task(name="exchange.send_daily_digests", queue="digests")
def send_daily_digests() -> int:
    from exchange.notifications.emails import send_digests

    return send_digests(frequency="daily")


@shared_task(name="exchange.send_weekly_digests", queue="digests")
def send_weekly_digests() -> int:
    from exchange.notifications.emails import send_digests

    return send_digests(frequency="weekly")


@shared_task(name="exchange.send_held_digests", queue="digests")
def send_held_digests() -> int:
    from exchange.notifications.emails import send_digests

    return send_digests(frequency="instant")


@shared_task(name="exchange.notify_closing_soon", queue="maintenance")
def notify_closing_soon() -> int:
    from exchange.notifications.events import closing_soon

    return closing_soon()


@shared_task(base=OrganisationTask, name="exchange.import_profile", queue="imports")
def import_profile(import_id: str, *, organisation_id: str, outbox_id: str | None = None) -> str | None:
    """Validate and save an uploaded SDMX-CSV file, in the importing organisation's scope.

    Bad rows are recorded on the import, never raised; no retry (a second run of a
    finished import does nothing, and a fault of ours is recorded as a failure).
    """
    from exchange.profiles.imports import profile_import_run

    return outbox_run(outbox_id, lambda: profile_import_run(import_id).status)


@shared_task(base=OrganisationTask, name="exchange.import_outcomes", queue="imports")
def import_outcomes(import_id: str, *, organisation_id: str, outbox_id: str | None = None) -> str | None:
    """Validate and save an uploaded outcomes CSV file, in the importing organisation's scope (all or nothing)."""
    from exchange.outcomes.imports import outcome_import_run

    return outbox_run(outbox_id, lambda: outcome_import_run(import_id).status)


@shared_task(name="exchange.agreement_review_reminders", queue="maintenance")
def agreement_review_reminders() -> int:
    """Daily (config/beat.py): remind member governments of agreement review dates, once per date."""
    from exchange.partnerships.agreements import agreement_review_reminders_send

    return agreement_review_reminders_send()


# Registered here so that a worker loading this module knows it; the body is in the module.
from exchange.notifications.retention import purge_notifications  # noqa: E402, F401
