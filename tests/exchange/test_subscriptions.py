"""Subscriptions: saved searches, their channels, secrets and tests, Alice and Bob of Italy
manage theirs; Charlie of Morocco meets 404s; a viewer reads but cannot change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Organisation, User
from accounts.tenancy import unscoped
from exchange.models import Channel, Delivery, Event, Subscription
from tests.conftest import token_client
from tests.exchange.factories import SubscriptionFactory
from tests.factories import member

pytestmark = pytest.mark.django_db

URL = "/api/v1/subscriptions/"


@pytest.fixture(autouse=True)
def _loopback_webhooks(settings: Any) -> None:
    # The receivers in these tests are on loopback; tests that check the rule turn it off.
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.SITE_URL = "https://corridor.example"


@pytest.fixture
def vera(italy: Organisation) -> User:
    return member(italy, "viewer", email="vera@lavoro.gov.example", full_name="Vera Verdi")


@pytest.fixture
def vera_api(vera: User, italy: Organisation) -> APIClient:
    return token_client(vera, italy)


HOOK = "http://127.0.0.1:8999/hooks/corridor"


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Seasonal agriculture from Morocco",
        "direction": "supply",
        "scheme_types": ["seasonal"],
        "isco_prefixes": ["92", "6111"],
        "sectors": ["A", "01"],
        "owner_countries": ["MA"],
        "open_to_my_country": True,
        "keywords": "harvest",
        "frequency": "instant",
        "active": True,
        "channels": [{"type": "inbox"}],
    }
    data.update(overrides)
    return data


def create(client: APIClient, **overrides: Any) -> dict[str, Any]:
    response = client.post(URL, body(**overrides), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def channel_of(payload: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in payload["channels"] if c["type"] == kind)


# --- Creating -------------------------------------------------------------------------------------


def test_an_official_creates_a_subscription_with_every_kind_of_channel(bob_api, alice, bob):
    payload = create(
        bob_api,
        channels=[
            {"type": "email", "members": [str(alice.id), str(bob.id)]},
            {"type": "webhook", "url": HOOK},
            {"type": "inbox"},
            {"type": "feed"},
        ],
    )

    assert payload["name"] == "Seasonal agriculture from Morocco"
    assert payload["direction"] == "supply"
    assert payload["scheme_types"] == ["seasonal"]
    assert payload["isco_prefixes"] == ["92", "6111"]
    assert payload["sectors"] == ["A", "01"]
    assert payload["owner_countries"] == ["MA"]
    assert [c["type"] for c in payload["channels"]] == ["email", "webhook", "inbox", "feed"]
    assert channel_of(payload, "email")["members"] == [str(alice.id), str(bob.id)]
    assert all(c["state"] == "active" and c["id"] for c in payload["channels"])
    webhook = channel_of(payload, "webhook")
    assert webhook["url"] == HOOK
    assert webhook["secret"].startswith("whsec_")
    with unscoped("assertion"):
        assert Channel.objects.get(pk=webhook["id"]).secret == webhook["secret"]
    assert channel_of(payload, "inbox")["secret"] is None


def test_creating_or_editing_a_subscription_sends_nothing(alice_api):
    payload = create(alice_api, channels=[{"type": "webhook", "url": HOOK}, {"type": "inbox"}])
    alice_api.patch(f"{URL}{payload['id']}/", {"name": "Renamed"}, format="json")

    assert Event.objects.count() == 0
    with unscoped("assertion"):
        assert Delivery.objects.count() == 0


def test_every_filter_is_optional_and_a_null_direction_means_both(alice_api, italy):
    response = alice_api.post(
        URL, {"name": "Everything", "direction": None, "channels": [{"type": "inbox"}]}, format="json"
    )

    assert response.status_code == 201, response.content
    payload = response.json()
    assert payload["direction"] is None
    assert payload["scheme_types"] == payload["isco_prefixes"] == payload["sectors"] == []
    assert payload["frequency"] == "instant" and payload["active"] is True
    with unscoped("assertion"):
        stored = Subscription.objects.get(pk=payload["id"])
    assert stored.direction == ""
    assert stored.organisation == italy


def test_it_normalises_codes_and_drops_duplicates(alice_api):
    payload = create(
        alice_api, sectors=["a", "A", "01"], owner_countries=["ma", "MA", "ph"], keywords="  harvest   fruit "
    )

    assert payload["sectors"] == ["A", "01"]
    assert payload["owner_countries"] == ["MA", "PH"]
    assert payload["keywords"] == "harvest fruit"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("direction", "both"),
        ("scheme_types", ["apprenticeship"]),
        ("isco_prefixes", ["9999"]),
        ("isco_prefixes", ["92a"]),
        ("sectors", ["Z"]),
        ("sectors", ["011"]),
        ("owner_countries", ["XX"]),
        ("frequency", "hourly"),
        ("name", ""),
    ],
)
def test_it_rejects_an_invalid_value_naming_the_field(alice_api, field, value):
    response = alice_api.post(URL, body(**{field: value}), format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    with unscoped("assertion"):
        assert Subscription.objects.count() == 0


def test_it_rejects_a_subscription_without_channels(alice_api):
    response = alice_api.post(URL, body(channels=[]), format="json")

    assert response.status_code == 400
    assert "channels" in response.json()


def test_email_recipients_must_be_members_of_the_organisation(alice_api, alice, charlie):
    response = alice_api.post(
        URL, body(channels=[{"type": "email", "members": [str(alice.id), str(charlie.id)]}]), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["channels"]
    assert str(charlie.id) in response.json()["channels"][0]
    with unscoped("assertion"):
        assert Subscription.objects.count() == 0


def test_an_email_channel_without_members_goes_to_the_admins(alice_api):
    payload = create(alice_api, channels=[{"type": "email"}])

    assert channel_of(payload, "email")["members"] == []


@pytest.mark.parametrize(
    "channel",
    [
        {"type": "webhook"},
        {"type": "webhook", "url": "ftp://hooks.partner.example/corridor"},
        {"type": "inbox", "url": HOOK},
        {"type": "feed", "members": ["6f1c2d1e-1111-4a4a-8b8b-000000000001"]},
        {"type": "pigeon"},
    ],
)
def test_it_rejects_a_malformed_channel_naming_channels(alice_api, channel):
    response = alice_api.post(URL, body(channels=[channel]), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["channels"]


def test_it_rejects_two_channels_of_the_same_kind(alice_api):
    response = alice_api.post(URL, body(channels=[{"type": "inbox"}, {"type": "inbox"}]), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["channels"]


def test_a_webhook_on_a_private_address_is_refused_unless_allowed(alice_api, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    refused = alice_api.post(URL, body(channels=[{"type": "webhook", "url": HOOK}]), format="json")
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    allowed = alice_api.post(URL, body(channels=[{"type": "webhook", "url": HOOK}]), format="json")

    assert refused.status_code == 400
    assert list(refused.json()) == ["channels"]
    assert allowed.status_code == 201


def test_an_agency_cannot_ask_for_listings_open_to_its_country(mona, agency):
    response = token_client(mona, agency).post(URL, body(open_to_my_country=True), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["open_to_my_country"]


def test_creating_a_subscription_is_audited_without_the_webhook_url(alice_api, italy):
    payload = create(alice_api, channels=[{"type": "webhook", "url": HOOK}])

    with unscoped("assertion"):
        audit = AuditEvent.objects.get(organisation=italy, action="subscription.created")
    assert audit.object_id == payload["id"]
    assert audit.changes == {"name": payload["name"], "channels": ["webhook"]}
    assert HOOK not in str(audit.changes)


# --- Reading: secrets and feed URLs ------------------------------------------------------------------


def test_the_webhook_secret_never_appears_after_the_create_response(alice_api):
    payload = create(alice_api, channels=[{"type": "webhook", "url": HOOK}, {"type": "feed"}])
    secret = channel_of(payload, "webhook")["secret"]
    detail = f"{URL}{payload['id']}/"

    responses = [
        alice_api.get(URL),
        alice_api.get(detail),
        alice_api.patch(detail, {"name": "Renamed"}, format="json"),
        alice_api.patch(detail, {"channels": [{"type": "webhook", "url": HOOK}, {"type": "feed"}]}, format="json"),
    ]

    for response in responses:
        assert response.status_code == 200
        assert secret not in response.content.decode()
    assert "secret" not in channel_of(responses[1].json(), "webhook")


def test_a_feed_channel_shows_its_absolute_url_in_every_response(alice_api):
    payload = create(alice_api, channels=[{"type": "feed"}])
    with unscoped("assertion"):
        token = Channel.objects.get(pk=channel_of(payload, "feed")["id"]).feed_token
    expected = f"https://corridor.example/feeds/subscriptions/{token}.atom"

    listed = alice_api.get(URL).json()["results"][0]
    detail = alice_api.get(f"{URL}{payload['id']}/").json()

    assert len(token) >= 43
    assert channel_of(payload, "feed")["feed_url"] == expected
    assert channel_of(listed, "feed")["feed_url"] == expected
    assert channel_of(detail, "feed")["feed_url"] == expected
    assert channel_of(payload, "feed")["url"] == ""


def test_the_list_shows_only_the_acting_organisations_subscriptions(alice_api, charlie_api):
    create(alice_api, name="Italy's search")
    create(charlie_api, name="Morocco's search", open_to_my_country=False)

    names = [s["name"] for s in alice_api.get(URL).json()["results"]]

    assert names == ["Italy's search"]


def test_the_list_runs_a_fixed_number_of_queries(alice_api, italy, django_assert_num_queries):
    for n in range(5):
        create(alice_api, name=f"Search {n}", channels=[{"type": "inbox"}, {"type": "feed"}])

    with django_assert_num_queries(4):  # authentication is one statement (the token with its membership)
        response = alice_api.get(URL)

    assert response.json()["count"] == 5


# --- Changing ------------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_given(alice_api):
    payload = create(alice_api)

    response = alice_api.patch(
        f"{URL}{payload['id']}/", {"frequency": "weekly", "direction": None, "active": False}, format="json"
    )

    assert response.status_code == 200
    changed = response.json()
    assert changed["frequency"] == "weekly" and changed["direction"] is None and changed["active"] is False
    assert changed["name"] == payload["name"] and changed["isco_prefixes"] == payload["isco_prefixes"]
    with unscoped("assertion"):
        assert Subscription.objects.get(pk=payload["id"]).direction == ""


def test_patch_channels_keeps_matching_channels_with_their_secrets_and_tokens(alice_api, alice, bob):
    payload = create(
        alice_api,
        channels=[{"type": "webhook", "url": HOOK}, {"type": "feed"}, {"type": "email"}, {"type": "inbox"}],
    )
    with unscoped("assertion"):
        before = {c.type: c for c in Channel.objects.filter(subscription_id=payload["id"])}

    response = alice_api.patch(
        f"{URL}{payload['id']}/",
        {
            "channels": [
                {"type": "feed"},
                {"type": "webhook", "url": HOOK},
                {"type": "email", "members": [str(bob.id)]},
            ]
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    with unscoped("assertion"):
        after = {c.type: c for c in Channel.objects.filter(subscription_id=payload["id"])}
    assert set(after) == {"webhook", "feed", "email"}
    assert after["webhook"].pk == before["webhook"].pk and after["webhook"].secret == before["webhook"].secret
    assert after["feed"].feed_token == before["feed"].feed_token
    assert after["email"].pk == before["email"].pk and after["email"].members == [bob.id]
    assert all(c["secret"] is None for c in response.json()["channels"])


def test_patch_with_a_new_webhook_shows_only_the_new_secret(alice_api):
    payload = create(alice_api, channels=[{"type": "webhook", "url": HOOK}])
    other = "http://127.0.0.1:8998/other"

    response = alice_api.patch(
        f"{URL}{payload['id']}/",
        {"channels": [{"type": "webhook", "url": HOOK}, {"type": "webhook", "url": other}]},
        format="json",
    )

    channels = {c["url"]: c for c in response.json()["channels"]}
    assert channels[HOOK]["secret"] is None
    with unscoped("assertion"):
        assert channels[other]["secret"] == Channel.objects.get(url=other).secret
    assert channels[other]["secret"] != channel_of(payload, "webhook")["secret"]


def test_patch_to_another_webhook_url_replaces_the_channel(alice_api):
    payload = create(alice_api, channels=[{"type": "webhook", "url": HOOK}])
    with unscoped("assertion"):
        old = Channel.objects.get(subscription_id=payload["id"])

    alice_api.patch(
        f"{URL}{payload['id']}/", {"channels": [{"type": "webhook", "url": "http://127.0.0.1:8998/new"}]}, format="json"
    )

    with unscoped("assertion"):
        assert not Channel.objects.filter(pk=old.pk).exists()
    with unscoped("assertion"):
        assert Channel.objects.get(subscription_id=payload["id"]).secret != old.secret


def test_delete_removes_the_subscription_and_its_channels(alice_api, italy):
    payload = create(alice_api, channels=[{"type": "inbox"}, {"type": "feed"}])

    response = alice_api.delete(f"{URL}{payload['id']}/")

    assert response.status_code == 204
    with unscoped("assertion"):
        assert not Subscription.objects.filter(pk=payload["id"]).exists()
    with unscoped("assertion"):
        assert not Channel.objects.filter(subscription_id=payload["id"]).exists()
    with unscoped("assertion"):
        assert AuditEvent.objects.filter(organisation=italy, action="subscription.deleted").count() == 1


# --- Rotating the secret, testing ----------------------------------------------------------------------


def test_rotating_the_secret_keeps_the_old_one_valid_for_a_day(alice_api):
    payload = create(alice_api, channels=[{"type": "webhook", "url": HOOK}, {"type": "inbox"}])
    old = channel_of(payload, "webhook")["secret"]

    response = alice_api.post(f"{URL}{payload['id']}/rotate-secret/")

    assert response.status_code == 200
    [rotated] = response.json()["channels"]
    with unscoped("assertion"):
        channel = Channel.objects.get(pk=rotated["id"])
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != old
    assert channel.secret == rotated["secret"]
    assert channel.previous_secret == old
    expected = timezone.now() + timedelta(hours=24)
    assert abs((channel.previous_secret_expires_at - expected).total_seconds()) < 60
    assert rotated["secret"] not in alice_api.get(f"{URL}{payload['id']}/").content.decode()


def test_rotating_without_a_webhook_channel_is_a_400(alice_api):
    payload = create(alice_api, channels=[{"type": "inbox"}])

    response = alice_api.post(f"{URL}{payload['id']}/rotate-secret/")

    assert response.status_code == 400
    assert list(response.json()) == ["channels"]


def test_the_test_endpoint_sends_a_test_event_to_every_channel(alice_api, italy):
    payload = create(alice_api, channels=[{"type": "webhook", "url": HOOK}, {"type": "inbox"}, {"type": "feed"}])

    response = alice_api.post(f"{URL}{payload['id']}/test/")

    assert response.status_code == 202
    event = Event.objects.get(pk=response.json()["event"])
    assert event.type == "test"
    with unscoped("assertion"):
        deliveries = Delivery.objects.filter(event=event)
    assert {d.channel.type for d in deliveries} == {"webhook", "inbox", "feed"}
    assert {d.organisation_id for d in deliveries} == {italy.pk}
    with unscoped("assertion"):
        assert AuditEvent.objects.filter(organisation=italy, action="subscription.test_sent").count() == 1


def test_testing_an_inactive_subscription_is_a_conflict(alice_api):
    payload = create(alice_api, active=False)

    response = alice_api.post(f"{URL}{payload['id']}/test/")

    assert response.status_code == 409
    assert Event.objects.count() == 0


# --- Who may do what ----------------------------------------------------------------------------------


def test_a_viewer_reads_subscriptions_but_cannot_change_them(alice_api, vera_api):
    payload = create(alice_api, channels=[{"type": "webhook", "url": HOOK}])
    detail = f"{URL}{payload['id']}/"

    assert vera_api.get(URL).json()["count"] == 1
    assert vera_api.get(detail).status_code == 200
    assert vera_api.post(URL, body(), format="json").status_code == 403
    assert vera_api.patch(detail, {"name": "Mine now"}, format="json").status_code == 403
    assert vera_api.delete(detail).status_code == 403
    assert vera_api.post(f"{detail}rotate-secret/").status_code == 403
    assert vera_api.post(f"{detail}test/").status_code == 403
    with unscoped("assertion"):
        assert Subscription.objects.get(pk=payload["id"]).name == payload["name"]


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("patch", ""), ("delete", ""), ("post", "rotate-secret/"), ("post", "test/")],
)
def test_another_organisations_subscription_is_a_404(alice_api, charlie_api, method, suffix):
    payload = create(alice_api, channels=[{"type": "webhook", "url": HOOK}])

    response = getattr(charlie_api, method)(f"{URL}{payload['id']}/{suffix}", {"name": "Hijacked"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    with unscoped("assertion"):
        assert Subscription.objects.get(pk=payload["id"]).name == payload["name"]
    assert Event.objects.count() == 0


def test_an_anonymous_caller_is_refused(anon_api, italy):
    SubscriptionFactory(organisation=italy)

    assert anon_api.get(URL).status_code == 401
