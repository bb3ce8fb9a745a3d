"""Notifications end to end: a real Celery worker, a real Redis broker, a real HTTP receiver.

Fault tests run their own redis-server (``private_redis``) and never touch the
shared one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import mail

from accounts.tenancy import tenant_scope, unscoped
from exchange.models import Channel, Delivery, Notification, Subscription
from exchange.notifications.delivery import deliveries_sweep
from exchange.notifications.webhooks import new_secret
from opportunities.services import listing_transition
from tests.exchange.conftest import scheme
from tests.opportunities.conftest import create_listing

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


class Receiver:
    """A webhook receiver on loopback that answers with a scripted list of statuses."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/corridor"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(autouse=True)
def _fast_retries(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.NOTIFICATION_RETRY_SCHEDULE = [0, 1, 1, 1]
    settings.NOTIFICATION_RETRY_JITTER = 0
    settings.NOTIFICATION_SWEEP_AFTER_SECONDS = 0


def wait_for(condition: Callable[[], bool], *, sweep: bool = True, timeout: float = 30) -> None:
    """Poll like beat would: sweep due deliveries, until the condition holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with unscoped("assertion"):
            if condition():
                return
            if sweep:
                deliveries_sweep()
        time.sleep(0.3)
    with unscoped("assertion"):
        state = list(Delivery.objects.values_list("channel__type", "status", "attempts", "last_error"))
    raise AssertionError(f"condition not met in time; deliveries: {state}")


def subscribe(org: Any, *, channels: list[tuple[str, str]], email_to: Any = None, **filters: Any) -> Subscription:
    with unscoped("test setup"):
        subscription = Subscription.objects.create(organisation=org, name=f"Alerts of {org.slug}", **filters)
        for kind, url in channels:
            Channel.objects.create(
                subscription=subscription,
                organisation=org,
                type=kind,
                url=url,
                secret=new_secret() if kind == "webhook" else "",
                members=[email_to.pk] if kind == "email" and email_to else [],
            )
        return subscription


def publish(owner: Any, moderator: Any, payload: dict[str, Any]) -> Any:
    # Real commits: each service runs its own transaction and its on_commit hooks fire.
    listing = create_listing(owner, payload)
    with tenant_scope(owner):
        listing_transition(actor=owner, listing=listing, action="submit")
    with tenant_scope(moderator):
        return listing_transition(actor=moderator, listing=listing, action="approve")


def test_publishing_delivers_once_per_matching_subscription_and_channel(
    worker_factory, redis_url, receiver, italy_official, moldova, morocco, germany, moderator, charlie, mihai
):
    worker_factory(redis_url)
    moldova_sub = subscribe(
        moldova,
        channels=[("webhook", receiver.url), ("inbox", ""), ("email", "")],
        email_to=mihai,
        isco_prefixes=["92"],
    )
    subscribe(germany, channels=[("inbox", "")], isco_prefixes=["2221"])  # filters do not match
    subscribe(morocco, channels=[("inbox", "")])  # matches, but may not see a partners-only listing
    listing = publish(
        italy_official,
        moderator,
        scheme(title="Seasonal harvest, Piedmont", visibility="partners", partner_countries=["MD"]),
    )
    wait_for(lambda: Delivery.objects.filter(event__type="listing.published", status="sent").count() == 3)
    with unscoped("assertion"):
        deliveries = Delivery.objects.filter(event__type="listing.published")
        assert {d.subscription_id for d in deliveries} == {moldova_sub.pk}
        assert sorted(d.channel.type for d in deliveries) == ["email", "inbox", "webhook"]
        assert Notification.objects.filter(organisation=moldova).count() == 1
        assert not Notification.objects.filter(organisation__in=[germany, morocco]).exists()
    assert len(receiver.requests) == 1
    body = json.loads(receiver.requests[0]["body"])
    assert body["type"] == "listing.published" and body["data"]["listing_id"] == str(listing.pk)
    published_mail = [m for m in mail.outbox if "Seasonal harvest, Piedmont" in m.subject + m.body]
    assert [m.to for m in published_mail] == [[mihai.email]]


def test_a_receiver_that_fails_twice_gets_the_same_webhook_id_with_a_valid_signature(
    worker_factory, redis_url, italy_official, moldova, moderator
):
    from standardwebhooks import Webhook

    receiver = Receiver([500, 503, 200])
    try:
        worker_factory(redis_url)
        subscription = subscribe(moldova, channels=[("webhook", receiver.url)])
        publish(italy_official, moderator, scheme(title="Seasonal harvest, Sicily"))
        wait_for(lambda: Delivery.objects.filter(status="sent").exists())
        assert len(receiver.requests) == 3
        ids = {r["headers"]["webhook-id"] for r in receiver.requests}
        with unscoped("assertion"):
            delivery = Delivery.objects.get()
            secret = Channel.objects.get(subscription=subscription).secret
        assert ids == {str(delivery.pk)}
        assert delivery.attempts == 3 and delivery.last_status_code == 200
        bodies = {r["body"] for r in receiver.requests}
        assert len(bodies) == 1  # the same body every time
        for request in receiver.requests:
            headers = {k.lower(): v for k, v in request["headers"].items()}
            Webhook(secret).verify(request["body"], headers)
    finally:
        receiver.close()


def test_a_delivery_written_while_redis_is_down_is_delivered_when_it_returns(
    private_redis, worker_factory, italy_official, moldova, moderator
):
    from config.celery import app
    from tests.plugins.services import _reset_connections

    subscribe(moldova, channels=[("inbox", "")])
    app.conf.broker_url = private_redis.url
    app.conf.task_always_eager = False
    _reset_connections(app)
    private_redis.stop()
    started = time.monotonic()
    publish(italy_official, moderator, scheme(title="Seasonal harvest, Apulia"))
    assert time.monotonic() - started < 20  # publication did not hang on the dead broker
    with unscoped("assertion"):
        assert Delivery.objects.get().status == "pending"  # safe in PostgreSQL
        assert not Notification.objects.exists()
    private_redis.start()
    worker_factory(private_redis.url)
    wait_for(lambda: Notification.objects.filter(organisation=moldova).count() == 1)
    with unscoped("assertion"):
        assert Delivery.objects.get().status == "sent"
        assert Notification.objects.count() == 1


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if str(db["HOST"]).startswith("/"):
        return f"postgresql://{db['USER']}:@/{db['NAME']}?host={db['HOST']}"
    return f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _worker_process(broker_url: str, smtp_port: int) -> Any:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": broker_url,
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
        "NOTIFICATION_RETRY_SCHEDULE": "0,1,1,1",
        "NOTIFICATION_CLAIM_SECONDS": "3",
        "CELERY_VISIBILITY_TIMEOUT": "10",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class SlowReceiver(Receiver):
    """Holds the first request long enough for the test to kill the worker waiting on it."""

    def __init__(self) -> None:
        super().__init__()
        self.first_request = threading.Event()
        handler = self.server.RequestHandlerClass
        receiver = self

        def do_POST(h: Any) -> None:
            body = h.rfile.read(int(h.headers.get("Content-Length", 0)))
            receiver.requests.append({"headers": dict(h.headers), "body": body})
            if len(receiver.requests) == 1:
                receiver.first_request.set()
                time.sleep(6)
            h.send_response(200)
            h.end_headers()

        handler.do_POST = do_POST


def test_killing_the_worker_mid_delivery_redelivers_without_a_second_email_or_inbox_item(
    private_redis, italy_official, moldova, mihai, moderator
):
    import signal

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    from config.celery import app
    from tests.plugins.services import _reset_connections

    class Counting(Sink):
        def __init__(self) -> None:
            self.messages: list[Any] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.messages.append(envelope)
            return "250 OK"

    smtp = Counting()
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    controller = Controller(smtp, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    receiver = SlowReceiver()
    workers: list[Any] = []
    try:
        with unscoped("test setup"):
            subscription = subscribe(moldova, channels=[("webhook", receiver.url), ("inbox", "")])
            Channel.objects.create(subscription=subscription, organisation=moldova, type="email", members=[mihai.pk])
        app.conf.broker_url = private_redis.url
        app.conf.task_always_eager = False
        _reset_connections(app)
        workers.append(_worker_process(private_redis.url, controller.port))
        publish(italy_official, moderator, scheme(title="Seasonal harvest, Veneto"))
        assert receiver.first_request.wait(60), "the worker never reached the receiver"
        workers[0].send_signal(signal.SIGKILL)  # mid-delivery: waiting on the webhook
        workers[0].wait(10)
        workers.append(_worker_process(private_redis.url, controller.port))
        wait_for(lambda: Delivery.objects.filter(status="sent").count() == 3, timeout=90)
        with unscoped("assertion"):
            assert Notification.objects.count() == 1
            webhook = Delivery.objects.get(channel__type="webhook")
        assert len(smtp.messages) == 1 and smtp.messages[0].rcpt_tos == [mihai.email]
        assert {r["headers"]["webhook-id"] for r in receiver.requests} == {str(webhook.pk)}
        assert len(receiver.requests) >= 2  # at least once: the killed attempt, then the redelivery
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)
        receiver.close()
        controller.stop()
        from django.conf import settings as django_settings

        app.conf.broker_url = django_settings.CELERY_BROKER_URL
        _reset_connections(app)
