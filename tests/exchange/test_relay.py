"""The relay from pending deliveries to broker messages, against a real Redis of the test's own.

A chunk's messages reach Redis in one pipeline (``deliveries_publish``); what a worker
receives must not change for that: one ``exchange.deliver`` message per delivery, on its
channel's queue, carrying the delivery's organisation. A broker that fails leaves every
row to the sweeper.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tenancy import unscoped
from exchange.management.bench_support import celery_broker
from exchange.models import ChannelType, Delivery, DeliveryStatus
from exchange.notifications.delivery import deliveries_sweep
from exchange.notifications.events import ENQUEUE_INLINE, enqueue
from exchange.tasks import deliver_many
from tests.exchange.factories import ChannelFactory, DeliveryFactory, EventFactory, SubscriptionFactory
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def _messages(url: str, queue: str) -> list[dict[str, Any]]:
    """The task name, args and kwargs of each message on ``queue``, oldest first."""
    found = []
    for raw in reversed(redis.Redis.from_url(url).lrange(queue, 0, -1)):
        message = json.loads(raw)
        args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found.append({"task": message["headers"]["task"], "args": args, "kwargs": kwargs})
    return found


def _pending(organisation: Any, channel_type: str, count: int) -> list[Delivery]:
    channel = ChannelFactory(subscription=SubscriptionFactory(organisation=organisation), type=channel_type)
    event = EventFactory()
    return [
        DeliveryFactory(event=event if n == 0 else EventFactory(), channel=channel, status=DeliveryStatus.PENDING)
        for n in range(count)
    ]


def test_a_chunk_reaches_each_channels_queue_as_one_message_per_delivery_after_one_read(private_redis):
    moldova, morocco = OrganisationFactory(slug="md-relay"), OrganisationFactory(slug="ma-relay")
    with unscoped("test setup"):
        inbox = _pending(moldova, ChannelType.INBOX, 30) + _pending(morocco, ChannelType.INBOX, 10)
        email = _pending(moldova, ChannelType.EMAIL, 5)
        webhooks = _pending(morocco, ChannelType.WEBHOOK, 3)
        gone = inbox.pop()  # its channel went away after the fan-out: nothing to send
        ids = [str(d.pk) for d in inbox + email + webhooks] + [str(gone.pk)]
        gone.delete()
    with celery_broker(private_redis.url), CaptureQueriesContext(connection) as queries:
        assert deliver_many(ids) == len(ids)
    assert len(queries.captured_queries) == 1  # the chunk's organisations and channel types
    for queue, deliveries in (("inbox", inbox), ("email", email), ("webhooks", webhooks)):
        assert _messages(private_redis.url, queue) == [
            {"task": "exchange.deliver", "args": [str(d.pk)], "kwargs": {"organisation_id": str(d.organisation_id)}}
            for d in deliveries
        ]


def test_a_large_fan_out_on_a_dead_broker_is_left_to_the_sweeper_which_relays_it_when_redis_returns(
    private_redis, caplog
):
    with unscoped("test setup"):
        deliveries = _pending(OrganisationFactory(slug="md-relay"), ChannelType.INBOX, ENQUEUE_INLINE + 5)
    ids = [str(d.pk) for d in deliveries]
    with celery_broker(private_redis.url):
        private_redis.stop()
        with caplog.at_level(logging.WARNING, logger="exchange.notifications.events"):
            enqueue(ids)  # after the fan-out's commit: must not raise into the committed request
        assert "left for the sweeper" in caplog.text
        with unscoped("assertion"):
            assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PENDING}
            # Due, and written long enough ago for the sweeper to take their messages for lost.
            an_hour_ago = timezone.now() - timedelta(hours=1)
            Delivery.objects.update(created_at=an_hour_ago, next_attempt_at=an_hour_ago)
        private_redis.start()
        assert deliveries_sweep() == len(ids)
        chunks = _messages(private_redis.url, "default")
        assert [(chunk["task"], sorted(chunk["args"][0])) for chunk in chunks] == [
            ("exchange.deliver_many", sorted(ids))
        ]
        deliver_many(*chunks[0]["args"])  # as a worker runs it
    assert sorted(message["args"][0] for message in _messages(private_redis.url, "inbox")) == sorted(ids)
