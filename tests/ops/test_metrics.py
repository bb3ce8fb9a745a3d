"""/metrics: closed unless configured, then the Prometheus text exposition for the right token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from accounts.tenancy import unscoped
from exchange.models import ChannelType, DeliveryStatus
from exchange.models.outbox import OutboxStatus
from tests.exchange.factories import DeliveryFactory, SubscriptionFactory, WebhookChannelFactory
from tests.ops.factories import OutboxTaskFactory

TOKEN = "metrics-token-for-the-tests-0123456789"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_metrics_are_not_found_when_no_token_is_configured(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Token {TOKEN}", f"Bearer {TOKEN}x", "Bearer "], ids=str
)
def test_metrics_refuse_a_missing_or_wrong_token(client, db, metrics_on, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/metrics", **headers)
    assert response.status_code == 403
    assert b"corridor_" not in response.content


def test_a_request_shows_up_in_the_latency_histogram_under_its_route_pattern(client, db, metrics_on):
    labels = {"route": "/help/", "method": "GET", "status": "2xx"}
    before = REGISTRY.get_sample_value("corridor_http_request_duration_seconds_count", labels) or 0
    assert client.get("/help/").status_code == 200
    samples = scrape(client)
    key = ("corridor_http_request_duration_seconds_count", tuple(sorted(labels.items())))
    assert samples[key] == before + 1


def test_the_histogram_names_the_pattern_not_the_raw_path(client, db, metrics_on):
    client.get("/api/v1/public/listings/00000000-0000-0000-0000-000000000000/")
    routes = {dict(labels).get("route") for name, labels in scrape(client) if name.startswith("corridor_http")}
    assert "/api/v1/public/listings/(?P<pk>[^/.]+)/" in routes
    assert not any("00000000" in route for route in routes if route)


def test_the_backlog_gauges_count_deliveries_ages_and_dead_tasks(client, italy, metrics_on):
    channel = WebhookChannelFactory(subscription=SubscriptionFactory(organisation=italy))
    with unscoped("test data"):
        DeliveryFactory(channel=channel, status=DeliveryStatus.DEAD)
        DeliveryFactory(channel=channel, status=DeliveryStatus.DEAD)
        DeliveryFactory(
            channel=channel, status=DeliveryStatus.PENDING, next_attempt_at=timezone.now() - timedelta(seconds=90)
        )
        DeliveryFactory(channel=channel, status=DeliveryStatus.SENT)
    OutboxTaskFactory(task="exchange.match_listing", status=OutboxStatus.DEAD)
    samples = scrape(client)
    assert samples[("corridor_backlog_up", ())] == 1
    assert samples[("corridor_deliveries", (("channel_type", ChannelType.WEBHOOK), ("status", "dead")))] == 2
    assert samples[("corridor_deliveries", (("channel_type", ChannelType.WEBHOOK), ("status", "pending")))] == 1
    assert ("corridor_deliveries", (("channel_type", ChannelType.WEBHOOK), ("status", "sent"))) not in samples
    assert 85 < samples[("corridor_outbox_oldest_due_age_seconds", (("queue", "deliveries"),))] < 200
    assert samples[("corridor_outbox_oldest_due_age_seconds", (("queue", "outbox_tasks"),))] == 0
    assert samples[("corridor_outbox_tasks_dead", (("task", "exchange.match_listing"),))] == 1


def test_the_backlog_gauges_cost_a_fixed_number_of_queries(client, italy, metrics_on, django_assert_max_num_queries):
    channel = WebhookChannelFactory(subscription=SubscriptionFactory(organisation=italy))
    with unscoped("test data"):
        for _ in range(20):
            DeliveryFactory(channel=channel, status=DeliveryStatus.DEAD)
    with django_assert_max_num_queries(10):
        scrape(client)
