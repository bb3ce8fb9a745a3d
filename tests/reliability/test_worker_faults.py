"""Faults in Celery workers (plan rows R5, R6, R7, R8, R13), with prefork workers (``-c 2``)
in processes of their own, killed or stopped for real.

Each publication here reaches one subscription of Moldova's with three channels:
a webhook (to a scripted receiver), the in-app inbox, and e-mail to Mihai (through
a local SMTP server that counts what it accepts).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from accounts.tenancy import unscoped
from exchange.models import Delivery, Notification
from tests.reliability.harness import VISIBILITY_TIMEOUT, Answer, beat_tick, wait_until
from tests.reliability.world import all_done, nothing_lost, publish, scheme, statuses, subscribe

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mail_server(smtp: Any) -> Any:
    server = smtp()
    server.start()
    return server


def _delivered_once_each(receiver: Any, mail_server: Any, moldova: Any, mihai: Any) -> Delivery:
    """X1: one inbox item, one e-mail to Mihai, and every webhook request under the delivery's id."""
    with unscoped("assertion"):
        assert Notification.objects.filter(organisation=moldova).count() == 1
        webhook = Delivery.objects.get(channel__type="webhook")
    assert mail_server.per_recipient() == {mihai.email: 1}
    assert receiver.ids() == {str(webhook.pk)}
    assert len({r["body"] for r in receiver.requests}) == 1
    return webhook


def test_a_worker_child_killed_mid_delivery_is_redelivered_and_completed_once(
    broker, start_worker, receiver, mail_server, italy_official, moldova, mihai, moderator
):
    """R5. Fault: ``kill -9`` of the prefork child that is delivering the webhook, while it waits for
    the receiver's answer (the receiver finds the sending process by its socket and kills it).
    ``task_reject_on_worker_lost`` puts the message back; the claim lease and the sweeper bring the
    delivery back once the lease has passed. It completes with one more attempt, and the inbox
    item and the e-mail exist once."""
    hook = receiver([Answer(kill_sender=True)])
    subscribe(moldova, webhook=hook.url, inbox=True, email_to=[mihai])
    worker = start_worker(broker.url, smtp_port=mail_server.port)
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Tuscany"))

    wait_until(lambda: bool(hook.killed), timeout=60, message="the worker never reached the receiver")
    assert hook.killed[0] != worker.pid  # a child died, not the master

    def done() -> bool:
        beat_tick()
        return all_done(3)

    wait_until(done, timeout=60, message=f"the killed delivery was not completed: {statuses()}")
    webhook = _delivered_once_each(hook, mail_server, moldova, mihai)
    assert webhook.status == "sent" and webhook.attempts == 2  # the killed attempt counts
    assert len(hook.requests) == 2
    assert worker.process.poll() is None  # the master replaced its child and carried on
    nothing_lost()


def test_a_whole_worker_killed_mid_delivery_is_completed_once_by_a_new_worker(
    broker, start_worker, receiver, mail_server, italy_official, moldova, mihai, moderator
):
    """R6. Fault: ``kill -9`` of the whole worker (master and children, one process group) while a
    child waits on the webhook receiver, then a new worker starts. The message stays unacknowledged
    in Redis; it comes back either from the broker (after the visibility timeout, on kombu's next
    restore scan) or from the sweeper (once the claim lease has passed), whichever is first. The
    delivery completes with one more attempt; effects happen once."""
    hook = receiver([Answer(delay=30)])  # holds the first attempt until the worker is dead
    subscribe(moldova, webhook=hook.url, inbox=True, email_to=[mihai])
    first = start_worker(broker.url, smtp_port=mail_server.port)
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Liguria"))

    assert hook.arrived.wait(60), "the worker never reached the receiver"
    first.kill_group()
    assert broker.unacked() >= 1  # the message the killed child held is still owed

    start_worker(broker.url, smtp_port=mail_server.port)

    def done() -> bool:
        beat_tick()
        return all_done(3)

    wait_until(done, timeout=90, message=f"not redelivered to the new worker: {statuses()}")
    webhook = _delivered_once_each(hook, mail_server, moldova, mihai)
    assert webhook.status == "sent" and webhook.attempts == 2
    nothing_lost()


def test_a_warm_shutdown_mid_delivery_finishes_the_task_and_requeues_the_rest(
    broker, start_worker, receiver, mail_server, italy_official, moldova, mihai, moderator, morocco, charlie
):
    """R7. Fault: ``SIGTERM`` (warm shutdown) to the worker while a child waits on a slow receiver,
    with more deliveries queued behind it. The running delivery finishes; the messages it had not
    started go back to Redis; a restarted worker delivers them. Nothing is lost and nothing is sent
    twice: one webhook request per webhook delivery."""
    hook = receiver([Answer(delay=3), Answer(delay=3)])  # both children busy, the rest waits
    subscribe(moldova, webhook=hook.url, inbox=True, email_to=[mihai])
    subscribe(morocco, webhook=hook.url, inbox=True, email_to=[charlie])
    worker = start_worker(broker.url, smtp_port=mail_server.port, ready=False)
    publish(
        italy_official,
        moderator,
        scheme(title="Seasonal harvest, Friuli", partner_countries=["MD", "MA"]),
    )
    worker.wait_ready()
    assert hook.arrived.wait(60), "the worker never reached the receiver"
    worker.terminate()
    wait_until(lambda: worker.process.poll() is not None, timeout=60, message="the warm shutdown did not end")
    assert worker.process.returncode == 0, worker.log_tail()
    with unscoped("assertion"):
        in_flight = Delivery.objects.get(pk=hook.requests[0]["headers"]["webhook-id"])
    assert in_flight.status == "sent" and in_flight.attempts == 1  # the running delivery was allowed to finish

    start_worker(broker.url, smtp_port=mail_server.port)

    def done() -> bool:
        beat_tick()
        return all_done(6)

    wait_until(done, timeout=60, message=f"deliveries lost across the restart: {statuses()}")
    with unscoped("assertion"):
        webhooks = {str(pk) for pk in Delivery.objects.filter(channel__type="webhook").values_list("pk", flat=True)}
        assert Notification.objects.filter(organisation__in=[moldova, morocco]).count() == 2
        assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    assert sorted(r["headers"]["webhook-id"] for r in hook.requests) == sorted(webhooks)  # one request each
    assert mail_server.per_recipient() == {mihai.email: 1, charlie.email: 1}
    nothing_lost()


def test_a_delivery_outliving_the_visibility_timeout_is_started_twice_but_sends_one_email(
    broker, start_worker, smtp, italy_official, moldova, mihai, moderator
):
    """R8. Fault: an e-mail delivery runs longer than the visibility timeout (10 s): the SMTP server
    holds the message unanswered. A second copy of the task then starts in a second worker process,
    as the broker's redelivery of an unacknowledged message would start it (the test publishes that
    copy itself once the timeout has passed: kombu's restore scan runs only every ~100 s). The
    database claim (``FOR UPDATE SKIP LOCKED`` and the ``claimed_until`` lease) makes that copy do
    nothing. One e-mail, one attempt."""
    from exchange.tasks import deliver

    stalled = smtp(hold=True)
    stalled.start()
    subscribe(moldova, email_to=[mihai])
    env = {"NOTIFICATION_CLAIM_SECONDS": "150"}  # the lease outlasts the task; the broker's timeout does not
    first = start_worker(broker.url, smtp_port=stalled.port, concurrency=1, **env)
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Molise"))

    assert stalled.holding.wait(60), "the first worker never reached the SMTP server"
    held_since = time.monotonic()
    second = start_worker(broker.url, smtp_port=stalled.port, **env)
    wait_until(
        lambda: time.monotonic() - held_since > VISIBILITY_TIMEOUT + 1,
        timeout=VISIBILITY_TIMEOUT + 5,
        message="unreachable",
    )
    with unscoped("assertion"):
        delivery = Delivery.objects.get()
    deliver.delay(str(delivery.pk), organisation_id=str(delivery.organisation_id))  # the second copy
    wait_until(
        lambda: "'skipped'" in second.log_text() + first.log_text(),
        timeout=60,
        message=f"no second copy ran: {second.log_tail()}",
    )
    stalled.release()  # the first copy's send completes
    wait_until(lambda: all_done(1), timeout=60, message=f"the slow delivery never finished: {statuses()}")
    with unscoped("assertion"):
        delivery = Delivery.objects.get()
    assert delivery.status == "sent" and delivery.attempts == 1
    assert stalled.per_recipient() == {mihai.email: 1}


def _attempts() -> int:
    with unscoped("assertion"):
        return sum(Delivery.objects.values_list("attempts", flat=True))


def test_a_delivery_that_kills_its_worker_every_time_stops_after_the_capped_attempts(
    broker, start_worker, receiver, italy_official, moldova, moderator
):
    """R13. Fault: a poison delivery: every attempt kills the worker child running it (``kill -9``
    from the receiver, as a segfault or the OOM killer would). ``task_reject_on_worker_lost``
    would loop forever; the attempt counter kept in the database stops it: after the schedule's
    four attempts the delivery is dead with a reason an operator can read, and nothing more is sent."""
    poison = receiver(then=Answer(kill_sender=True))
    subscribe(moldova, webhook=poison.url)
    worker = start_worker(broker.url)
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Calabria"))

    def dead() -> bool:
        beat_tick()
        return all_done(1)

    wait_until(dead, timeout=90, message=f"the poison delivery never stopped: {statuses()}")
    with unscoped("assertion"):
        delivery = Delivery.objects.get()
    assert delivery.status == "dead"
    assert delivery.attempts == 4  # NOTIFICATION_RETRY_SCHEDULE has four entries
    assert delivery.last_error  # shown in the delivery log
    assert len(poison.requests) == 4 and len(poison.killed) == 4
    for _ in range(3):  # the sweeper keeps running and sends nothing more
        beat_tick(at_most_every=0)
    wait_until(lambda: broker.queued() == 0 and broker.unacked() == 0, timeout=30, message="messages left behind")
    assert len(poison.requests) == 4
    assert worker.process.poll() is None  # the master survived every child it lost


def test_a_worker_whose_redis_connections_are_killed_while_idle_still_consumes_new_work(
    broker, start_worker, italy_official, moldova, moderator
):
    """R11. Fault: ``CLIENT KILL TYPE normal`` drops every client connection to Redis while the worker
    is idle (celery #8030: a worker may stay up but stop consuming). A publication afterwards is
    consumed by the same worker within 30 s, with no sweeper to cover for it."""
    subscribe(moldova, inbox=True)
    worker = start_worker(broker.url)
    killed = broker.client().execute_command("CLIENT", "KILL", "TYPE", "normal")
    assert int(killed) >= 1  # the worker's connections, at least
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Apulia"))

    wait_until(
        lambda: all_done(1),
        timeout=30,
        message=f"the worker stopped consuming: {statuses()}, {broker.queued()} message(s) waiting",
    )
    with unscoped("assertion"):
        assert Notification.objects.filter(organisation=moldova).count() == 1
    assert worker.process.poll() is None
