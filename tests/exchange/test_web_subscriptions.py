"""Alert pages: Bob (official of Italy) saves searches with channels, sees a webhook secret
once, rotates it, sends a test; the delivery log shows failures and replays them. Charlie
of Morocco meets 404s; a viewer reads but cannot change anything."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.tenancy import tenant_scope, unscoped
from exchange.models import Channel, ChannelState, Delivery, DeliveryStatus, Event, Subscription
from exchange.notifications.services import subscription_create
from tests.conftest import signed_in
from tests.exchange.factories import (
    DeliveryFactory,
    EventFactory,
    FeedChannelFactory,
    SubscriptionFactory,
    WebhookChannelFactory,
)
from tests.factories import member

pytestmark = pytest.mark.django_db

HOOK = "http://127.0.0.1:8999/hooks/corridor"
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


@pytest.fixture(autouse=True)
def _loopback_webhooks(settings: Any) -> None:
    # The receivers are on loopback; tests of the SSRF rule turn this off.
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.SITE_URL = "https://corridor.example"


@pytest.fixture
def vera(italy: Organisation) -> User:
    return member(italy, "viewer", email="vera@lavoro.gov.example", full_name="Vera Verdi")


def form(**overrides: Any) -> dict[str, Any]:
    """What the browser sends for a new alert: two occupations, a sector, the inbox."""
    data: dict[str, Any] = {
        "name": "Nurses from Morocco",
        "direction": "supply",
        "scheme_types": ["talent_partnership"],
        "occupations-TOTAL_FORMS": "3",
        "occupations-INITIAL_FORMS": "0",
        "occupations-0-code": "2221 — Nursing professionals",
        "occupations-1-code": "3221",
        "occupations-2-code": "",
        "sectors-TOTAL_FORMS": "1",
        "sectors-INITIAL_FORMS": "0",
        "sectors-0-code": "Q — Human health and social work activities",
        "owner_countries": ["MA"],
        "keywords": "hospital",
        "channel_inbox": "on",
        "frequency": "instant",
        "active": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def create_url() -> str:
    return "/alerts/new/"


def make(org: Organisation, user: User, **fields: Any) -> Subscription:
    from accounts.tenancy import Actor

    actor = Actor(user=user, organisation=org, role="official")
    fields.setdefault("name", "Seasonal agriculture")
    fields.setdefault("channels", [{"type": "inbox"}])
    with tenant_scope(actor):
        return subscription_create(actor=actor, **fields)


# --- Creating ---------------------------------------------------------------------------------------


def test_the_form_offers_the_shared_pickers_and_every_channel(bob_web, alice):
    response = bob_web.get(create_url())

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-autocomplete="/api/v1/reference/occupations/"' in page
    assert 'data-formset="occupations"' in page and 'data-formset="sectors"' in page
    assert 'name="owner_countries"' in page
    for name in ("channel_inbox", "channel_email", "channel_webhook", "channel_feed", "webhook_url"):
        assert f'name="{name}"' in page
    assert "Alice Rossi" in page  # e-mail recipients are the organisation's members


def test_an_official_creates_an_alert_with_filters_and_channels(bob_web, italy, alice, bob):
    response = bob_web.post(
        create_url(),
        form(channel_email="on", email_members=[str(alice.pk)], channel_feed="on"),
    )

    with unscoped("assertion"):
        subscription = Subscription.objects.get(organisation=italy)
    assert response.status_code == 302
    assert response["Location"] == f"/alerts/{subscription.pk}/"
    assert subscription.name == "Nurses from Morocco"
    assert subscription.direction == "supply"
    assert subscription.scheme_types == ["talent_partnership"]
    assert subscription.isco_prefixes == ["2221", "3221"]
    assert subscription.sectors == ["Q"]
    assert subscription.owner_countries == ["MA"]
    assert subscription.keywords == "hospital"
    assert subscription.created_by == bob
    with unscoped("assertion"):
        channels = {c.type: c for c in subscription.channels.all()}
    assert set(channels) == {"inbox", "email", "feed"}
    assert channels["email"].members == [alice.pk]

    detail = bob_web.get(response["Location"]).content.decode()
    assert "2221 — Nursing professionals" in detail
    assert "Morocco" in detail
    assert channels["feed"].feed_token in detail  # the feed's URL is its credential, shown to the owner
    assert 'data-copy="feed-url-' in detail


@pytest.mark.parametrize(
    ("overrides", "field_id", "message"),
    [
        ({"channel_inbox": None}, "id_channel_inbox", "Choose at least one channel"),
        (
            {"channel_webhook": "on", "webhook_url": "ftp://hooks.example/x"},
            "id_webhook_url",
            "Use an http:// or https:// URL.",
        ),
        ({"channel_webhook": "on", "webhook_url": ""}, "id_webhook_url", "A webhook channel needs a url."),
        (
            {"occupations-0-code": "9999"},
            "id_occupations-0-code",
            "Enter an ISCO-08 code (1 to 4 digits) or choose an occupation from the suggestions.",
        ),
        ({"sectors-0-code": "ZZ"}, "id_sectors-0-code", "Enter an ISIC Rev.4 section letter"),
        ({"name": ""}, "id_name", "This field is required."),
    ],
)
def test_invalid_input_is_shown_inline_and_saves_nothing(bob_web, italy, overrides, field_id, message):
    response = bob_web.post(create_url(), form(**overrides))

    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page
    assert f'href="#{field_id}"' in page  # the error summary links to the field
    assert message in page
    with unscoped("assertion"):
        assert not Subscription.objects.exists()
    with unscoped("assertion"):
        assert not Channel.objects.exists()


def test_every_problem_is_shown_in_one_round(bob_web, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    response = bob_web.post(
        create_url(), form(name="", channel_webhook="on", webhook_url="http://10.0.0.7/hooks", channel_inbox=None)
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert 'href="#id_name"' in page
    assert 'href="#id_webhook_url"' in page and "10.0.0.7 is a private address" in page
    with unscoped("assertion"):
        assert not Subscription.objects.exists()


def test_a_webhook_to_a_private_address_is_refused_with_the_services_message(bob_web, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    response = bob_web.post(create_url(), form(channel_webhook="on", webhook_url="http://10.0.0.7/hooks"))

    assert response.status_code == 400
    page = response.content.decode()
    assert "10.0.0.7 is a private address; webhooks only go to public addresses." in page
    assert 'id="id_webhook_url_error"' in page
    assert 'value="http://10.0.0.7/hooks"' in page  # what was typed is kept
    with unscoped("assertion"):
        assert not Subscription.objects.exists()


def test_an_agency_cannot_ask_for_listings_open_to_its_country_and_is_not_offered_it(mona):
    client = signed_in(mona)

    page = client.get(create_url()).content.decode()

    assert 'name="open_to_my_country"' not in page


def test_without_javascript_add_and_remove_buttons_change_the_rows_and_save_nothing(bob_web):
    added = bob_web.post(create_url(), form(add="occupations"))
    removed = bob_web.post(create_url(), form(remove="occupations-0"))

    assert added.status_code == removed.status_code == 200
    assert 'name="occupations-3-code"' in added.content.decode()
    assert "There is a problem" not in added.content.decode()
    page = removed.content.decode()
    assert 'value="3221' in page and "2221 — Nursing" not in page
    with unscoped("assertion"):
        assert not Subscription.objects.exists()


def test_a_viewer_cannot_create_or_change_alerts(vera, italy, bob):
    subscription = make(italy, bob)
    client = signed_in(vera)

    assert client.get(create_url()).status_code == 403
    assert client.post(create_url(), form()).status_code == 403
    assert client.get(f"/alerts/{subscription.pk}/edit/").status_code == 403
    assert client.post(f"/alerts/{subscription.pk}/test/").status_code == 403
    assert client.post(f"/alerts/{subscription.pk}/delete/").status_code == 403
    page = client.get(f"/alerts/{subscription.pk}/").content.decode()
    assert "Send a test event" not in page and "Edit the alert" not in page
    with unscoped("assertion"):
        assert Subscription.objects.count() == 1


# --- The webhook secret: once -------------------------------------------------------------------------


def test_the_webhook_secret_is_shown_once_on_creation_and_never_again(bob_web, italy):
    response = bob_web.post(create_url(), form(channel_webhook="on", webhook_url=HOOK))

    assert response.status_code == 200
    page = response.content.decode()
    with unscoped("assertion"):
        channel = Channel.objects.get(organisation=italy, type="webhook")
    assert channel.secret in page
    assert 'class="secret-box"' in page
    assert 'data-copy="webhook-secret"' in page and 'id="webhook-secret-status" role="status"' in page
    assert "It will not be shown again" in page
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert channel.secret not in str(dict(bob_web.session))

    subscription = channel.subscription
    for path in (f"/alerts/{subscription.pk}/", f"/alerts/{subscription.pk}/edit/", "/alerts/", "/alerts/export.csv"):
        later = bob_web.get(path)
        body = b"".join(later.streaming_content) if later.streaming else later.content
        assert later.status_code == 200
        assert channel.secret.encode() not in body, path
        assert not SECRET.search(body.decode()), path


def test_rotating_asks_first_then_shows_the_new_secret_once(bob_web, italy, bob):
    subscription = make(italy, bob, channels=[{"type": "webhook", "url": HOOK}])
    with unscoped("test setup"):
        old = subscription.channels.get().secret
    url = f"/alerts/{subscription.pk}/rotate-secret/"

    confirm = bob_web.get(url)
    assert confirm.status_code == 200
    assert "Rotate the webhook secret" in confirm.content.decode()
    with unscoped("assertion"):
        assert subscription.channels.get().secret == old  # a GET changes nothing

    response = bob_web.post(url)
    with unscoped("assertion"):
        channel = subscription.channels.get()
    assert response.status_code == 200
    assert channel.secret != old and channel.previous_secret == old
    page = response.content.decode()
    assert channel.secret in page and old not in page
    assert "24 hours" in page
    assert channel.secret not in bob_web.get(f"/alerts/{subscription.pk}/").content.decode()


def test_rotating_an_alert_without_a_webhook_says_why(bob_web, italy, bob):
    subscription = make(italy, bob)

    response = bob_web.post(f"/alerts/{subscription.pk}/rotate-secret/", follow=True)

    assert "This subscription has no webhook channel, so it has no secret." in response.content.decode()


def test_editing_keeps_the_webhook_and_its_secret_and_shows_none(bob_web, italy, bob):
    subscription = make(italy, bob, channels=[{"type": "webhook", "url": HOOK}], isco_prefixes=["2221"])
    with unscoped("assertion"):
        channel = subscription.channels.get()
    page = bob_web.get(f"/alerts/{subscription.pk}/edit/").content.decode()
    assert 'value="2221 — Nursing professionals"' in page
    assert f'value="{HOOK}"' in page

    response = bob_web.post(
        f"/alerts/{subscription.pk}/edit/",
        form(
            name="Renamed",
            channel_inbox=None,
            channel_webhook="on",
            webhook_url=HOOK,
            **{"occupations-TOTAL_FORMS": "1", "occupations-0-code": "2221"},
        ),
    )

    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.name == "Renamed"
    with unscoped("assertion"):
        assert list(subscription.channels.all()) == [channel]
    with unscoped("assertion"):
        assert subscription.channels.get().secret == channel.secret


def test_editing_with_an_error_changes_nothing(bob_web, italy, bob):
    subscription = make(italy, bob, isco_prefixes=["2221"])

    response = bob_web.post(
        f"/alerts/{subscription.pk}/edit/", form(name="Renamed", channel_inbox=None, scheme_types=["seasonal"])
    )

    assert response.status_code == 400
    assert "Choose at least one channel" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.name == "Seasonal agriculture"
    assert subscription.scheme_types == []
    with unscoped("assertion"):
        assert subscription.channels.count() == 1


# --- Test event, delete ------------------------------------------------------------------------------------


def test_sending_a_test_event_creates_the_event_and_its_deliveries(bob_web, italy, bob):
    subscription = make(italy, bob, channels=[{"type": "inbox"}, {"type": "webhook", "url": HOOK}])

    response = bob_web.post(f"/alerts/{subscription.pk}/test/", follow=True)

    event = Event.objects.get(type="test")
    assert event.data["subscription_id"] == str(subscription.pk)
    with unscoped("assertion"):
        assert Delivery.objects.filter(event=event, subscription=subscription).count() == 2
    assert "A test event is on its way" in response.content.decode()


def test_a_test_event_for_an_inactive_alert_says_nothing_was_sent(bob_web, italy, bob):
    subscription = make(italy, bob, active=False)

    response = bob_web.post(f"/alerts/{subscription.pk}/test/", follow=True)

    assert "Nothing was sent" in response.content.decode()
    assert not Event.objects.exists()


def test_deleting_asks_first(bob_web, italy, bob):
    subscription = make(italy, bob)

    confirm = bob_web.get(f"/alerts/{subscription.pk}/delete/")
    with unscoped("assertion"):
        assert confirm.status_code == 200 and Subscription.objects.exists()
    response = bob_web.post(f"/alerts/{subscription.pk}/delete/", follow=True)

    with unscoped("assertion"):
        assert not Subscription.objects.exists()
    assert "was deleted" in response.content.decode()


# --- Tenancy --------------------------------------------------------------------------------------------------


def test_another_organisations_alert_and_delivery_are_404(charlie, italy, bob):
    subscription = make(italy, bob, channels=[{"type": "webhook", "url": HOOK}])
    with unscoped("test setup"):
        delivery = DeliveryFactory(channel=subscription.channels.get(), status=DeliveryStatus.DEAD)
    client = signed_in(charlie)

    base = f"/alerts/{subscription.pk}/"
    for path in (base, base + "edit/", base + "rotate-secret/", base + "delete/"):
        assert client.get(path).status_code == 404, path
    for path in (
        base + "test/",
        base + "rotate-secret/",
        base + "delete/",
        f"/alerts/deliveries/{delivery.pk}/replay/",
    ):
        assert client.post(path).status_code == 404, path
    assert subscription.name not in client.get("/alerts/").content.decode()
    assert subscription.name not in client.get("/alerts/deliveries/").content.decode()
    assert client.get(f"/alerts/deliveries/?subscription={subscription.pk}").status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD


# --- Lists ------------------------------------------------------------------------------------------------------


def test_the_list_describes_filters_and_flags_failing_endpoints(bob_web, italy, bob):
    good = make(italy, bob, name="Nurses", isco_prefixes=["2221"], owner_countries=["MA"])
    bad = make(italy, bob, name="Harvest", channels=[{"type": "webhook", "url": HOOK}])
    with unscoped("assertion"):
        Channel.objects.filter(subscription=bad).update(state=ChannelState.PAUSED, consecutive_failures=20)
    with unscoped("assertion"):
        DeliveryFactory(channel=good.channels.get(), status=DeliveryStatus.SENT)

    page = bob_web.get("/alerts/").content.decode()

    assert "2221 — Nursing professionals" in page and "Morocco" in page
    assert "Failing" in page and "Paused after 20 failures in a row" in page
    assert "tag--delivered" in page

    detail = bob_web.get(f"/alerts/{bad.pk}/").content.decode()
    assert "Paused after repeated failures" in detail


def test_the_lists_and_exports_take_a_fixed_number_of_queries(bob_web, italy, bob, django_assert_max_num_queries):
    for n in range(6):
        subscription = make(
            italy,
            bob,
            name=f"Alert {n}",
            isco_prefixes=["2221", "92"],
            channels=[{"type": "inbox"}, {"type": "webhook", "url": HOOK}],
        )
        with unscoped("test setup"):
            for channel in subscription.channels.all():
                DeliveryFactory.create_batch(2, channel=channel, status=DeliveryStatus.FAILED)

    with django_assert_max_num_queries(10):
        assert bob_web.get("/alerts/").status_code == 200
    with django_assert_max_num_queries(9):
        assert bob_web.get("/alerts/deliveries/").status_code == 200
    with django_assert_max_num_queries(7):
        response = bob_web.get("/alerts/deliveries/export.csv")
        rows = b"".join(response.streaming_content).decode().splitlines()
    assert len(rows) == 1 + 24
    with django_assert_max_num_queries(8):
        response = bob_web.get("/alerts/export.csv")
        rows = b"".join(response.streaming_content).decode().splitlines()
    assert len(rows) == 1 + 6


# --- The delivery log -------------------------------------------------------------------------------------------


def test_the_delivery_log_shows_failures_their_next_retry_and_filters(bob_web, italy, bob):
    hooked = make(italy, bob, name="Hooked", channels=[{"type": "webhook", "url": HOOK}])
    other = make(italy, bob, name="Other")
    retry_at = timezone.now() + timedelta(minutes=5)
    with unscoped("test setup"):
        DeliveryFactory(
            channel=hooked.channels.get(),
            event=EventFactory(type="listing.published", data={"title": "Nurses for Turin hospitals"}),
            status=DeliveryStatus.FAILED,
            attempts=2,
            last_status_code=503,
            last_error="Service Unavailable",
            next_attempt_at=retry_at,
        )
    with unscoped("assertion"):
        DeliveryFactory(channel=other.channels.get(), event=EventFactory(data={"title": "Quiet one"}))

    page = bob_web.get("/alerts/deliveries/").content.decode()
    assert "Nurses for Turin hospitals" in page
    assert "HTTP 503" in page and "Service Unavailable" in page
    assert "tag--retrying" in page and "Failed, will retry" in page
    assert f'datetime="{timezone.localtime(retry_at).isoformat(timespec="microseconds")}"' in page or (
        retry_at.strftime("%Y-%m-%d") in page
    )
    assert "Replay" in page

    filtered = bob_web.get(f"/alerts/deliveries/?subscription={hooked.pk}&status=failed").content.decode()
    assert "Nurses for Turin hospitals" in filtered and "Quiet one" not in filtered
    assert f"?subscription={hooked.pk}&amp;status=failed" in filtered  # the CSV keeps the filters

    bad = bob_web.get("/alerts/deliveries/?subscription=not-a-uuid")
    assert bad.status_code == 200


def test_replaying_a_dead_delivery_sends_it_again_and_resumes_its_endpoint(bob_web, italy, bob):
    subscription = make(italy, bob, channels=[{"type": "webhook", "url": HOOK}])
    with unscoped("test setup"):
        channel = subscription.channels.get()
    with unscoped("assertion"):
        Channel.objects.filter(pk=channel.pk).update(state=ChannelState.PAUSED, consecutive_failures=20)
    delivery = DeliveryFactory(channel=channel, status=DeliveryStatus.DEAD, attempts=8, last_error="Timed out")

    response = bob_web.post(f"/alerts/deliveries/{delivery.pk}/replay/", {"next": "/alerts/deliveries/?status=dead"})

    assert response.status_code == 302
    assert response["Location"] == "/alerts/deliveries/?status=dead"
    delivery.refresh_from_db()
    channel.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0
    assert channel.state == ChannelState.ACTIVE


def test_replaying_a_pending_delivery_says_why_not(bob_web, italy, bob):
    subscription = make(italy, bob)
    with unscoped("test setup"):
        delivery = DeliveryFactory(channel=subscription.channels.get(), status=DeliveryStatus.PENDING)

    response = bob_web.post(f"/alerts/deliveries/{delivery.pk}/replay/", {"next": "https://evil.example/"}, follow=True)

    assert response.redirect_chain[-1][0] == "/alerts/deliveries/"
    assert "Only a failed, dead, paused or sent delivery can be replayed." in response.content.decode()


def test_a_feed_channel_made_elsewhere_shows_its_url_on_the_detail_page(bob_web, italy, bob):
    subscription = SubscriptionFactory(organisation=italy)
    feed = FeedChannelFactory(subscription=subscription)
    WebhookChannelFactory(subscription=subscription)

    page = bob_web.get(f"/alerts/{subscription.pk}/").content.decode()

    assert f"https://corridor.example/feeds/subscriptions/{feed.feed_token}.atom" in page
    assert "Rotate the webhook secret" in page
    assert not SECRET.search(page)
