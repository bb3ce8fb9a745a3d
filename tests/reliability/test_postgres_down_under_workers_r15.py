"""PostgreSQL goes away while Celery workers are fanning out a publication (plan row R15).

The workers (prefork, ``-c 2``, processes of their own) reach PostgreSQL through a TCP
proxy the test cuts: every connection they hold is closed mid-task and new ones are
refused, as when the server is stopped or fails over. The test process keeps its own
connection: it plays the web process that committed the publication, and celery beat
(``beat_tick``), which it does not run while the database is down (beat's sweeps run
on workers, which could not reach it either).
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db import connection

from accounts.tenancy import unscoped
from exchange.models import Delivery, Notification, OutboxTask
from tests.reliability.harness import Answer, CuttableProxy, beat_tick, wait_until
from tests.reliability.world import all_done, nothing_lost, publish, scheme, statuses, subscribe

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SUBSCRIPTIONS = 8  # each with a webhook and an inbox channel: 16 deliveries for one publication


@pytest.fixture
def database_proxy():
    db = connection.settings_dict
    proxy = CuttableProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    yield proxy
    proxy.cut()


def proxied_database_url(proxy: CuttableProxy) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgresql://{db['USER']}{password}@127.0.0.1:{proxy.port}/{db['NAME']}"


def test_postgresql_lost_during_a_fan_out_loses_nothing_and_the_same_workers_finish_it_once_it_returns(
    broker, start_worker, receiver, database_proxy, italy_official, moldova, moderator
):
    """R15. Fault: PostgreSQL becomes unreachable for the workers in the middle of a fan-out, while a
    child waits on a webhook receiver and the rest of the deliveries sit on the broker.

    While it is down, the workers keep taking messages and each task fails at once on the
    refused connection; a failed task is acknowledged, so nothing loops on the broker. The
    rows are the record: a delivery a worker never claimed stays pending, and one it had
    claimed (its webhook already sent) is due again once its lease has passed. When
    PostgreSQL returns, the same worker processes (no restart) reconnect, and the sweeper's
    next passes publish what is due: every delivery ends sent, one inbox item each, the
    webhooks under their delivery's id with the same body every time. NL and X1.
    """
    hook = receiver([Answer(delay=2), Answer(delay=2)])
    for n in range(SUBSCRIPTIONS):
        subscribe(moldova, webhook=hook.url, inbox=True, name=f"Harvest alerts {n}")
    worker = start_worker(broker.url, DATABASE_URL=proxied_database_url(database_proxy))
    children = {child.pid for child in worker.children()}

    publish(italy_official, moderator, scheme(title="Seasonal harvest, Apulia"))
    assert hook.arrived.wait(60), f"the worker never reached the receiver; its log:\n{worker.log_tail()}"
    database_proxy.cut()

    # The outage: the broker drains into failing tasks, and no delivery can be recorded as sent.
    wait_until(
        lambda: broker.queued() == 0 and broker.unacked() == 0,
        timeout=60,
        message=f"the workers stopped taking messages while PostgreSQL was down; log:\n{worker.log_tail()}",
    )
    with unscoped("assertion"):
        total = Delivery.objects.count()
        assert total == 2 * SUBSCRIPTIONS
        assert Delivery.objects.filter(status="sent").count() < total, "the fault came too late to matter"
    assert "OperationalError" in worker.log_text()  # the workers really lost the database
    assert worker.process.poll() is None

    database_proxy.restore()

    def finished() -> bool:
        beat_tick()
        with unscoped("assertion"):
            outbox_done = not OutboxTask.objects.exclude(status="done").exists()
        return all_done(total) and outbox_done

    wait_until(finished, timeout=90, message=f"not delivered after PostgreSQL returned: {statuses()}")

    with unscoped("assertion"):
        rows = list(Delivery.objects.select_related("channel"))
        assert {d.status for d in rows} == {"sent"}, statuses()
        assert max(d.attempts for d in rows) <= 2  # the attempt cut short counts, nothing more
        assert Notification.objects.filter(organisation=moldova).count() == SUBSCRIPTIONS
        assert OutboxTask.objects.filter(key__startswith="match:", status="done").exists()
        webhook_ids = {str(d.pk) for d in rows if d.channel.type == "webhook"}
    bodies: dict[str, set[bytes]] = defaultdict(set)
    for request in hook.requests:
        bodies[request["headers"]["webhook-id"]].add(request["body"])
    assert set(bodies) == webhook_ids
    assert all(len(seen) == 1 for seen in bodies.values())
    # At most the two requests in flight when the database went were sent again: no storm.
    assert len(hook.requests) <= SUBSCRIPTIONS + 2
    # Recovered without a restart: the same master and the same children did the work.
    assert worker.process.poll() is None
    assert {child.pid for child in worker.children()} == children
    nothing_lost()
