"""Who is told what: each event reaches the right organisations' inboxes, once.

Tasks run eagerly here (after commit, as in production), so a delivery's effect
is visible as soon as the change commits.
"""

from __future__ import annotations

import datetime
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from accounts.tenancy import unscoped
from exchange.dialogue.services import match_decide, match_express_interest
from exchange.models import Delivery, Event, Notification
from exchange.notifications.delivery import delivery_attempt
from exchange.notifications.events import closing_soon
from opportunities.models import Listing
from opportunities.services import listing_transition
from tests.exchange.conftest import offer, published, run_on_commit, scheme
from tests.exchange.factories import ChannelFactory, SubscriptionFactory, WebhookChannelFactory
from tests.factories import member
from tests.opportunities.conftest import create_listing

pytestmark = pytest.mark.django_db


def inbox(org: Any) -> list[tuple[str, dict[str, Any]]]:
    with unscoped("assertion"):
        return [
            (n.event.type, n.event.data) for n in Notification.objects.filter(organisation=org).order_by("created_at")
        ]


@pytest.fixture
def inboxes(italy, moldova, morocco):
    for org in (italy, moldova, morocco):
        ChannelFactory(subscription=SubscriptionFactory(organisation=org, isco_prefixes=["2512"]))


def test_moderation_decisions_reach_the_owner_with_the_reason(inboxes, italy_official, moderator, italy):
    listing = create_listing(italy_official, scheme(title="Seasonal harvest, Trentino"))
    run_on_commit(listing_transition, actor=italy_official, listing=listing, action="submit")
    run_on_commit(
        listing_transition, actor=moderator, listing=listing, action="request_changes", reason="Add the wage."
    )
    assert inbox(italy) == [
        (
            "listing.moderated",
            {
                "listing_id": str(listing.pk),
                "title": "Seasonal harvest, Trentino",
                "direction": "demand",
                "owner_country": "IT",
                "url": f"http://127.0.0.1:8000/api/v1/listings/{listing.pk}/",
                "decision": "changes_requested",
                "reason": "Add the wage.",
            },
        )
    ]


def test_a_new_match_is_announced_to_both_owners_and_the_dialogue_to_the_other_party(
    inboxes, italy_official, moldova_actor, moderator, italy, moldova, morocco
):
    from exchange.models import Match

    published(italy_official, moderator, scheme(title="Seasonal harvest, Piedmont"))
    published(moldova_actor, moderator, offer(title="Moldovan farm workers"))
    assert [t for t, _ in inbox(italy)] == ["listing.moderated", "match.created"]
    assert [t for t, _ in inbox(moldova)] == ["listing.moderated", "match.created"]
    match = Match.objects.get()
    run_on_commit(match_express_interest, actor=moldova_actor, match=match, message="We can send 100.")
    run_on_commit(match_decide, actor=italy_official, match=match, accept=False, reason="Quota filled.")
    assert [t for t, _ in inbox(italy)][-1] == "interest.expressed"
    assert inbox(moldova)[-1][0] == "match.declined" and inbox(moldova)[-1][1]["reason"] == "Quota filled."
    assert [t for t, _ in inbox(morocco)] == []  # not a party


def test_closing_soon_tells_the_interested_once(inboxes, italy_official, moldova_actor, moderator, italy, moldova):
    from exchange.models import Match

    demand = published(italy_official, moderator, scheme())
    published(moldova_actor, moderator, offer())
    run_on_commit(match_express_interest, actor=moldova_actor, match=Match.objects.get(), message="Interested.")
    Listing.objects.filter(pk=demand.pk).update(application_deadline=timezone.localdate() + datetime.timedelta(days=7))
    assert run_on_commit(closing_soon) == 1
    assert run_on_commit(closing_soon) == 0
    assert [t for t, _ in inbox(moldova)].count("listing.closing_soon") == 1
    assert "listing.closing_soon" not in [t for t, _ in inbox(italy)]


def test_a_rolled_back_change_leaves_no_event_and_no_delivery(inboxes, italy_official, moderator):
    from django.db import transaction

    listing = create_listing(italy_official, scheme())
    run_on_commit(listing_transition, actor=italy_official, listing=listing, action="submit")
    before = Event.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        listing_transition(actor=moderator, listing=listing, action="approve")
        raise RuntimeError("the request failed after approval")
    assert Event.objects.count() == before
    assert Listing.objects.get(pk=listing.pk).status == "submitted"


class Scripted:
    def __init__(self, status: int) -> None:
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.hits += 1
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _webhook_delivery(org: Any, url: str) -> Delivery:
    channel = WebhookChannelFactory(subscription=SubscriptionFactory(organisation=org), url=url)
    event = Event.objects.create(type="test", data={"title": "Test"})
    with unscoped("assertion"):
        return Delivery.objects.create(
            event=event,
            subscription=channel.subscription,
            channel=channel,
            organisation=org,
            next_attempt_at=timezone.now(),
        )


def test_a_410_disables_the_endpoint_and_tells_the_admins(settings, italy, alice):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    receiver = Scripted(410)
    delivery = _webhook_delivery(italy, receiver.url)
    # The alert is owed through the e-mail outbox, published after commit.
    assert run_on_commit(delivery_attempt, str(delivery.pk)) == "dead"
    delivery.channel.refresh_from_db()
    assert delivery.channel.state == "disabled"
    assert [m.to for m in mail.outbox] == [[alice.email]] and "410" in mail.outbox[0].subject
    receiver.server.shutdown()


def test_an_endpoint_that_keeps_failing_is_paused_and_the_admins_told(settings, italy, alice):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_PAUSE_AFTER_FAILURES = 2
    settings.NOTIFICATION_RETRY_SCHEDULE = [0, 0, 0, 0, 0]
    receiver = Scripted(500)
    first = _webhook_delivery(italy, receiver.url)
    with unscoped("assertion"):
        second = Delivery.objects.create(
            event=Event.objects.create(type="test", data={}),
            subscription=first.subscription,
            channel=first.channel,
            organisation=italy,
            next_attempt_at=timezone.now(),
        )
    # The pause e-mail is sent after commit.
    assert run_on_commit(delivery_attempt, str(first.pk)) == "failed"
    assert run_on_commit(delivery_attempt, str(first.pk)) == "failed"
    first.channel.refresh_from_db()
    assert first.channel.state == "paused"
    with unscoped("assertion"):
        assert Delivery.objects.get(pk=second.pk).status == "paused"
    assert len(mail.outbox) == 1 and "paused" in mail.outbox[0].subject
    assert delivery_attempt(str(second.pk)) == "skipped"  # nothing goes out while paused
    receiver.server.shutdown()


def test_retries_are_spent_then_the_delivery_is_dead(settings, italy):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.NOTIFICATION_RETRY_SCHEDULE = [0, 0]
    receiver = Scripted(503)
    delivery = _webhook_delivery(italy, receiver.url)
    assert [delivery_attempt(str(delivery.pk)) for _ in range(3)] == ["failed", "dead", "skipped"]
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.last_status_code == 503 and receiver.hits == 2
    receiver.server.shutdown()


def test_a_viewer_only_organisation_member_is_not_an_email_recipient_by_default(italy, alice):
    from exchange.notifications.emails import email_recipients

    viewer = member(italy, "viewer", email="viewer@lavoro.gov.example")
    channel = ChannelFactory(subscription=SubscriptionFactory(organisation=italy), type="email")
    assert [u.email for u in email_recipients(channel)] == [alice.email]
    assert viewer.email not in [u.email for u in email_recipients(channel)]
