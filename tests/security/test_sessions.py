"""Session lifetime: 12 hours at most, 30 idle minutes for privileged people and 8 idle
hours for others; a new key at sign-in and on a privilege change; sign-out ends the
session on the server. The tests move the session's clocks back, as pretix's do."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.middleware import CHECKED_AT_KEY, SEEN_AT_KEY, SIGNED_IN_AT_KEY
from accounts.models import Membership, Organisation, User
from accounts.services import membership_add, membership_change_role
from accounts.tenancy import Actor, tenant_scope
from tests.conftest import signed_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PROFILE = "/accounts/profile/"
MINUTE, HOUR = 60, 3600


def age(client: Client, **seconds_ago: float) -> None:
    """Move the session's clocks back: ``signed_in``, ``seen``, ``checked`` seconds ago."""
    keys = {"signed_in": SIGNED_IN_AT_KEY, "seen": SEEN_AT_KEY, "checked": CHECKED_AT_KEY}
    session = client.session
    for name, ago in seconds_ago.items():
        session[keys[name]] = time.time() - ago
    session.save()


def still_signed_in(client: Client) -> bool:
    return client.get(PROFILE).status_code == 200


def test_an_official_stays_signed_in_after_seven_idle_hours(bob: User) -> None:
    client = signed_in(bob)
    assert still_signed_in(client)
    age(client, seen=7 * HOUR, signed_in=7 * HOUR)
    assert still_signed_in(client)


def test_an_official_is_signed_out_after_eight_idle_hours(bob: User) -> None:
    client = signed_in(bob)
    client.get(PROFILE)
    age(client, seen=8 * HOUR + MINUTE, signed_in=9 * HOUR)
    response = client.get(PROFILE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_moderator_is_signed_out_after_thirty_idle_minutes(mona: User) -> None:
    client = signed_in(mona)
    assert client.get("/moderation/").status_code == 200
    age(client, seen=29 * MINUTE)
    assert client.get("/moderation/").status_code == 200  # still in, and the clock restarts
    age(client, seen=31 * MINUTE)
    response = client.get("/moderation/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_any_session_ends_twelve_hours_after_sign_in_however_busy(bob: User) -> None:
    client = signed_in(bob)
    client.get(PROFILE)
    age(client, signed_in=12 * HOUR - MINUTE, seen=0)
    assert still_signed_in(client)
    age(client, signed_in=12 * HOUR + MINUTE, seen=0)
    assert not still_signed_in(client)


def test_an_ended_session_is_deleted_on_the_server(bob: User) -> None:
    client = signed_in(bob)
    client.get(PROFILE)
    key = client.cookies["sessionid"].value
    age(client, seen=9 * HOUR)
    client.get(PROFILE)
    assert not Session.objects.filter(session_key=key).exists()


def test_signing_out_invalidates_the_session_on_the_server(bob: User) -> None:
    client = signed_in(bob)
    key = client.cookies["sessionid"].value
    assert still_signed_in(client)
    client.post("/accounts/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    # The old cookie, replayed by someone who copied it, opens nothing.
    replay = Client()
    replay.cookies["sessionid"] = key
    assert not still_signed_in(replay)


def test_signing_in_gives_a_new_session_key(bob: User) -> None:
    client = Client()
    client.get("/accounts/login/")
    client.session.save()
    before = client.cookies["sessionid"].value
    client.post("/accounts/login/", {"email": bob.email, "password": PASSWORD})
    assert client.cookies["sessionid"].value != before
    assert not Session.objects.filter(session_key=before).exists()


def test_a_role_change_gives_the_session_a_new_key(bob: User, alice: User, italy: Organisation) -> None:
    client = signed_in(bob)
    assert still_signed_in(client)
    before = client.cookies["sessionid"].value

    actor = Actor(user=alice, organisation=italy, role="admin")
    with tenant_scope(actor):
        membership = Membership.objects.get(user=bob)
        membership_change_role(actor=actor, membership=membership, role="viewer")
    age(client, checked=2 * MINUTE)  # the role is checked again at most once a minute
    assert still_signed_in(client)
    after = client.cookies["sessionid"].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()


def test_joining_another_organisation_gives_the_session_a_new_key(bob: User, morocco: Organisation) -> None:
    client = signed_in(bob)
    assert still_signed_in(client)
    before = client.cookies["sessionid"].value
    membership_add(organisation=morocco, user=bob, role="admin")
    age(client, checked=2 * MINUTE)
    client.get(PROFILE)
    assert client.cookies["sessionid"].value != before


def test_the_session_cookie_lasts_no_longer_than_twelve_hours(settings: Any) -> None:
    assert settings.SESSION_COOKIE_AGE == 12 * HOUR
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * HOUR
    assert settings.SESSION_IDLE_SECONDS_PRIVILEGED == 30 * MINUTE
    assert settings.SESSION_IDLE_SECONDS == 8 * HOUR
