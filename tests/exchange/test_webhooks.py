"""Signed webhooks: bodies, Standard Webhooks signatures, and the SSRF-guarded POST.

The receiver is a real HTTP server on 127.0.0.1 with scripted replies, so every test
of ``post`` goes over a socket. Channels and events are stand-ins: the module only
reads their attributes. No database is needed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from config import egress
from exchange.notifications import webhooks
from exchange.notifications.webhooks import body_for, new_secret, post, signature_headers, validate_url

# --- A scripted receiver --------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP(S) server in a thread: records each request, answers from a script.

    The last reply is repeated once the script runs out.
    """

    def __init__(self, replies: tuple[Reply, ...], tls: ssl.SSLContext | None = None) -> None:
        self.replies = list(replies) or [Reply()]
        self.received: list[Received] = []
        self.server_names: list[str | None] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self.scheme = "http"
        if tls is not None:
            tls.sni_callback = self._record_server_name
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hooks", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def _record_server_name(self, sock: Any, server_name: str | None, context: Any) -> None:
        self.server_names.append(server_name)

    def _next_reply(self) -> Reply:
        with self._lock:
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self._answer()

            def do_GET(self) -> None:
                self._answer()

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.received.append(Received(self.command, self.path, dict(self.headers.items()), body))
                reply = receiver._next_reply()
                if reply.delay:
                    receiver.release.wait(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(*replies: Reply, tls: ssl.SSLContext | None = None) -> Receiver:
        started.append(Receiver(replies, tls))
        return started[-1]

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def allow_private(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def forbid_private(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False


def channel_for(url: str = "https://partner.example/hooks", **overrides: Any) -> SimpleNamespace:
    fields: dict[str, Any] = {
        "url": url,
        "secret": new_secret(),
        "previous_secret": "",
        "previous_secret_expires_at": None,
    }
    return SimpleNamespace(**(fields | overrides))


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[str]:
    """Resolve the given names to the given addresses; everything else as usual. Returns the names looked up."""
    real = socket.getaddrinfo
    looked_up: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        looked_up.append(host)
        if host in answers:
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    socket.IPPROTO_TCP,
                    "",
                    (address, port, 0, 0) if ":" in address else (address, port),
                )
                for address in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


def send(channel: SimpleNamespace, body: bytes = b'{"hello":"world"}') -> webhooks.WebhookResult:
    return post(channel=channel, delivery_id=str(uuid.uuid4()), body=body, now=timezone.now())


# --- Secrets and bodies ---------------------------------------------------------------


def test_a_new_secret_is_whsec_and_base64_of_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()

    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32
    assert first != second
    Webhook(first)  # the reference library accepts it


def test_the_same_event_gives_byte_identical_bodies_even_after_jsonb_reorders_its_keys() -> None:
    event_id = uuid.uuid4()
    created_at = datetime(2025, 3, 1, 13, 30, 5, 123456, tzinfo=ZoneInfo("Europe/Rome"))
    event = SimpleNamespace(
        id=event_id,
        type="listing.published",
        created_at=created_at,
        data={"title": "Cuoco", "a": [1, {"z": 1, "b": 2}]},
    )
    reloaded = SimpleNamespace(
        id=event_id,
        type="listing.published",
        created_at=created_at,
        data={"a": [1, {"b": 2, "z": 1}], "title": "Cuoco"},
    )

    assert body_for(event) == body_for(event) == body_for(reloaded)
    assert body_for(event) == (
        b'{"id":"' + str(event_id).encode() + b'","type":"listing.published",'
        b'"created_at":"2025-03-01T12:30:05.123456Z","data":{"a":[1,{"b":2,"z":1}],"title":"Cuoco"}}'
    )


def test_a_body_is_ascii_json_whatever_the_event_holds() -> None:
    event = SimpleNamespace(
        id=uuid.uuid4(), type="listing.published", created_at=timezone.now(), data={"title": "Médecin – Genève"}
    )

    body = body_for(event)

    assert body.isascii()
    assert json.loads(body)["data"] == {"title": "Médecin – Genève"}


# --- Signatures ---------------------------------------------------------------------


def test_the_signature_reproduces_the_published_standard_webhooks_vector() -> None:
    channel = channel_for(secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")

    headers = signature_headers(
        channel=channel,
        delivery_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        body=b'{"test": 2432232314}',
        now=datetime.fromtimestamp(1614265330, tz=UTC),
    )

    assert headers == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }


def test_the_signature_is_an_hmac_of_id_timestamp_and_body_keyed_with_the_decoded_secret() -> None:
    channel = channel_for()
    now = datetime(2025, 5, 1, 9, 0, 0, 900000, tzinfo=UTC)

    headers = signature_headers(channel=channel, delivery_id="d-1", body=b'{"x":1}', now=now)

    key = base64.b64decode(channel.secret.removeprefix("whsec_"))
    expected = hmac.new(key, b'd-1.1746090000.{"x":1}', hashlib.sha256).digest()
    assert headers["webhook-timestamp"] == "1746090000"  # whole seconds, rounded down
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected).decode()


def test_the_reference_library_verifies_what_we_sign() -> None:
    channel = channel_for()
    body = b'{"id":"1","type":"listing.published"}'

    headers = signature_headers(channel=channel, delivery_id="delivery-1", body=body, now=timezone.now())

    assert Webhook(channel.secret).verify(body, headers) == {"id": "1", "type": "listing.published"}


def _tampered_body(channel: SimpleNamespace, headers: dict[str, str], body: bytes) -> tuple[str, bytes, dict]:
    return channel.secret, body.replace(b"1", b"2"), headers


def _reserialised_body(channel: SimpleNamespace, headers: dict[str, str], body: bytes) -> tuple[str, bytes, dict]:
    return channel.secret, json.dumps(json.loads(body), indent=1).encode(), headers


def _wrong_secret(channel: SimpleNamespace, headers: dict[str, str], body: bytes) -> tuple[str, bytes, dict]:
    return new_secret(), body, headers


def _other_id(channel: SimpleNamespace, headers: dict[str, str], body: bytes) -> tuple[str, bytes, dict]:
    return channel.secret, body, headers | {"webhook-id": "delivery-2"}


def _unknown_version(channel: SimpleNamespace, headers: dict[str, str], body: bytes) -> tuple[str, bytes, dict]:
    return channel.secret, body, headers | {"webhook-signature": headers["webhook-signature"].replace("v1,", "v1a,")}


@pytest.mark.parametrize(
    "tamper", [_tampered_body, _reserialised_body, _wrong_secret, _other_id, _unknown_version], ids=lambda f: f.__name__
)
def test_the_reference_library_rejects_anything_we_did_not_sign(tamper: Callable[..., tuple]) -> None:
    channel = channel_for()
    body = b'{"id":"1","data":{"n":1}}'
    headers = signature_headers(channel=channel, delivery_id="delivery-1", body=body, now=timezone.now())
    secret, sent_body, sent_headers = tamper(channel, headers, body)

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(sent_body, sent_headers)


@pytest.mark.parametrize("skew", [timedelta(minutes=-10), timedelta(minutes=10)], ids=["too old", "too new"])
def test_the_reference_library_rejects_a_timestamp_outside_its_five_minute_tolerance(skew: timedelta) -> None:
    channel = channel_for()
    body = b"{}"
    headers = signature_headers(channel=channel, delivery_id="delivery-1", body=body, now=timezone.now() + skew)

    with pytest.raises(WebhookVerificationError, match="too"):
        Webhook(channel.secret).verify(body, headers)


def test_during_rotation_both_secrets_verify_and_after_the_overlap_only_the_new_one() -> None:
    old = new_secret()
    now = timezone.now()
    channel = channel_for(previous_secret=old, previous_secret_expires_at=now + timedelta(hours=1))
    body = b'{"n":1}'

    during = signature_headers(channel=channel, delivery_id="delivery-1", body=body, now=now)
    channel.previous_secret_expires_at = now - timedelta(seconds=1)
    after = signature_headers(channel=channel, delivery_id="delivery-1", body=body, now=now)

    assert len(during["webhook-signature"].split(" ")) == 2
    Webhook(channel.secret).verify(body, during)
    Webhook(old).verify(body, during)
    assert len(after["webhook-signature"].split(" ")) == 1
    Webhook(channel.secret).verify(body, after)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, after)


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_!!!"])
def test_a_missing_or_malformed_secret_is_a_value_error_when_signing(secret: str) -> None:
    with pytest.raises(ValueError, match="secret"):
        signature_headers(channel=channel_for(secret=secret), delivery_id="d", body=b"{}", now=timezone.now())


# --- Registration: validate_url -----------------------------------------------------


@pytest.mark.usefixtures("forbid_private")
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:5432/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://localhost/", "this server"),
        ("http://localhost./", "this server"),
        ("http://api.localhost/", "this server"),
        ("http://2130706433/", "127.0.0.1, which is a loopback"),
        ("http://0x7f.1/", "127.0.0.1, which is a loopback"),
        ("http://017700000001/", "loopback"),
        ("http://10.0.0.1/", "private"),
        ("http://192.168.1.10:8080/hooks", "private"),
        ("http://100.64.0.1/", "non-public"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fc00::1]/", "private"),
        ("http://[64:ff9b::a00:1]/", "private"),
        ("http://[2002:a00:1::]/", "private"),
        ("ftp://example.org/", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("http://user:pw@example.org/", "user name and password"),
        ("http://user@example.org/", "user name and password"),
        ("http:///hooks", "no host"),
        ("http://example.org:99999/", "port"),
        ("http://[fe80::1%25eth0]/", "not valid"),
    ],
)
def test_registration_refuses_urls_that_could_reach_inside(url: str, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_url(url)

    assert list(refused.value.message_dict) == ["url"]
    assert says in refused.value.message_dict["url"][0]


@pytest.mark.usefixtures("forbid_private")
@pytest.mark.parametrize(
    "url", ["https://93.184.216.34/hooks", "http://8.8.8.8:8080/x?y=1", "https://[2606:4700:4700::1111]/corridor"]
)
def test_registration_accepts_a_public_address_and_returns_the_url_unchanged(url: str) -> None:
    assert validate_url(url) == url


@pytest.mark.usefixtures("forbid_private")
def test_registration_accepts_a_name_that_resolves_only_to_public_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"hooks.partner.example": ["93.184.216.34", "2606:2800:220:1::1"]})

    assert validate_url("https://hooks.partner.example/in") == "https://hooks.partner.example/in"


@pytest.mark.usefixtures("forbid_private")
def test_registration_refuses_a_name_with_any_private_address_among_its_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(monkeypatch, {"hooks.partner.example": ["93.184.216.34", "10.1.2.3"]})

    with pytest.raises(ValidationError, match=r"hooks\.partner\.example resolves to 10\.1\.2\.3"):
        validate_url("https://hooks.partner.example/in")


@pytest.mark.usefixtures("forbid_private")
def test_registration_refuses_a_host_that_does_not_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    def unresolvable(*args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unresolvable)

    with pytest.raises(ValidationError) as refused:
        validate_url("https://no-such-host.invalid/")

    assert refused.value.message_dict == {"url": ["The host no-such-host.invalid could not be resolved."]}


@pytest.mark.usefixtures("allow_private")
@pytest.mark.parametrize("url", ["http://127.0.0.1:5432/", "http://localhost:8000/hooks", "http://10.0.0.1/"])
def test_registration_allows_private_addresses_when_the_setting_says_so(url: str) -> None:
    assert validate_url(url) == url


@pytest.mark.usefixtures("allow_private")
@pytest.mark.parametrize("url", ["ftp://example.org/", "http://user:pw@127.0.0.1/"])
def test_registration_refuses_other_schemes_and_credentials_even_when_private_addresses_are_allowed(url: str) -> None:
    with pytest.raises(ValidationError):
        validate_url(url)


# --- Sending: post --------------------------------------------------------------------


@pytest.mark.usefixtures("allow_private")
def test_a_post_is_signed_so_the_reference_library_verifies_it(receiver: Callable[..., Receiver]) -> None:
    hook = receiver(Reply(204))
    channel = channel_for(hook.url("/hooks?org=it"))
    event = SimpleNamespace(id=uuid.uuid4(), type="listing.published", created_at=timezone.now(), data={"n": 1})
    body = body_for(event)
    delivery_id = str(uuid.uuid4())

    result = post(channel=channel, delivery_id=delivery_id, body=body, now=timezone.now())

    assert result == webhooks.WebhookResult(ok=True, status_code=204)
    [request] = hook.received
    assert (request.method, request.path, request.body) == ("POST", "/hooks?org=it", body)
    assert request.headers["webhook-id"] == delivery_id
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "Corridor-Webhooks/1.0"
    assert request.headers["Host"] == f"127.0.0.1:{hook.port}"
    assert Webhook(channel.secret).verify(request.body, request.headers)["id"] == str(event.id)


@pytest.mark.usefixtures("allow_private")
def test_each_attempt_keeps_the_webhook_id_and_body_but_gets_a_fresh_timestamp(
    receiver: Callable[..., Receiver],
) -> None:
    hook = receiver(Reply(500), Reply(200))
    channel = channel_for(hook.url())
    now = timezone.now()

    first = post(channel=channel, delivery_id="delivery-1", body=b"{}", now=now - timedelta(seconds=5))
    second = post(channel=channel, delivery_id="delivery-1", body=b"{}", now=now)

    assert (first.ok, second.ok) == (False, True)
    one, two = hook.received
    assert one.headers["webhook-id"] == two.headers["webhook-id"] == "delivery-1"
    assert one.body == two.body
    assert int(two.headers["webhook-timestamp"]) - int(one.headers["webhook-timestamp"]) == 5
    assert one.headers["webhook-signature"] != two.headers["webhook-signature"]


@pytest.mark.usefixtures("allow_private")
def test_a_receiver_error_is_a_failure_quoting_the_start_of_its_body(receiver: Callable[..., Receiver]) -> None:
    hook = receiver(Reply(500, body=b"Internal   error\n" + b"x" * 100_000))

    result = send(channel_for(hook.url()))

    assert (result.ok, result.status_code, result.gone, result.retry_after) == (False, 500, False, None)
    assert result.error.startswith("HTTP 500: Internal error xxx")
    assert len(result.error) < 250


@pytest.mark.usefixtures("allow_private")
def test_410_gone_is_reported_as_gone(receiver: Callable[..., Receiver]) -> None:
    hook = receiver(Reply(410))

    result = send(channel_for(hook.url()))

    assert (result.ok, result.status_code, result.gone, result.error) == (False, 410, True, "HTTP 410")


@pytest.mark.usefixtures("allow_private")
@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        ("7", 7),
        (" 0 ", 0),
        ("9999999", 86400),
        ("99999999999999999999999", 86400),
        ("later", None),
        ("-5", None),
        ("", None),
    ],
)
def test_429_reports_the_receivers_retry_after_in_seconds_capped_at_a_day(
    receiver: Callable[..., Receiver], retry_after: str, expected: int | None
) -> None:
    hook = receiver(Reply(429, headers={"Retry-After": retry_after} if retry_after else {}))

    result = send(channel_for(hook.url()))

    assert (result.ok, result.status_code, result.retry_after, result.gone) == (False, 429, expected, False)


@pytest.mark.usefixtures("allow_private")
def test_429_understands_a_retry_after_http_date(receiver: Callable[..., Receiver]) -> None:
    now = datetime(2025, 5, 1, 9, 0, 0, tzinfo=UTC)
    hook = receiver(Reply(429, headers={"Retry-After": format_datetime(now + timedelta(seconds=120), usegmt=True)}))

    result = post(channel=channel_for(hook.url()), delivery_id="d", body=b"{}", now=now)

    assert result.retry_after == 120


@pytest.mark.usefixtures("allow_private")
def test_a_retry_after_date_in_the_past_means_now(receiver: Callable[..., Receiver]) -> None:
    now = datetime(2025, 5, 1, 9, 0, 0, tzinfo=UTC)
    hook = receiver(Reply(429, headers={"Retry-After": format_datetime(now - timedelta(hours=1), usegmt=True)}))

    result = post(channel=channel_for(hook.url()), delivery_id="d", body=b"{}", now=now)

    assert result.retry_after == 0


@pytest.mark.usefixtures("allow_private")
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failure_and_is_not_followed(receiver: Callable[..., Receiver], status: int) -> None:
    target = receiver(Reply(200))
    hook = receiver(Reply(status, headers={"Location": target.url("/elsewhere")}))

    result = send(channel_for(hook.url()))

    assert (result.ok, result.status_code) == (False, status)
    assert "redirects are not followed" in result.error
    assert target.url("/elsewhere") in result.error
    assert len(hook.received) == 1
    assert target.received == []


@pytest.mark.usefixtures("allow_private")
def test_a_closed_port_is_a_connection_failure_not_an_exception() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    result = send(channel_for(f"http://127.0.0.1:{port}/hooks"))

    assert (result.ok, result.status_code) == (False, None)
    assert result.error.startswith("Could not connect: 127.0.0.1: ConnectError")
    assert "refused" in result.error.lower()


@pytest.mark.usefixtures("allow_private")
def test_a_receiver_slower_than_the_timeout_is_a_prompt_failure(
    receiver: Callable[..., Receiver], settings: Any
) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    hook = receiver(Reply(200, delay=10))

    started = time.monotonic()
    result = send(channel_for(hook.url()))
    elapsed = time.monotonic() - started

    assert (result.ok, result.status_code) == (False, None)
    assert result.error.startswith("Timed out after 0.5 s (ReadTimeout")
    assert elapsed < 3
    assert len(hook.received) == 1


@pytest.mark.usefixtures("allow_private")
@pytest.mark.parametrize("secret", ["", "whsec_"])
def test_a_channel_without_a_usable_secret_sends_nothing(receiver: Callable[..., Receiver], secret: str) -> None:
    hook = receiver(Reply(200))

    result = send(channel_for(hook.url(), secret=secret))

    assert not result.ok
    assert result.error.startswith("Not sent:") and "secret" in result.error
    assert hook.received == []


# --- Sending: the SSRF guard at send time ---------------------------------------------


@pytest.mark.usefixtures("forbid_private")
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433"])
def test_a_post_to_a_loopback_address_is_refused_without_connecting(
    receiver: Callable[..., Receiver], host: str
) -> None:
    hook = receiver(Reply(200))

    result = send(channel_for(hook.url(host=host)))

    assert (result.ok, result.status_code) == (False, None)
    assert result.error.startswith("Not sent:") and "public addresses" in result.error
    assert hook.received == []


@pytest.mark.usefixtures("forbid_private")
def test_a_name_that_resolves_to_loopback_at_send_time_is_refused_after_passing_registration(
    receiver: Callable[..., Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = receiver(Reply(200))
    answers = {"hooks.partner.example": ["93.184.216.34"]}
    fake_dns(monkeypatch, answers)
    channel = channel_for(f"http://hooks.partner.example:{hook.port}/hooks")
    validate_url(channel.url)

    answers["hooks.partner.example"] = ["127.0.0.1"]  # DNS rebinding
    result = send(channel)

    assert not result.ok
    assert "hooks.partner.example resolves to 127.0.0.1, which is a loopback address" in result.error
    assert hook.received == []


@pytest.mark.usefixtures("forbid_private")
def test_a_url_with_credentials_is_refused_at_send_time_too() -> None:
    result = send(channel_for("https://user:pw@93.184.216.34/hooks"))

    assert not result.ok
    assert "user name and password" in result.error


@pytest.mark.usefixtures("allow_private")
def test_the_post_connects_to_the_address_it_checked_and_names_the_original_host(
    receiver: Callable[..., Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = receiver(Reply(200))
    looked_up = fake_dns(monkeypatch, {"hooks.partner.example": ["127.0.0.1"]})
    channel = channel_for(f"http://hooks.partner.example:{hook.port}/in?x=1")

    result = send(channel)

    assert result.ok
    # The name is resolved once, by the check; the socket only ever sees the checked address.
    assert looked_up == ["hooks.partner.example", "127.0.0.1"]
    [request] = hook.received
    assert request.headers["Host"] == f"hooks.partner.example:{hook.port}"
    assert request.path == "/in?x=1"


@pytest.mark.usefixtures("allow_private")
def test_when_one_address_refuses_the_next_checked_address_is_tried(
    receiver: Callable[..., Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = receiver(Reply(200))  # listens on 127.0.0.1 only, so 127.0.0.2 refuses
    fake_dns(monkeypatch, {"hooks.partner.example": ["127.0.0.2", "127.0.0.1"]})

    result = send(channel_for(f"http://hooks.partner.example:{hook.port}/"))

    assert result.ok
    assert len(hook.received) == 1


# --- HTTPS to a pinned address: SNI and certificate checks use the host name ----------


@dataclass(frozen=True)
class Certificates:
    ca: Path
    partner: tuple[Path, Path]  # a certificate for hooks.partner.example and its key
    stranger: tuple[Path, Path]  # a certificate for another name, from the same CA


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    openssl = shutil.which("openssl")
    # Fail rather than skip: a skipped test proves nothing (openssl ships with every machine image we use).
    assert openssl is not None, "the TLS tests need the openssl command to make test certificates"
    folder = tmp_path_factory.mktemp("tls")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, cwd=folder)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Corridor test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")  # fmt: skip

    def leaf(name: str) -> tuple[Path, Path]:
        (folder / f"{name}.ext").write_text(
            f"subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
            "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        )
        run("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")  # fmt: skip
        return folder / f"{name}.pem", folder / f"{name}.key"

    return Certificates(ca=folder / "ca.pem", partner=leaf("hooks.partner.example"), stranger=leaf("other.example"))


def tls_server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def trust_test_ca(monkeypatch: pytest.MonkeyPatch, certificates: Certificates) -> None:
    context = ssl.create_default_context(cafile=str(certificates.ca))
    monkeypatch.setattr(egress, "tls_context", lambda: context)


@pytest.mark.usefixtures("allow_private", "trust_test_ca")
def test_https_to_a_pinned_address_sends_the_host_name_as_sni_and_verifies_the_certificate_against_it(
    receiver: Callable[..., Receiver], monkeypatch: pytest.MonkeyPatch, certificates: Certificates
) -> None:
    hook = receiver(Reply(200), tls=tls_server_context(certificates.partner))
    fake_dns(monkeypatch, {"hooks.partner.example": ["127.0.0.1"]})
    channel = channel_for(hook.url(host="hooks.partner.example"))

    result = send(channel)

    assert result == webhooks.WebhookResult(ok=True, status_code=200)
    assert hook.server_names == ["hooks.partner.example"]
    [request] = hook.received
    assert request.headers["Host"] == f"hooks.partner.example:{hook.port}"
    Webhook(channel.secret).verify(request.body, request.headers)


@pytest.mark.usefixtures("allow_private", "trust_test_ca")
def test_https_refuses_a_certificate_for_another_name(
    receiver: Callable[..., Receiver], monkeypatch: pytest.MonkeyPatch, certificates: Certificates
) -> None:
    hook = receiver(Reply(200), tls=tls_server_context(certificates.stranger))
    fake_dns(monkeypatch, {"hooks.partner.example": ["127.0.0.1"]})

    result = send(channel_for(hook.url(host="hooks.partner.example")))

    assert (result.ok, result.status_code) == (False, None)
    assert "CERTIFICATE_VERIFY_FAILED" in result.error
    assert hook.received == []
