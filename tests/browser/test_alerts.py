"""Alerts in the browser: Bob, an official of Italy, saves a search with the occupation picker,
an inbox and a webhook; sees the signing secret once; sends a test event, which lands in the
inbox (the header's count goes up) and fails at the webhook (the delivery log shows the next
retry); marks it read without a reload, and the count goes down."""

from __future__ import annotations

import re
import socket
from typing import Any

from playwright.sync_api import expect

from accounts.tenancy import unscoped
from exchange.models import Channel, Delivery, DeliveryStatus, Notification


def closed_port() -> int:
    """A loopback port nobody listens on: the webhook is refused at once (and retried later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_official_creates_an_alert_sees_the_secret_once_and_reads_its_test_in_the_inbox(
    visitor: Any, italy: Any, bob: Any, settings: Any
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the "receiver" is on loopback
    hook = f"http://127.0.0.1:{closed_port()}/hooks/corridor"
    page = visitor.page
    visitor.sign_in_as(bob)

    visitor.go("/alerts/")
    expect(page.locator("#unread-count")).to_have_text("0")
    visitor.reset()
    page.get_by_role("link", name="Create an alert").click()
    visitor.check()

    # The saved search: the same occupation picker as the listing search.
    page.get_by_label("Name", exact=True).fill("Nurses from Morocco")
    page.get_by_label("Supply: workers offered by an origin government").check()
    occupation = page.get_by_label("Occupation 1", exact=True)
    occupation.press_sequentially("nurse", delay=30)
    suggestions = page.locator("#id_occupations-0-code-options option")
    expect(suggestions.first).to_be_attached()
    expect(page.locator("#id_occupations-0-code-status")).to_contain_text("suggestions")
    choice = next(
        value for value in suggestions.evaluate_all("options => options.map(o => o.value)") if value.startswith("2221 ")
    )
    occupation.fill(choice)
    page.get_by_label("Published by the governments of").select_option("MA")

    # Channels: the inbox is ticked already; the webhook's URL appears when it is ticked.
    expect(page.get_by_label("In-app inbox")).to_be_checked()
    webhook_url = page.get_by_label("Webhook URL")
    expect(webhook_url).to_be_hidden()
    page.get_by_label("Signed webhook").check()
    expect(webhook_url).to_be_visible()
    webhook_url.fill(hook)
    visitor.check(screenshot="alert-form")

    visitor.reset()
    page.get_by_role("button", name="Save the alert").last.click()
    page.wait_for_url(re.compile(r"/alerts/new/$"))
    visitor.check(screenshot="alert-secret")
    with unscoped("assertion"):
        channel = Channel.objects.get(type="webhook", subscription__organisation=italy)
    expect(page.locator("#webhook-secret")).to_have_text(channel.secret)
    expect(page.get_by_text("It will not be shown again")).to_be_visible()
    expect(page.get_by_role("button", name="Copy the secret")).to_be_visible()  # corridor.js reveals it
    subscription = channel.subscription
    assert subscription.isco_prefixes == ["2221"] and subscription.owner_countries == ["MA"]

    visitor.reset()
    page.get_by_role("link", name="I have copied it: go to the alert").click()
    page.wait_for_url(f"**/alerts/{subscription.pk}/")
    visitor.check()
    assert channel.secret not in page.content()
    expect(page.get_by_text("2221 — Nursing professionals")).to_be_visible()

    # A test event: it lands in the inbox at once, and fails at the (closed) webhook.
    visitor.reset()
    page.get_by_role("button", name="Send a test event").click()
    expect(page.get_by_role("status").filter(has_text="A test event is on its way")).to_be_visible()
    visitor.check()
    expect(page.locator("#unread-count")).to_have_text("1")
    expect(page.locator("#unread-count")).to_have_attribute("aria-label", "1 unread")
    with unscoped("assertion"):
        webhook = Delivery.objects.get(channel=channel)
    assert webhook.status == DeliveryStatus.FAILED and webhook.next_attempt_at is not None

    visitor.go("/alerts/", screenshot="alerts-list")
    expect(page.get_by_role("link", name="Nurses from Morocco")).to_be_visible()
    visitor.go(f"/alerts/deliveries/?subscription={subscription.pk}", screenshot="deliveries")
    expect(page.locator("td .tag--retrying")).to_have_text("Failed, will retry")
    expect(page.get_by_role("button", name=re.compile("^Replay"))).to_be_visible()

    # The inbox: mark the test read in place; the header's count follows without a reload.
    visitor.go("/inbox/", screenshot="inbox")
    item = page.locator(".inbox-item").first
    expect(item).to_contain_text("Test of “Nurses from Morocco”")
    expect(item.locator(".unread")).to_have_text("Unread")
    page.evaluate("window.__sameDocument = true")
    item.get_by_role("button", name=re.compile("^Mark as read")).click()
    expect(page.locator("#inbox-status")).to_contain_text("Marked as read")
    expect(page.locator("#unread-count")).to_have_text("0")
    expect(page.locator("#unread-count")).to_have_attribute("aria-label", "0 unread")
    expect(page.locator(".inbox-item").first.locator(".unread")).to_have_count(0)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    visitor.assert_accessible()
    with unscoped("assertion"):
        assert Notification.objects.get(organisation=italy).read_at is not None

    assert visitor.console_errors == []
