"""The in-app inbox, the delivery log and a channel's private Atom feed.

Rows the delivery engine writes (events, deliveries, inbox items) are made with
factories; Italy's belong to Alice and Bob, Morocco's to Charlie, who meets 404s.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Organisation
from accounts.tenancy import unscoped
from exchange.models import Delivery, DeliveryStatus, Event, Notification
from tests.conftest import token_client
from tests.exchange.factories import (
    ChannelFactory,
    DeliveryFactory,
    EventFactory,
    FeedChannelFactory,
    NotificationFactory,
    SubscriptionFactory,
    WebhookChannelFactory,
)
from tests.factories import member

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def parse(content: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(content)  # noqa: S314 - our own response, not untrusted input


def inbox_item(organisation: Organisation, *, minutes_ago: int = 0, read: bool = False, **event: Any) -> Notification:
    channel = ChannelFactory(subscription=SubscriptionFactory(organisation=organisation))
    item = NotificationFactory(
        delivery=DeliveryFactory(channel=channel, event=EventFactory(**event)),
        read_at=timezone.now() if read else None,
    )
    # created_at is auto_now_add: move it afterwards to fix the order.
    with unscoped("test setup"):
        Notification.objects.filter(pk=item.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    item.refresh_from_db()
    return item


@pytest.fixture
def viewer_api(italy: Organisation) -> APIClient:
    return token_client(member(italy, "viewer"), italy)


# --- The inbox --------------------------------------------------------------------------------------


def test_the_inbox_lists_the_organisations_items_newest_first(alice_api, italy, morocco):
    older = inbox_item(italy, minutes_ago=10, type="match.created", data={"title": "A match", "match_id": "m1"})
    newer = inbox_item(italy, minutes_ago=1, read=True)
    inbox_item(morocco, data={"title": "Morocco's own"})

    response = alice_api.get("/api/v1/notifications/")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [str(newer.pk), str(older.pk)]
    assert set(results[1]) >= {"id", "type", "created_at", "read", "data"}
    assert results[1]["type"] == "match.created"
    assert results[1]["data"] == {"title": "A match", "match_id": "m1"}
    assert results[1]["read"] is False and results[0]["read"] is True


def test_the_inbox_filters_unread_items(alice_api, italy):
    unread = inbox_item(italy)
    inbox_item(italy, read=True)

    response = alice_api.get("/api/v1/notifications/?unread=true")

    assert [r["id"] for r in response.json()["results"]] == [str(unread.pk)]
    assert alice_api.get("/api/v1/notifications/?unread=maybe").status_code == 400


def test_the_unread_count_counts_only_the_organisations_unread_items(alice_api, italy, morocco):
    inbox_item(italy)
    inbox_item(italy)
    inbox_item(italy, read=True)
    inbox_item(morocco)

    response = alice_api.get("/api/v1/notifications/unread-count/")

    assert response.json() == {"count": 2}


def test_marking_an_item_read_is_idempotent_and_open_to_viewers(viewer_api, italy):
    item = inbox_item(italy)

    first = viewer_api.post(f"/api/v1/notifications/{item.pk}/read/")
    item.refresh_from_db()
    read_at = item.read_at
    second = viewer_api.post(f"/api/v1/notifications/{item.pk}/read/")
    item.refresh_from_db()

    assert first.status_code == second.status_code == 200
    assert first.json()["read"] is True
    assert read_at is not None and item.read_at == read_at


def test_read_all_marks_only_the_organisations_items(alice_api, italy, morocco):
    inbox_item(italy)
    inbox_item(italy)
    theirs = inbox_item(morocco)

    response = alice_api.post("/api/v1/notifications/read-all/")

    assert response.json() == {"marked": 2}
    with unscoped("assertion"):
        assert not Notification.objects.filter(organisation=italy, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_another_organisations_inbox_item_is_a_404(charlie_api, italy):
    item = inbox_item(italy, data={"title": "confidential"})

    for response in (
        charlie_api.get(f"/api/v1/notifications/{item.pk}/"),
        charlie_api.post(f"/api/v1/notifications/{item.pk}/read/"),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    item.refresh_from_db()
    assert item.read_at is None
    assert charlie_api.get("/api/v1/notifications/").json()["count"] == 0
    assert charlie_api.get("/api/v1/notifications/unread-count/").json() == {"count": 0}


def test_the_inbox_runs_a_fixed_number_of_queries(alice_api, italy, django_assert_num_queries):
    for n in range(10):
        inbox_item(italy, minutes_ago=n)

    with django_assert_num_queries(4):  # the token with its membership, the actor, the count, the page
        response = alice_api.get("/api/v1/notifications/")

    assert response.json()["count"] == 10


# --- The delivery log -------------------------------------------------------------------------------


@pytest.fixture
def italian_webhook(italy: Organisation) -> Any:
    return WebhookChannelFactory(subscription=SubscriptionFactory(organisation=italy, name="Italy's hook"))


def test_the_delivery_log_shows_the_organisations_rows(alice_api, italy, morocco, italian_webhook):
    failed = DeliveryFactory(
        channel=italian_webhook,
        status=DeliveryStatus.FAILED,
        attempts=3,
        last_status_code=503,
        last_error="HTTP 503",
        next_attempt_at=timezone.now() + timedelta(minutes=5),
    )
    DeliveryFactory(channel=ChannelFactory(subscription=SubscriptionFactory(organisation=morocco)))

    response = alice_api.get("/api/v1/deliveries/")

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == str(failed.pk)
    assert row["subscription"] == str(italian_webhook.subscription_id)
    assert row["channel"] == str(italian_webhook.pk)
    assert row["channel_type"] == "webhook"
    assert row["event_type"] == failed.event.type
    assert (row["status"], row["attempts"], row["last_status_code"], row["last_error"]) == (
        "failed",
        3,
        503,
        "HTTP 503",
    )
    assert row["next_attempt_at"] is not None
    assert italian_webhook.secret not in response.content.decode()


def test_the_delivery_log_filters_by_status_subscription_and_channel_type(alice_api, italy, italian_webhook):
    dead = DeliveryFactory(channel=italian_webhook, status=DeliveryStatus.DEAD)
    inbox = DeliveryFactory(channel=ChannelFactory(subscription=SubscriptionFactory(organisation=italy)))

    def ids(query: str) -> list[str]:
        response = alice_api.get(f"/api/v1/deliveries/?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("status=dead") == [str(dead.pk)]
    assert ids(f"subscription={inbox.subscription_id}") == [str(inbox.pk)]
    assert ids("channel_type=inbox") == [str(inbox.pk)]
    assert ids("channel_type=webhook&status=sent") == []
    assert alice_api.get("/api/v1/deliveries/?status=lost").status_code == 400


def test_the_delivery_log_runs_a_fixed_number_of_queries(alice_api, italian_webhook, django_assert_num_queries):
    for _ in range(10):
        DeliveryFactory(channel=italian_webhook)

    with django_assert_num_queries(4):  # the token with its membership, the actor, the count, the page
        response = alice_api.get("/api/v1/deliveries/")

    assert response.json()["count"] == 10


@pytest.mark.parametrize("status", ["failed", "dead", "paused", "sent"])
def test_an_official_replays_a_delivery(bob_api, italy, italian_webhook, status, django_capture_on_commit_callbacks):
    delivery = DeliveryFactory(channel=italian_webhook, status=status, attempts=8, last_error="HTTP 500")

    # The replay enqueues after commit; capture it rather than let a worker post to a real address.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = bob_api.post(f"/api/v1/deliveries/{delivery.pk}/replay/")

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert len(callbacks) == 1
    with unscoped("assertion"):
        assert AuditEvent.objects.filter(
            organisation=italy, action="delivery.replayed", object_id=str(delivery.pk)
        ).exists()


@pytest.mark.parametrize("status", ["pending", "digest"])
def test_a_pending_or_digest_delivery_cannot_be_replayed(alice_api, italian_webhook, status):
    delivery = DeliveryFactory(channel=italian_webhook, status=status)

    response = alice_api.post(f"/api/v1/deliveries/{delivery.pk}/replay/")

    assert response.status_code == 409
    delivery.refresh_from_db()
    assert delivery.status == status


def test_a_viewer_reads_the_delivery_log_but_cannot_replay(viewer_api, italian_webhook):
    delivery = DeliveryFactory(channel=italian_webhook, status=DeliveryStatus.DEAD)

    assert viewer_api.get("/api/v1/deliveries/").json()["count"] == 1
    assert viewer_api.post(f"/api/v1/deliveries/{delivery.pk}/replay/").status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == "dead"


def test_another_organisations_delivery_is_a_404(charlie_api, italian_webhook):
    delivery = DeliveryFactory(channel=italian_webhook, status=DeliveryStatus.DEAD)

    for response in (
        charlie_api.get(f"/api/v1/deliveries/{delivery.pk}/"),
        charlie_api.post(f"/api/v1/deliveries/{delivery.pk}/replay/"),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    delivery.refresh_from_db()
    assert delivery.status == "dead"
    assert charlie_api.get("/api/v1/deliveries/").json()["count"] == 0


# --- The feed ---------------------------------------------------------------------------------------


@pytest.fixture
def feed(italy: Organisation) -> Any:
    return FeedChannelFactory(subscription=SubscriptionFactory(organisation=italy, name="Nurses for Italy"))


def feed_entry(channel: Any, *, minutes_ago: int, **event: Any) -> Event:
    made = EventFactory(**event)
    Event.objects.filter(pk=made.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    made.refresh_from_db()
    DeliveryFactory(channel=channel, event=made)
    return made


def test_the_feed_lists_the_channels_events_newest_first_without_a_login(client, feed, morocco):
    older = feed_entry(
        feed, minutes_ago=30, data={"title": "Care workers wanted", "url": "https://corridor.example/l/1/"}
    )
    newer = feed_entry(feed, minutes_ago=5, type="match.created", data={})
    other = FeedChannelFactory(subscription=SubscriptionFactory(organisation=morocco))
    feed_entry(other, minutes_ago=1, data={"title": "Morocco's entry"})

    response = client.get(f"/feeds/subscriptions/{feed.feed_token}.atom")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert "no-cache" in response["Cache-Control"] and response["X-Robots-Tag"] == "noindex"
    root = parse(response.content)
    assert root.findtext(f"{ATOM}title") == "Corridor: Nurses for Italy"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == [f"urn:uuid:{newer.pk}", f"urn:uuid:{older.pk}"]
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["match.created", "Care workers wanted"]
    assert entries[1].find(f"{ATOM}link").get("href") == "https://corridor.example/l/1/"
    assert entries[1].findtext(f"{ATOM}updated").startswith(older.created_at.strftime("%Y-%m-%dT%H:%M"))
    assert b"Morocco's entry" not in response.content


def test_the_feed_holds_the_newest_fifty_events(client, feed):
    for n in range(55):
        feed_entry(feed, minutes_ago=n)

    root = parse(client.get(f"/feeds/subscriptions/{feed.feed_token}.atom").content)

    assert len(root.findall(f"{ATOM}entry")) == 50


def test_a_feed_token_with_one_character_changed_is_a_404(client, feed):
    token = feed.feed_token
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")

    assert client.get(f"/feeds/subscriptions/{changed}.atom").status_code == 404
    assert client.get(f"/feeds/subscriptions/{token[:-1]}.atom").status_code == 404
    assert client.get(f"/feeds/subscriptions/{token}.atom").status_code == 200


def test_a_deleted_subscriptions_feed_is_a_404(client, feed):
    token = feed.feed_token
    feed.subscription.delete()

    assert client.get(f"/feeds/subscriptions/{token}.atom").status_code == 404


def test_an_inactive_organisations_feed_is_a_404(client, feed, italy):
    italy.is_active = False
    italy.save(update_fields=["is_active"])

    assert client.get(f"/feeds/subscriptions/{feed.feed_token}.atom").status_code == 404


def test_only_a_feed_channel_answers_to_its_token(client, italian_webhook):
    # A webhook's secret is not a feed token, and other channels have none.
    assert client.get(f"/feeds/subscriptions/{italian_webhook.secret[6:].replace('+', '-')}.atom").status_code == 404
    with unscoped("assertion"):
        assert Delivery.objects.count() == 0
