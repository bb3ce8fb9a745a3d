"""Retention: old delivery logs, event payloads and inbox items are purged; nothing still owed is.

Rows are real (factories), aged by hand, and tested at the boundaries: a row exactly
as old as the limit stays, one a second older goes.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, Organisation, OutboundEmail, OutboundEmailStatus
from exchange.models import ChannelType, Delivery, DeliveryStatus, Event, Notification
from exchange.notifications.retention import notifications_purge, purge_notifications
from tests.conftest import as_assertion
from tests.exchange.factories import ChannelFactory, DeliveryFactory, NotificationFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
DAY = datetime.timedelta(days=1)
SECOND = datetime.timedelta(seconds=1)


@pytest.fixture
def hook(italy: Organisation) -> Any:
    with as_assertion():
        return ChannelFactory(subscription=SubscriptionFactory(organisation=italy), type=ChannelType.WEBHOOK)


@pytest.fixture
def inbox(italy: Organisation) -> Any:
    with as_assertion():
        return ChannelFactory(subscription=SubscriptionFactory(organisation=italy), type=ChannelType.INBOX)


def delivery(channel: Any, *, age: datetime.timedelta, status: str = DeliveryStatus.SENT, **fields: Any) -> Delivery:
    with as_assertion():
        row = DeliveryFactory(channel=channel, status=status, **fields)
        Delivery.objects.filter(pk=row.pk).update(created_at=NOW - age)
        Event.objects.filter(pk=row.event_id).update(created_at=NOW - age)
        return row


def inbox_item(channel: Any, *, age: datetime.timedelta, **fields: Any) -> Notification:
    row = delivery(channel, age=age, **fields)
    with as_assertion():
        item = NotificationFactory(delivery=row)
        Notification.objects.filter(pk=item.pk).update(created_at=NOW - age)
        return item


def exists(row: Any) -> bool:
    with as_assertion():
        return type(row).objects.filter(pk=row.pk).exists()


def test_a_sent_webhook_delivery_and_its_payload_go_a_second_after_180_days_not_before(hook: Any) -> None:
    older = delivery(hook, age=180 * DAY + SECOND)
    at_limit = delivery(hook, age=180 * DAY)
    counts = notifications_purge(now=NOW)
    assert not exists(older) and not exists(older.event)
    assert exists(at_limit) and exists(at_limit.event)
    assert counts["deliveries"] == 1 and counts["events"] == 1


def test_a_dead_delivery_is_purged_like_a_sent_one(hook: Any) -> None:
    dead = delivery(hook, age=200 * DAY, status=DeliveryStatus.DEAD, last_error="HTTP 500 from the partner")
    notifications_purge(now=NOW)
    assert not exists(dead)


@pytest.mark.parametrize(
    "status", [DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.PAUSED, DeliveryStatus.DIGEST]
)
def test_a_delivery_still_owed_is_never_purged_however_old(hook: Any, status: str) -> None:
    owed = delivery(hook, age=1000 * DAY, status=status)
    notifications_purge(now=NOW)
    assert exists(owed) and exists(owed.event)


def test_an_event_another_delivery_still_owes_stays_when_its_sent_delivery_goes(hook: Any, italy: Any) -> None:
    sent = delivery(hook, age=200 * DAY)
    with as_assertion():
        other = ChannelFactory(subscription=SubscriptionFactory(organisation=italy), type=ChannelType.WEBHOOK)
    owed = delivery(other, age=200 * DAY, status=DeliveryStatus.FAILED, event=sent.event)
    notifications_purge(now=NOW)
    assert not exists(sent)
    assert exists(owed) and exists(sent.event)


def test_an_inbox_item_stays_for_a_year_with_its_log_cleared_after_180_days(inbox: Any) -> None:
    item = inbox_item(inbox, age=200 * DAY, last_error="first attempt timed out", last_status_code=504)
    notifications_purge(now=NOW)
    assert exists(item) and exists(item.event)
    with as_assertion():
        kept = Delivery.objects.get(pk=item.delivery_id)
    assert kept.last_error == "" and kept.last_status_code is None


def test_an_inbox_item_goes_a_second_after_365_days_with_its_delivery_and_payload(inbox: Any) -> None:
    older = inbox_item(inbox, age=365 * DAY + SECOND)
    at_limit = inbox_item(inbox, age=365 * DAY)
    counts = notifications_purge(now=NOW)
    assert not exists(older) and not exists(older.event)
    with as_assertion():
        assert not Delivery.objects.filter(pk=older.delivery_id).exists()
    assert exists(at_limit) and exists(at_limit.event)
    assert counts["inbox_items"] == 1


def test_the_limits_come_from_the_settings(hook: Any, inbox: Any, settings: Any) -> None:
    settings.DELIVERY_RETENTION_DAYS = 30
    settings.INBOX_RETENTION_DAYS = 60
    webhook = delivery(hook, age=31 * DAY)
    item = inbox_item(inbox, age=61 * DAY)
    notifications_purge(now=NOW)
    assert not exists(webhook) and not exists(item)


def test_a_purge_is_audited_and_a_second_run_finds_nothing(hook: Any) -> None:
    delivery(hook, age=400 * DAY)
    assert purge_notifications.delay().get() == {
        "inbox_items": 0,
        "deliveries": 1,
        "logs_cleared": 0,
        "events": 1,
        "emails": 0,
    }
    assert not any(notifications_purge().values())
    with as_assertion():
        assert AuditEvent.objects.filter(action="notifications.purged").count() == 1


def test_a_sent_or_dead_email_goes_after_180_days_and_one_still_owed_stays() -> None:
    def email(key: str, status: str, age: datetime.timedelta) -> OutboundEmail:
        row = OutboundEmail.objects.create(key=key, to="bob@lavoro.gov.example", subject="s", body="b", status=status)
        OutboundEmail.objects.filter(pk=row.pk).update(created_at=NOW - age)
        return row

    sent = email("old-sent", OutboundEmailStatus.SENT, 180 * DAY + SECOND)
    dead = email("old-dead", OutboundEmailStatus.DEAD, 400 * DAY)
    owed = email("old-owed", OutboundEmailStatus.FAILED, 400 * DAY)
    at_limit = email("at-limit", OutboundEmailStatus.SENT, 180 * DAY)
    assert notifications_purge(now=NOW)["emails"] == 2
    assert not exists(sent) and not exists(dead)
    assert exists(owed) and exists(at_limit)


def test_beat_runs_the_purge_daily_with_the_documented_defaults(settings: Any) -> None:
    from config.beat import BEAT_SCHEDULE
    from config.celery import app

    entry = BEAT_SCHEDULE["exchange.purge-notifications"]
    assert entry["task"] == "exchange.purge_notifications" == purge_notifications.name
    assert entry["task"] in app.tasks
    schedule: Any = entry["schedule"]
    assert schedule.hour == {3} and schedule.minute == {30} and schedule.day_of_week == set(range(7))
    from config.settings import base

    assert (base.DELIVERY_RETENTION_DAYS, base.INBOX_RETENTION_DAYS) == (180, 365)
