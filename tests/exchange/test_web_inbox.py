"""The in-app inbox: Italy's members read their organisation's notifications, mark them read
(with and without htmx), follow links to what they are about; Charlie of Morocco meets 404s."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Organisation
from accounts.tenancy import unscoped
from exchange.models import Notification
from tests.conftest import signed_in
from tests.exchange.factories import ChannelFactory, EventFactory, NotificationFactory, SubscriptionFactory
from tests.factories import member

pytestmark = pytest.mark.django_db


def notify(org: Organisation, *, type: str = "listing.published", **data: Any) -> Notification:
    subscription = SubscriptionFactory(organisation=org)
    channel = ChannelFactory(subscription=subscription)
    event = EventFactory(type=type, data={"title": f"About {type}", **data})
    return NotificationFactory(delivery__channel=channel, delivery__event=event)


def unread_badge(page: str) -> str:
    start = page.index('id="unread-count"')
    return page[start : page.index("</span>", start)]


def test_the_header_counts_unread_items_and_the_inbox_lists_them_newest_first(bob_web, italy, morocco):
    notify(italy, title="Older one")
    newer = notify(italy, title="Newer one")
    read = notify(italy, title="Already read")
    with unscoped("test setup"):
        Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    notify(morocco, title="Morocco's own")

    page = bob_web.get("/inbox/").content.decode()

    assert 'aria-label="2 unread">2' in unread_badge(page)
    assert page.index("Already read") < page.index("Newer one") < page.index("Older one")
    assert "Morocco's own" not in page
    assert page.count('class="unread"') == 2  # marked with text, not colour alone
    assert f'id="notification-{newer.pk}"' in page

    unread_only = bob_web.get("/inbox/?show=unread").content.decode()
    assert "Already read" not in unread_only and "Newer one" in unread_only


def test_items_link_to_what_they_are_about(bob_web, italy):
    listing_id, match_id = uuid.uuid4(), uuid.uuid4()
    notify(italy, type="listing.published", listing_id=str(listing_id))
    notify(italy, type="match.created", match_id=str(match_id), demand_id=str(uuid.uuid4()))
    test = notify(italy, type="test", subscription_id=str(uuid.uuid4()))

    page = bob_web.get("/inbox/").content.decode()

    assert f'href="/listings/{listing_id}/"' in page
    assert f'href="/matches/{match_id}/"' in page
    assert f'href="/alerts/{test.event.data["subscription_id"]}/"' in page
    assert "New match" in page and "Test event" in page


def test_marking_read_without_javascript_redirects_back(bob_web, italy):
    notification = notify(italy)

    response = bob_web.post(f"/inbox/{notification.pk}/read/", {"next": "/inbox/?show=unread"})

    assert response.status_code == 302
    assert response["Location"] == "/inbox/?show=unread"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert 'aria-label="0 unread">0' in unread_badge(bob_web.get("/inbox/").content.decode())


def test_marking_read_with_htmx_returns_the_item_and_the_count_out_of_band(bob_web, italy):
    first, second = notify(italy), notify(italy)

    response = bob_web.post(f"/inbox/{first.pk}/read/", {"next": "/inbox/"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert f'id="notification-{first.pk}"' in fragment
    assert f'id="notification-{second.pk}"' not in fragment
    assert "Mark as read" not in fragment  # the item is read now
    assert 'id="unread-count" hx-swap-oob="true" aria-label="1 unread">1</span>' in fragment
    assert 'id="inbox-status" role="status" hx-swap-oob="innerHTML"' in fragment
    assert "Marked as read" in fragment
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None


def test_marking_all_read(bob_web, italy, morocco):
    notify(italy)
    notify(italy)
    theirs = notify(morocco)

    plain = bob_web.post("/inbox/read-all/", {"next": "/inbox/"}, follow=True)
    assert "2 items marked as read." in plain.content.decode()
    with unscoped("assertion"):
        assert not Notification.objects.filter(organisation=italy, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None

    notify(italy)
    fragment = bob_web.post("/inbox/read-all/", {"next": "/inbox/?show=unread"}, HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert 'id="inbox-items"' in body
    assert 'aria-label="0 unread">0</span>' in body
    assert "1 item marked as read." in body
    assert "Nothing unread." in body  # the unread view, now empty


def test_marking_read_is_a_post_and_any_member_may_do_it(italy, bob):
    viewer = member(italy, "viewer", email="vera@lavoro.gov.example", full_name="Vera Verdi")
    notification = notify(italy)
    client = signed_in(viewer)

    assert client.get(f"/inbox/{notification.pk}/read/").status_code == 405
    assert client.post(f"/inbox/{notification.pk}/read/").status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_another_organisations_notification_is_404(charlie, italy):
    notification = notify(italy)
    client = signed_in(charlie)

    assert client.post(f"/inbox/{notification.pk}/read/").status_code == 404
    assert client.post(f"/inbox/{notification.pk}/read/", HTTP_HX_REQUEST="true").status_code == 404
    assert "About listing.published" not in client.get("/inbox/").content.decode()
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_dashboard_shows_unread_items_and_failing_webhooks(bob_web, italy):
    from exchange.models import Channel, ChannelState
    from tests.exchange.factories import WebhookChannelFactory

    notify(italy, title="Fresh news")
    hook = WebhookChannelFactory(subscription=SubscriptionFactory(organisation=italy, name="Hooked"))
    with unscoped("test setup"):
        Channel.objects.filter(pk=hook.pk).update(state=ChannelState.PAUSED, consecutive_failures=20)

    page = bob_web.get("/dashboard/").content.decode()

    assert "Inbox and alerts" in page
    assert "unread notification" in page and "Fresh news" in page
    assert "failing webhook endpoint" in page and "Hooked" in page
    assert f"/alerts/deliveries/?subscription={hook.subscription_id}" in page


def test_an_inbox_page_takes_a_fixed_number_of_queries(bob_web, italy, django_assert_max_num_queries):
    for n in range(30):
        notify(italy, title=f"Item {n}", listing_id=str(uuid.uuid4()))

    with django_assert_max_num_queries(8):
        response = bob_web.get("/inbox/")
    assert response.status_code == 200
    assert response.content.decode().count('class="inbox-item') == 25
