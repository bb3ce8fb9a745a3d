"""/healthz and /readyz as a load balancer, an orchestrator and an operator see them."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tenancy import unscoped
from exchange.models import DeliveryStatus
from tests.conftest import signed_in
from tests.exchange.factories import DeliveryFactory, SubscriptionFactory, WebhookChannelFactory
from tests.ops.factories import OutboxTaskFactory


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_healthz_says_the_process_is_up_without_asking_the_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_lists_one_passing_entry_per_check(client, db, settings, redis_url):
    settings.REDIS_URL = redis_url
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "deliveries", "outbox_tasks", "outbound_emails"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["deliveries"] == {"ok": True, "oldest_due_seconds": 0.0, "threshold_seconds": 300}
    assert body["checks"]["database"]["ms"] >= 0 and body["checks"]["redis"]["ms"] >= 0


def test_readyz_answers_503_when_redis_refuses_connections(client, db, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["redis"]["error"] == "ConnectionError"
    assert body["checks"]["database"]["ok"] is True


def test_readyz_answers_503_when_the_broker_may_evict_keys(client, db, settings):
    """Plan row R12: a Redis that evicts keys under memory pressure loses queued tasks."""
    from tests.reliability.harness import RedisServer

    server = RedisServer()
    server.start()
    try:
        server.client().config_set("maxmemory-policy", "allkeys-lru")
        settings.REDIS_URL = server.url
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["redis"] == {
            "ok": False,
            "error": "EvictionPolicy:allkeys-lru",
            "ms": response.json()["checks"]["redis"]["ms"],
        }
        server.client().config_set("maxmemory-policy", "noeviction")
        assert client.get("/readyz").status_code == 200
    finally:
        server.stop()
        server.remove()


def test_readyz_leaves_redis_out_when_none_is_configured(client, db, settings):
    settings.REDIS_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert "redis" not in response.json()["checks"]


def test_readyz_answers_503_when_a_delivery_has_waited_longer_than_the_threshold(client, italy, settings):
    settings.READY_MAX_BACKLOG_SECONDS = 300
    channel = WebhookChannelFactory(subscription=SubscriptionFactory(organisation=italy))
    with unscoped("test data"):
        DeliveryFactory(
            channel=channel, status=DeliveryStatus.FAILED, next_attempt_at=timezone.now() - timedelta(minutes=10)
        )
    response = client.get("/readyz")
    assert response.status_code == 503
    deliveries = response.json()["checks"]["deliveries"]
    assert deliveries["ok"] is False
    assert 590 < deliveries["oldest_due_seconds"] < 700


def test_a_delivery_waiting_for_a_later_retry_is_not_late(client, italy, settings):
    channel = WebhookChannelFactory(subscription=SubscriptionFactory(organisation=italy))
    with unscoped("test data"):
        DeliveryFactory(
            channel=channel, status=DeliveryStatus.FAILED, next_attempt_at=timezone.now() + timedelta(hours=5)
        )
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["deliveries"]["oldest_due_seconds"] == 0.0


def test_readyz_answers_503_when_an_outbox_task_is_overdue(client, db, settings):
    settings.READY_MAX_BACKLOG_SECONDS = 60
    OutboxTaskFactory(task="corridor.ping", next_attempt_at=timezone.now() - timedelta(minutes=2))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["outbox_tasks"]["ok"] is False
    assert response.json()["checks"]["deliveries"]["ok"] is True


def test_a_threshold_of_zero_leaves_the_backlog_out_of_readiness(client, db, settings):
    settings.REDIS_URL = ""
    settings.READY_MAX_BACKLOG_SECONDS = 0
    OutboxTaskFactory(task="corridor.ping", next_attempt_at=timezone.now() - timedelta(days=2))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_not_redirected_to_https_in_production(client, db, settings, path):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/help/").status_code == 301
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_not_sent_to_two_factor_enrolment(db, settings, agency, path):
    from tests.factories import member

    agency.require_two_factor = True
    agency.save(update_fields=["require_two_factor"])
    browser = signed_in(member(agency, "moderator", email="unenrolled@ilma.example"), verified=False)
    assert browser.get("/listings/").status_code == 302
    assert browser.get(path).status_code == 200


def test_probes_are_never_throttled(client, db):
    # More than the anonymous API limit (API_THROTTLE_ANON, 100 an hour) from one address.
    statuses = [client.get(path).status_code for path in ["/healthz", "/readyz"] * 60]
    assert set(statuses) == {200}
