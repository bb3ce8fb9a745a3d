"""Faults at a partner's webhook receiver (plan rows R9, R17, R18, R19).

A real Celery worker consumes a private Redis; the receiver is a scripted HTTP
server on loopback. Retries are timed by ``next_attempt_at`` in the database and
re-enqueued by the sweeper (``beat_tick``), with the suite's short schedule
(0, 1, 1, 1 s: four attempts).
"""

from __future__ import annotations

from typing import Any

import pytest
from standardwebhooks import Webhook

from accounts.tenancy import unscoped
from exchange.models import Channel, Delivery
from tests.conftest import token_client
from tests.reliability.harness import Answer, ScriptedReceiver, beat_tick, free_port, wait_until
from tests.reliability.world import emails_about, nothing_lost, publish, scheme, statuses, subscribe

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _delivery() -> Delivery:
    with unscoped("assertion"):
        return Delivery.objects.select_related("channel").get(channel__type="webhook")


def _after_attempts(n: int, *, status: str = "failed") -> Delivery:
    """Wait, without sweeping, until the webhook delivery has made ``n`` attempts and rests in ``status``."""

    def reached() -> bool:
        with unscoped("assertion"):
            return Delivery.objects.filter(channel__type="webhook", attempts=n, status=status).exists()

    wait_until(reached, timeout=30, message=f"attempt {n} never ended {status}: {statuses()}")
    return _delivery()


def _swept_until(status: str) -> Delivery:
    def reached() -> bool:
        beat_tick()
        return _delivery().status == status

    wait_until(reached, timeout=60, message=f"the webhook delivery never became {status}: {statuses()}")
    return _delivery()


def _no_more_requests(hook: ScriptedReceiver, broker: Any) -> None:
    """Sweep again and let the worker drain the queue: the receiver must hear nothing new."""
    before = len(hook.requests)
    beat_tick(at_most_every=0)
    wait_until(lambda: broker.queued() == 0, timeout=30, message="the queue never drained")
    assert len(hook.requests) == before


@pytest.mark.parametrize("fault", ["500", "timeout", "refused"])
def test_a_receiver_failing_twice_gets_the_same_webhook_id_and_body_with_fresh_signatures_until_it_answers(
    fault, settings, broker, worker_thread, receiver, italy_official, moldova, moderator
):
    """R17. Fault: the receiver fails the first two attempts: answering 500, stalling longer than the
    sender's timeout, or not listening at all (connection refused on a closed port). The third
    attempt succeeds. Every request carries the delivery's id as ``webhook-id`` and the same body,
    each with a fresh timestamp and a valid signature; the success stops the retries."""
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    if fault == "refused":
        port = free_port()  # nothing listens here yet
        url = f"http://127.0.0.1:{port}/hooks/corridor"
    else:
        failing = Answer(500) if fault == "500" else Answer(delay=3)
        hook = receiver([failing, failing])
        url = hook.url
    subscription = subscribe(moldova, webhook=url)
    worker_thread(broker.url)
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Sardinia"))

    if fault == "refused":
        _after_attempts(1)

        def refused_twice() -> bool:
            beat_tick()
            return _delivery().attempts == 2 and _delivery().status == "failed"

        wait_until(refused_twice, timeout=30, message=f"the second attempt never failed: {statuses()}")
        assert _delivery().last_error.startswith("Could not connect")
        hook = receiver(port=port)  # the partner's endpoint comes back, on the same address
    delivery = _swept_until("sent")

    assert delivery.attempts == 3 and delivery.last_status_code == 200
    expected_requests = 1 if fault == "refused" else 3
    assert len(hook.requests) == expected_requests
    assert hook.ids() == {str(delivery.pk)}
    assert len({r["body"] for r in hook.requests}) == 1
    with unscoped("assertion"):
        secret = Channel.objects.get(subscription=subscription).secret
    for request in hook.requests:
        Webhook(secret).verify(request["body"], request["headers"])
    assert len({r["headers"]["webhook-signature"] for r in hook.requests}) == expected_requests
    assert len({r["headers"]["webhook-timestamp"] for r in hook.requests}) == expected_requests
    _no_more_requests(hook, broker)
    nothing_lost()


def test_a_receiver_answering_410_gone_has_its_endpoint_disabled_and_the_partner_told(
    broker, worker_thread, receiver, italy_official, moldova, ana, moderator
):
    """R18 (410). Fault: the receiver answers 410 Gone. The delivery is dead at once (no retries),
    the endpoint is disabled, Moldova's admin is told, and later publications write no delivery
    for the disabled endpoint while the subscription's inbox channel keeps working."""
    hook = receiver(then=Answer(410))
    subscribe(moldova, webhook=hook.url, inbox=True)
    worker_thread(broker.url)
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Basilicata"))

    delivery = _swept_until("dead")
    assert delivery.attempts == 1 and delivery.last_status_code == 410
    assert "410" in delivery.last_error
    with unscoped("assertion"):
        assert delivery.channel.__class__.objects.get(pk=delivery.channel_id).state == "disabled"
    wait_until(
        lambda: any(to == ana.email for to, _subject in emails_about("webhook endpoint")),
        timeout=30,
        message="Moldova's admin was never told",
    )
    _no_more_requests(hook, broker)

    publish(italy_official, moderator, scheme(title="Seasonal harvest, Campania"))
    with unscoped("assertion"):
        later = Delivery.objects.filter(event__data__title="Seasonal harvest, Campania")
        assert [d.channel.type for d in later] == ["inbox"]
    assert len(hook.requests) == 1


def test_a_receiver_answering_429_is_retried_no_sooner_than_its_retry_after(
    broker, worker_thread, receiver, italy_official, moldova, moderator
):
    """R18 (429). Fault: the receiver answers 429 Too Many Requests with ``Retry-After: 3``, then 200.
    The next attempt waits the 3 s it asked for (the schedule alone would retry after 1 s), carries
    the same ``webhook-id``, and succeeds."""
    hook = receiver([Answer(429, {"Retry-After": "3"})])
    subscribe(moldova, webhook=hook.url)
    worker_thread(broker.url)
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Lombardy"))

    first = _after_attempts(1)
    assert first.last_status_code == 429
    assert first.next_attempt_at is not None
    assert first.next_attempt_at.timestamp() >= hook.requests[0]["at"] + 2.5  # stored in the database
    delivery = _swept_until("sent")
    assert delivery.attempts == 2
    assert hook.requests[1]["at"] - hook.requests[0]["at"] >= 2.5
    assert hook.ids() == {str(delivery.pk)}
    nothing_lost()


def test_a_retry_ten_minutes_away_waits_in_the_database_and_leaves_nothing_on_the_broker(
    broker, worker_thread, receiver, italy_official, moldova, moderator
):
    """R9. Fault: the receiver answers 429 with ``Retry-After: 600``, a wait far longer than the
    visibility timeout. Were the retry an ETA or countdown message, the broker would hold it
    unacknowledged and hand it out again every visibility timeout (celery #2599, #3270). Here the
    wait is ``next_attempt_at`` on the row: once the attempt is recorded, Redis holds no message
    and nothing unacknowledged, the sweeper leaves the row alone until it is due, and the receiver
    has heard exactly once."""
    hook = receiver([Answer(429, {"Retry-After": "600"})])
    subscribe(moldova, webhook=hook.url)
    worker_thread(broker.url)
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Marche"))

    first = _after_attempts(1)
    assert first.next_attempt_at is not None
    assert first.next_attempt_at.timestamp() >= hook.requests[0]["at"] + 590
    wait_until(
        lambda: broker.queued() == 0 and broker.unacked() == 0,
        timeout=15,
        message="a message is still waiting on the broker after the attempt was recorded",
    )
    for _sweep in range(3):
        beat_tick(at_most_every=0)
        assert broker.queued() == 0 and broker.unacked() == 0
    delivery = _delivery()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert len(hook.requests) == 1


def test_a_receiver_answering_a_redirect_is_not_followed_and_counts_as_a_failure(
    broker, worker_thread, receiver, italy_official, moldova, moderator
):
    """R18 (3xx). Fault: the receiver answers 302 with a ``Location`` elsewhere. The sender does not
    follow it (the other address hears nothing), records a failure with the status, and retries the
    original endpoint, which then answers 200."""
    elsewhere = receiver()
    hook = receiver([Answer(302, {"Location": elsewhere.url})])
    subscribe(moldova, webhook=hook.url)
    worker_thread(broker.url)
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Trentino"))

    first = _after_attempts(1)
    assert first.last_status_code == 302
    assert "redirects are not followed" in first.last_error

    def counted() -> bool:  # the failure is counted just after the attempt is recorded
        with unscoped("assertion"):
            return Channel.objects.get(pk=first.channel_id).consecutive_failures == 1

    wait_until(counted, timeout=15, message="the redirect was not counted as a failure")
    delivery = _swept_until("sent")
    assert delivery.attempts == 2
    assert elsewhere.requests == []
    assert [r["path"] for r in hook.requests] == ["/hooks/corridor", "/hooks/corridor"]
    with unscoped("assertion"):
        assert Channel.objects.get(pk=first.channel_id).consecutive_failures == 0
    nothing_lost()


def test_a_receiver_down_for_good_ends_dead_paused_and_told_and_a_replay_restores_it(
    settings, broker, worker_thread, receiver, italy_official, moldova, ana, moderator
):
    """R19. Fault: the receiver answers 500 to everything, for as long as the schedule lasts. After
    the last attempt the delivery is dead, the endpoint is paused and Moldova's admin is told; a
    publication while paused is kept (paused, not lost, not sent). When the endpoint works again, the
    admin replays the dead delivery through the API: the endpoint resumes and both are delivered,
    the replay under the same ``webhook-id`` as before."""
    settings.WEBHOOK_PAUSE_AFTER_FAILURES = 4  # the schedule's four attempts, in a row
    hook = receiver(then=Answer(500))
    subscribe(moldova, webhook=hook.url)
    worker_thread(broker.url)
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Piedmont"))

    dead = _swept_until("dead")
    assert dead.attempts == 4 and dead.last_status_code == 500
    assert len(hook.requests) == 4 and hook.ids() == {str(dead.pk)}

    def paused() -> bool:  # counted just after the dead attempt is recorded, in its own transaction
        with unscoped("assertion"):
            return Channel.objects.get(pk=dead.channel_id).state == "paused"

    wait_until(paused, timeout=15, message="the endpoint was not paused after the last attempt")
    wait_until(
        lambda: any(to == ana.email for to, _subject in emails_about("paused")),
        timeout=30,
        message="Moldova's admin was never told of the pause",
    )
    _no_more_requests(hook, broker)

    publish(italy_official, moderator, scheme(title="Seasonal harvest, Aosta"))
    with unscoped("assertion"):
        held = Delivery.objects.get(event__data__title="Seasonal harvest, Aosta")
    assert held.status == "paused"
    _no_more_requests(hook, broker)

    hook.then = Answer(200)  # the partner fixed its endpoint
    response = token_client(ana, moldova).post(f"/api/v1/deliveries/{dead.pk}/replay/")
    assert response.status_code == 202, response.content

    def both_sent() -> bool:
        beat_tick()
        with unscoped("assertion"):
            return Delivery.objects.filter(status="sent").count() == 2

    wait_until(both_sent, timeout=60, message=f"the replay did not restore delivery: {statuses()}")
    with unscoped("assertion"):
        assert Channel.objects.get(pk=dead.channel_id).state == "active"
    assert [r["headers"]["webhook-id"] for r in hook.requests[4:]].count(str(dead.pk)) == 1
    assert hook.ids() == {str(dead.pk), str(held.pk)}
    nothing_lost()
