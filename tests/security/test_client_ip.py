"""The client's address comes from trusted proxies only: throttles and the sign-in
lockout cannot be dodged with a made-up X-Forwarded-For, and clients behind one
proxy are told apart when the operator says the proxy is there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import User
from config.client_ip import client_ip
from tests.factories import PASSWORD

PUBLIC_LISTINGS = "/api/v1/public/listings/"
LOGIN = "/accounts/login/"
PROXY = "10.0.0.7"


@pytest.fixture
def three_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/minute", "anon": "3/minute"})


@pytest.mark.django_db
def test_spoofed_forwarded_addresses_do_not_escape_the_anonymous_limit(three_a_minute: None) -> None:
    client = APIClient()
    statuses = [client.get(PUBLIC_LISTINGS, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(1, 21)]
    assert statuses[:3] == [200, 200, 200]
    assert set(statuses[3:]) == {429}


@pytest.mark.django_db
def test_two_clients_behind_one_trusted_proxy_get_a_limit_each(three_a_minute: None, settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    client = APIClient(REMOTE_ADDR=PROXY)

    def ask(address: str) -> int:
        return client.get(PUBLIC_LISTINGS, HTTP_X_FORWARDED_FOR=f"198.51.100.250, {address}").status_code

    first = [ask("198.51.100.1") for _ in range(4)]
    second = [ask("198.51.100.2") for _ in range(4)]
    assert first == [200, 200, 200, 429]
    assert second == [200, 200, 200, 429]


@pytest.mark.django_db
def test_the_lockout_keys_on_the_real_client_behind_a_trusted_proxy(alice: User, settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.66")
    colleague = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.10")

    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post(LOGIN, {"email": alice.email, "password": "wrong password"})

    assert attacker.post(LOGIN, {"email": alice.email, "password": PASSWORD}).status_code == 429
    assert {a.ip_address for a in AccessAttempt.objects.all()} == {"198.51.100.66"}
    signed_in = colleague.post(LOGIN, {"email": alice.email, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert colleague.session.get("_auth_user_id") == str(alice.pk)


@pytest.mark.django_db
def test_without_trusted_proxies_the_lockout_ignores_the_header(alice: User, settings: Any) -> None:
    client = Client(REMOTE_ADDR="192.0.2.5")
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"email": alice.email, "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    assert {a.ip_address for a in AccessAttempt.objects.all()} == {"192.0.2.5"}
    assert client.post(LOGIN, {"email": alice.email, "password": PASSWORD}).status_code == 429


# --- client_ip itself ---------------------------------------------------------------


def address(
    settings: Any, *, peer: str, forwarded: str | None, count: int = 0, networks: list[str] | None = None
) -> str:
    settings.TRUSTED_PROXY_COUNT = count
    settings.TRUSTED_PROXY_NETWORKS = networks or []
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **extra))


@pytest.mark.parametrize(
    ("forwarded", "count", "expected"),
    [
        (None, 0, PROXY),  # no header
        ("203.0.113.9", 0, PROXY),  # no trusted proxy: the header is ignored
        ("203.0.113.9", 1, "203.0.113.9"),
        ("6.6.6.6, 203.0.113.9", 1, "203.0.113.9"),  # the client's own entry is left of ours
        ("6.6.6.6, 203.0.113.9, 10.1.1.1", 2, "203.0.113.9"),
        ("203.0.113.9", 2, PROXY),  # shorter than the proxies we have: believe nothing
        ("", 1, PROXY),
        (" , ,", 1, PROXY),
        ("not-an-address", 1, PROXY),
        ("203.0.113.9, 999.1.1.1", 1, PROXY),
        ("2001:db8::5", 1, "2001:db8::5"),
        ("[2001:db8::5]", 1, "2001:db8::5"),
    ],
)
def test_a_proxy_count_believes_only_the_hops_our_proxies_wrote(
    settings: Any, forwarded: str | None, count: int, expected: str
) -> None:
    assert address(settings, peer=PROXY, forwarded=forwarded, count=count) == expected


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("10.0.0.7", "203.0.113.9", "203.0.113.9"),
        ("10.0.0.7", "6.6.6.6, 203.0.113.9, 10.0.0.3", "203.0.113.9"),  # skips our inner proxy
        ("192.0.2.44", "203.0.113.9", "192.0.2.44"),  # not our proxy: it may not speak for anyone
        ("10.0.0.7", "10.0.0.3, 10.0.0.4", "10.0.0.7"),  # only proxies: the peer
        ("10.0.0.7", "203.0.113.9, garbage", "10.0.0.7"),  # a malformed hop stops the walk
        ("10.0.0.7", "", "10.0.0.7"),
        ("not-an-ip", "203.0.113.9", "not-an-ip"),
        ("fd00::1", "2001:db8::5", "2001:db8::5"),
    ],
)
def test_proxy_networks_believe_the_header_only_from_our_proxies(
    settings: Any, peer: str, forwarded: str, expected: str
) -> None:
    result = address(settings, peer=peer, forwarded=forwarded, networks=["10.0.0.0/8", "fd00::/8"])
    assert result == expected


def test_a_malformed_proxy_network_stops_the_process_at_start_up() -> None:
    root = Path(__file__).resolve().parents[2]
    environment = {**os.environ, "TRUSTED_PROXY_NETWORKS": "10.0.0.0/8,the-load-balancer"}
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings.base"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXY_NETWORKS must list networks" in result.stderr
    assert "the-load-balancer" in result.stderr
