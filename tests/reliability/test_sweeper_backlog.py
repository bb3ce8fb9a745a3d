"""The delivery sweeper behind a backlog (plan row R23): publish a waiting delivery once per lease.

A slow receiver once grew the ``webhooks`` queue to 7,326 messages for 176 deliveries,
because every 15 s sweep published every pending delivery again (docs/reliability.md).
Now a published delivery carries a lease (``published_until``, as long as it has been
due) and the sweeper leaves it alone until the lease has passed, a worker's claim clears
it, and a message the broker lost is still published again once the lease has passed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.tenancy import unscoped
from exchange.models import Delivery
from exchange.notifications.delivery import deliveries_sweep
from tests.reliability.harness import Answer, wait_until
from tests.reliability.world import inbox_items, nothing_lost, publish, scheme, statuses, subscribe

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def overdue_by(seconds: int) -> Delivery:
    """The one delivery, as if it had been due (and unclaimed) for ``seconds``: a worker is stuck elsewhere."""
    with unscoped("test setup"):
        [delivery] = Delivery.objects.all()
        then = timezone.now() - timedelta(seconds=seconds)
        Delivery.objects.filter(pk=delivery.pk).update(created_at=then, next_attempt_at=then)
        return Delivery.objects.get(pk=delivery.pk)


def lease_passes() -> None:
    """What waiting out the sweeper's lease does to the row."""
    with unscoped("test setup"):
        Delivery.objects.update(published_until=timezone.now() - timedelta(seconds=1))


def published_until() -> Any:
    with unscoped("assertion"):
        return Delivery.objects.get().published_until


def test_a_delivery_waiting_in_the_queue_is_published_once_per_lease_and_again_after_redis_loses_it(
    broker, start_worker, italy_official, moldova, moderator
):
    """R23. Fault: no worker takes the queue (every worker is stuck on a slow receiver) while beat
    keeps sweeping; then Redis restarts without persistence. Three sweeps publish the waiting
    delivery once, not three times; after Redis forgot it, the sweeper publishes it again once the
    lease has passed, and it is sent once."""
    subscribe(moldova, inbox=True)
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Abruzzo"))
    inbox = broker.client()
    assert inbox.llen("inbox") == 1  # the after-commit publication
    overdue_by(60)

    for _ in range(3):
        deliveries_sweep()

    assert inbox.llen("inbox") == 2  # one more copy, not three
    lease = published_until() - timezone.now()
    assert timedelta(seconds=55) < lease <= timedelta(seconds=61)  # as long as it has waited

    broker.shutdown_nosave()
    broker.start()
    assert broker.queued() == 0  # both copies are gone
    deliveries_sweep()
    assert inbox.llen("inbox") == 0  # the lease still holds

    lease_passes()
    deliveries_sweep()
    assert inbox.llen("inbox") == 1

    start_worker(broker.url)
    wait_until(lambda: inbox_items(moldova) == 1, timeout=60, message=f"never delivered: {statuses()}")
    assert statuses() == [("listing.published", "inbox", "sent", 1)]
    nothing_lost()


def test_a_failed_attempt_is_retried_on_its_schedule_not_held_back_by_the_lease(
    broker, worker_thread, receiver, italy_official, moldova, moderator, settings
):
    """R23. Fault: a webhook waited a minute in the queue, so its publication carries a minute's
    lease; the receiver then answers 500. The worker's claim ends the lease: the retry goes out
    when the retry schedule says (2 s), long before the lease would have passed."""
    settings.NOTIFICATION_RETRY_SCHEDULE = [0, 2, 2, 2]
    partner = receiver([Answer(500)], then=Answer(200))
    subscribe(moldova, webhook=partner.url)
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Abruzzo"))
    overdue_by(60)
    deliveries_sweep()
    assert published_until() > timezone.now() + timedelta(seconds=55)

    worker_thread(broker.url)

    def sent() -> bool:
        deliveries_sweep()
        return statuses() == [("listing.published", "webhook", "sent", 2)]

    wait_until(sent, timeout=40, every=0.5, message=f"the retry waited for the lease: {statuses()}")
    assert len(partner.requests) == 2
    assert len(partner.ids()) == 1  # both with the delivery's webhook-id
    nothing_lost()


def test_a_sweep_the_broker_refuses_leaves_the_delivery_due_for_the_next_sweep(
    broker, italy_official, moldova, moderator
):
    """R23. Fault: Redis is down during a sweep. No lease is taken for a publication that failed:
    the next sweep, with Redis back, publishes the delivery at once."""
    subscribe(moldova, inbox=True)
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Abruzzo"))
    overdue_by(60)

    broker.stop()
    deliveries_sweep()
    assert published_until() is None

    broker.start()
    deliveries_sweep()
    assert broker.client().llen("inbox") == 1
    assert published_until() is not None
