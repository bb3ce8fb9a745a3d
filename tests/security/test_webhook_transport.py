"""Webhooks travel encrypted in production, and a receiver cannot make a worker read
an answer without end. The SSRF defences still hold when https is required."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from exchange.notifications.webhooks import new_secret, post, validate_url

SUBSCRIPTIONS = "/api/v1/subscriptions/"


class Receiver:
    """A loopback receiver that counts requests and answers 500 with an endless body."""

    def __init__(self) -> None:
        self.requests = 0
        self.sent = 0
        self.stop = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(500)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                chunk = b"receiver is broken " * 512
                try:
                    while not receiver.stop.is_set():
                        self.wfile.write(chunk)
                        receiver.sent += len(chunk)
                except OSError:
                    return  # the client hung up: what we want

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the receiver is on loopback
    server = Receiver()
    yield server
    server.close()


def channel(url: str) -> SimpleNamespace:
    return SimpleNamespace(url=url, secret=new_secret(), previous_secret="", previous_secret_expires_at=None)


def subscription(url: str) -> dict[str, Any]:
    return {
        "name": "Seasonal agriculture from Morocco",
        "direction": "supply",
        "frequency": "instant",
        "active": True,
        "channels": [{"type": "webhook", "url": url}],
    }


@pytest.mark.django_db
def test_a_plain_http_webhook_is_refused_at_registration_naming_the_field(alice_api: APIClient, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_REQUIRE_HTTPS = True

    refused = alice_api.post(SUBSCRIPTIONS, subscription("http://127.0.0.1:8999/hooks"), format="json")
    accepted = alice_api.post(SUBSCRIPTIONS, subscription("https://127.0.0.1:8999/hooks"), format="json")

    assert refused.status_code == 400
    assert list(refused.json()) == ["channels"]
    assert "https://" in refused.json()["channels"][0]
    assert accepted.status_code == 201


def test_a_plain_http_webhook_saved_earlier_is_not_sent_once_https_is_required(
    receiver: Receiver, settings: Any
) -> None:
    settings.WEBHOOK_REQUIRE_HTTPS = True
    result = post(channel=channel(receiver.url), delivery_id="d-1", body=b"{}", now=datetime.now(UTC))

    assert not result.ok
    assert result.error.startswith("Not sent: Use an https:// URL")
    assert receiver.requests == 0


def test_https_is_required_by_default_only_in_production(settings: Any) -> None:
    from config.settings import base

    assert base.WEBHOOK_REQUIRE_HTTPS is base.PRODUCTION


def test_private_addresses_stay_refused_when_https_is_required(settings: Any) -> None:
    settings.WEBHOOK_REQUIRE_HTTPS = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    for url in ("https://127.0.0.1/", "https://[::1]/", "https://169.254.169.254/latest", "https://localhost./"):
        with pytest.raises(ValidationError):
            validate_url(url)


def test_an_endless_answer_is_read_only_up_to_the_limit(receiver: Receiver, settings: Any) -> None:
    settings.WEBHOOK_MAX_RESPONSE_BYTES = 4096
    settings.WEBHOOK_TIMEOUT_SECONDS = 15

    started = time.monotonic()
    result = post(channel=channel(receiver.url), delivery_id="d-2", body=b"{}", now=datetime.now(UTC))
    elapsed = time.monotonic() - started

    assert not result.ok and result.status_code == 500
    assert result.error.startswith("HTTP 500: receiver is broken")
    assert elapsed < 3  # not held until the 15 s timeout by a body that never ends
    assert receiver.requests == 1
