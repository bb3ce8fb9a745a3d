"""Faults between a committed change and the broker (plan rows R1, R2, R3, R10).

The database is the source of truth: a change that commits owes its matching and
its deliveries whatever happens to Redis or to the web process afterwards, and a
change that rolls back owes nothing.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from django.db import transaction

from accounts.tenancy import unscoped
from exchange.models import Delivery, Event, Match, Notification, OutboxTask
from opportunities.models import Listing
from tests.conftest import token_client
from tests.reliability.harness import REPO, beat_tick, process_env, wait_until
from tests.reliability.world import (
    all_done,
    approve,
    inbox_items,
    nothing_lost,
    publish,
    scheme,
    statuses,
    submitted,
    subscribe,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _published_offer(moldova_official: Any, moderator: Any) -> Listing:
    """Moldova's farm workers, published and matched inline (before the test breaks anything)."""
    from config.celery import app
    from tests.reliability.world import offer

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        return publish(moldova_official, moderator, offer())
    finally:
        app.conf.task_always_eager = eager


def test_a_rolled_back_approval_leaves_no_outbox_row_no_message_and_no_delivery(
    broker, italy_official, moldova, moderator
):
    """R1. Fault: the transaction that approves a listing (and so "enqueues" its matching and
    deliveries) raises after the services ran. Nothing of it may reach the broker or the tables;
    the same steps committed do reach both, so the test can see them."""
    subscribe(moldova, inbox=True)
    listing = submitted(italy_official, scheme(title="Seasonal harvest, Lazio"))
    queued_before = broker.queued()

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), transaction.atomic():
        approve(moderator, listing)
        raise Abandoned

    listing.refresh_from_db()
    assert listing.status == "submitted"
    with unscoped("assertion"):
        assert not Delivery.objects.exists()
        assert not Event.objects.filter(type="listing.published").exists()
        assert not OutboxTask.objects.filter(key=f"match:{listing.pk}").exists()
    assert broker.queued() == queued_before  # LLEN of every queue: no message was published

    approve(moderator, listing)  # the control: committed, the same steps leave rows and messages
    with unscoped("assertion"):
        assert Delivery.objects.filter(event__type="listing.published", status="pending").count() == 1
    assert broker.queued() > queued_before


def _approve_in_thread(client: Any, listing: Listing) -> dict[str, Any]:
    outcome: dict[str, Any] = {}

    def call() -> None:
        started = time.monotonic()
        try:
            outcome["response"] = client.post(f"/api/v1/listings/{listing.pk}/approve/")
        except Exception as exc:  # reported by the assertions below
            outcome["error"] = exc
        finally:
            outcome["seconds"] = time.monotonic() - started
            from django.db import connection

            connection.close()

    thread = threading.Thread(target=call)
    thread.start()
    outcome["thread"] = thread
    return outcome


@pytest.mark.parametrize("outage", ["shutdown_nosave", "sigstop", "client_pause"])
def test_an_approval_while_redis_is_down_answers_at_once_and_is_delivered_when_redis_returns(
    outage, broker, worker_thread, italy_official, moldova, moldova_official, moderator, mona, agency
):
    """R2. Fault: the broker is gone at commit time: ``SHUTDOWN NOSAVE``, frozen by ``SIGSTOP``
    (connections hang), or ``CLIENT PAUSE`` (every command waits). The moderator approves through
    the API. The approval answers 2xx within 10 s (Redis stays down for 15 s), the rows wait
    in PostgreSQL, and once Redis is back the listing is matched and delivered exactly once,
    without restarting anything in the web process."""
    supply = _published_offer(moldova_official, moderator)
    subscribe(moldova, inbox=True)
    listing = submitted(italy_official, scheme(title="Seasonal harvest, Umbria"))
    client = token_client(mona, agency)

    if outage == "shutdown_nosave":
        broker.shutdown_nosave()
    elif outage == "sigstop":
        broker.freeze()
    else:
        broker.pause_clients(15_000)  # CLIENT UNPAUSE would wait too: the pause simply ends
    # The outage ends after 15 s whatever the test does, as a real one would.
    ends = threading.Timer(15, broker.thaw if outage == "sigstop" else lambda: None)
    ends.start()
    try:
        outcome = _approve_in_thread(client, listing)
        outcome["thread"].join(60)
        assert "error" not in outcome, f"the approval raised: {outcome.get('error')!r}"
        assert outcome["response"].status_code == 200, outcome["response"].content
        assert outcome["seconds"] < 10, f"the approval waited {outcome['seconds']:.1f} s on the broker"
        listing.refresh_from_db()
        assert listing.status == "published"
        with unscoped("assertion"):
            assert Delivery.objects.get(event__type="listing.published").status == "pending"
            assert OutboxTask.objects.get(key=f"match:{listing.pk}").status == "pending"
            assert not Notification.objects.exists()
    finally:
        ends.cancel()
        if outage == "sigstop":
            broker.thaw()
        elif outage == "client_pause":
            wait_until(broker.answers, timeout=30, message="the pause never ended")
        elif broker.process is None:
            broker.start()  # the same port: the web process's settings do not change

    worker_thread(broker.url)

    def delivered() -> bool:
        beat_tick()
        with unscoped("assertion"):
            return (
                Notification.objects.filter(organisation=moldova, event__type="listing.published").exists()
                and Match.objects.filter(demand=listing, supply=supply).exists()
                and not OutboxTask.objects.filter(status="pending").exists()
            )

    wait_until(delivered, timeout=60, message=f"not delivered after Redis returned: {statuses()}", every=0.5)
    with unscoped("assertion"):
        assert OutboxTask.objects.get(key=f"match:{listing.pk}").status == "done"
        assert Delivery.objects.get(event__type="listing.published").status == "sent"
    wait_until(lambda: all_done(len(statuses())), timeout=30, message=f"deliveries in flight: {statuses()}")
    nothing_lost()


_CRASHING_APPROVAL = """
import os, sys
import django
django.setup()
from django.db import transaction
from accounts.models import Organisation, User
from accounts.tenancy import Actor, tenant_scope, unscoped
from opportunities.models import Listing
from opportunities.services import listing_transition

listing_id, user_id, organisation_id = sys.argv[1:4]
actor = Actor(user=User.objects.get(pk=user_id), organisation=Organisation.objects.get(pk=organisation_id),
              role="moderator")
with unscoped("the crashing process loads the listing as the moderation view resolves it"):
    listing = Listing.objects.get(pk=listing_id)
with tenant_scope(actor):
    with transaction.atomic():
        # Registered first, so it runs first once the approval has committed: the process
        # dies after the commit and before any after-commit hook could publish anything.
        transaction.on_commit(lambda: os._exit(17))
        listing_transition(actor=actor, listing=listing, action="approve")
print("survived", flush=True)
"""


def test_a_web_process_that_dies_between_commit_and_publish_still_gets_its_listing_matched_and_delivered(
    broker, start_worker, italy_official, moldova, moldova_official, moderator
):
    """R3. Fault: the web process commits an approval, then dies (``os._exit`` in the first
    after-commit hook) before it publishes matching or deliveries to Redis. The sweepers (beat)
    find the committed work in PostgreSQL: the listing is matched and its subscriber is told, once."""
    supply = _published_offer(moldova_official, moderator)
    subscribe(moldova, inbox=True)
    listing = submitted(italy_official, scheme(title="Seasonal harvest, Marche"))
    queued_before = broker.queued()

    crashed = subprocess.run(
        [
            sys.executable,
            "-c",
            _CRASHING_APPROVAL,
            str(listing.pk),
            str(moderator.user.pk),
            str(moderator.organisation.pk),
        ],
        env=process_env(broker_url=broker.url),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crashed.returncode == 17, crashed.stdout + crashed.stderr  # died in the hook, not before
    listing.refresh_from_db()
    assert listing.status == "published"  # committed
    assert broker.queued() == queued_before  # and nothing was published
    with unscoped("assertion"):
        assert not Match.objects.filter(demand=listing).exists()
        assert OutboxTask.objects.get(key=f"match:{listing.pk}").status == "pending"
        assert Delivery.objects.get(event__type="listing.published").status == "pending"

    start_worker(broker.url)

    def recovered() -> bool:
        beat_tick()
        with unscoped("assertion"):
            return inbox_items(moldova) >= 1 and Match.objects.filter(demand=listing, supply=supply).exists()

    wait_until(recovered, timeout=60, message=f"the crashed approval was never matched or delivered: {statuses()}")

    def marked_done() -> bool:  # marked just after the matching commits, in its own statement
        with unscoped("assertion"):
            return OutboxTask.objects.get(key=f"match:{listing.pk}").status == "done"

    wait_until(marked_done, timeout=15, message="the matching ran but its outbox row was never marked done")
    with unscoped("assertion"):
        assert Notification.objects.filter(organisation=moldova, event__type="listing.published").count() == 1
        assert Match.objects.filter(demand=listing, supply=supply).count() == 1
    wait_until(lambda: all_done(len(statuses())), timeout=30, message=f"deliveries in flight: {statuses()}")
    nothing_lost()


def test_two_hundred_deliveries_lost_with_a_redis_restart_all_reach_sent(
    broker, start_worker, italy_official, moldova, moderator
):
    """R10. Fault: 200 deliveries are queued on Redis while no worker runs; Redis restarts without
    persistence (``SHUTDOWN NOSAVE``), so every message is gone. After Redis and a worker return,
    the sweeper re-publishes the due rows: all 200 reach sent, one inbox item each."""
    with unscoped("test setup"):
        for n in range(200):
            subscribe(moldova, inbox=True, name=f"Harvest alerts {n}")
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Abruzzo"))
    with unscoped("assertion"):
        assert Delivery.objects.filter(status="pending").count() == 200
    assert broker.queued() > 0

    broker.shutdown_nosave()
    broker.start()
    assert broker.queued() == 0  # the broker forgot every message

    start_worker(broker.url)

    def all_sent() -> bool:
        beat_tick(at_most_every=10)
        with unscoped("assertion"):
            return Delivery.objects.filter(status="sent").count() == 200

    wait_until(all_sent, timeout=120, every=1, message="not every delivery was sent after the restart")
    with unscoped("assertion"):
        assert Notification.objects.filter(organisation=moldova).count() == 200
        assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    nothing_lost()
