"""The task outbox (exchange/outbox.py): a committed publication is always matched, whatever crashes.

The first tests run tasks eagerly (no broker). The others use real brokers: a Redis
refusing connections or paused with SIGSTOP (a redis-server of the test's own), and
real worker processes, one per queue, against the test database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from aiosmtpd.controller import Controller
from celery import shared_task
from django.core.management import call_command
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from accounts.models import OutboundEmail
from accounts.tenancy import tenant_scope, unscoped
from config.celery import app
from exchange.models import Delivery, Notification, OutboxTask
from exchange.outbox import outbox_run, outbox_sweep, outbox_task_enqueue, outbox_tasks_enqueue
from opportunities.models import Listing
from opportunities.services import listing_transition
from tests.exchange.conftest import scheme
from tests.opportunities.conftest import create_listing
from tests.plugins.services import PrivateRedis, _reset_connections

ATTEMPTS_SEEN: list[str] = []


@shared_task(name="tests.outbox_always_fails")
def always_fails(outbox_id: str | None = None) -> None:
    def work() -> None:
        ATTEMPTS_SEEN.append("ran")
        raise ValueError("the partner's file is unreadable")

    outbox_run(outbox_id, work)


@shared_task(name="tests.outbox_counts")
def counts(label: str, outbox_id: str | None = None, during: str = "") -> None:
    def work() -> None:
        ATTEMPTS_SEEN.append(label)
        if during and len(ATTEMPTS_SEEN) == 1:
            # Another change asks for the same work while this run is under way.
            outbox_task_enqueue(task="tests.outbox_counts", key=during, kwargs={"label": label})

    outbox_run(outbox_id, work)


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> Iterator[None]:
    settings.NOTIFICATION_RETRY_SCHEDULE = [0, 0, 0]
    settings.NOTIFICATION_SWEEP_AFTER_SECONDS = 0
    settings.OUTBOX_MAX_ATTEMPTS = 3
    ATTEMPTS_SEEN.clear()
    yield
    ATTEMPTS_SEEN.clear()


def approve(owner: Any, moderator: Any, payload: dict[str, Any]) -> Listing:
    listing = create_listing(owner, payload)
    with tenant_scope(owner):
        listing_transition(actor=owner, listing=listing, action="submit")
    with tenant_scope(moderator):
        return listing_transition(actor=moderator, listing=listing, action="approve")


def make_due() -> None:
    """Time passes: every pending row's next attempt comes due."""
    from django.utils import timezone

    OutboxTask.objects.filter(status="pending").update(next_attempt_at=timezone.now())


# --- Without a broker ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rolled_back_publication_leaves_no_outbox_row_and_no_email(italy_official: Any, moderator: Any) -> None:
    listing = create_listing(italy_official, scheme())
    with tenant_scope(italy_official):
        listing_transition(actor=italy_official, listing=listing, action="submit")

    capture = TestCase.captureOnCommitCallbacks(execute=True)
    with pytest.raises(RuntimeError), capture as callbacks, tenant_scope(moderator), transaction.atomic():
        listing_transition(actor=moderator, listing=listing, action="approve")
        assert OutboxTask.objects.filter(key=f"match:{listing.pk}").exists()  # written in the transaction
        raise RuntimeError("the request failed after approving")

    assert callbacks == []
    assert not OutboxTask.objects.exists()
    assert not OutboundEmail.objects.exists()
    with unscoped("assertion"):
        assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_a_publication_owes_its_matching_once_and_the_worker_marks_it_done(italy_official: Any, moderator: Any) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        listing = approve(italy_official, moderator, scheme())

    row = OutboxTask.objects.get(key=f"match:{listing.pk}")
    assert (row.task, row.status, row.attempts) == ("exchange.match_listing", "done", 1)
    assert row.kwargs == {"listing_id": str(listing.pk)}
    assert row.done_at is not None
    assert OutboxTask.objects.filter(task="exchange.refresh_suggestions", status="done").count() == 1


@pytest.mark.django_db
def test_the_same_key_is_owed_once_while_it_is_pending() -> None:
    with transaction.atomic():
        first = outbox_task_enqueue(task="tests.outbox_counts", key="count:1", kwargs={"label": "a"})
        second = outbox_task_enqueue(task="tests.outbox_counts", key="count:1", kwargs={"label": "a"})

    assert first is not None and second is None
    assert OutboxTask.objects.filter(key="count:1").count() == 1


@pytest.mark.django_db
def test_several_tasks_are_owed_in_one_statement_whether_new_or_pending(django_assert_num_queries: Any) -> None:
    tasks = [
        ("tests.outbox_counts", {"label": "m"}, "count:m"),
        ("tests.outbox_counts", {"label": "s"}, "count:s"),
        ("tests.outbox_counts", {"label": "m"}, "count:m"),  # the same work twice in one call
        ("tests.outbox_counts", {"label": "unkeyed"}, ""),
    ]
    with transaction.atomic():
        with django_assert_num_queries(1):
            first = outbox_tasks_enqueue(tasks)
        OutboxTask.objects.filter(key="count:m").update(next_attempt_at=timezone.now() + timedelta(hours=1))
        with django_assert_num_queries(1):
            again = outbox_tasks_enqueue(tasks)

    assert [row is not None for row in first] == [True, True, False, True]
    assert [row is not None for row in again] == [False, False, False, True]  # only the unkeyed task is new
    assert OutboxTask.objects.filter(key="count:m").count() == OutboxTask.objects.filter(key="count:s").count() == 1
    pending = OutboxTask.objects.get(key="count:m")
    assert pending.requested_at > pending.created_at  # asked for again: a run in progress runs once more
    assert pending.next_attempt_at <= timezone.now()  # and it is due now, not in an hour
    assert OutboxTask.objects.filter(key="").count() == 2


@pytest.mark.django_db
def test_work_asked_for_again_while_it_runs_runs_once_more_then_is_done() -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        outbox_task_enqueue(task="tests.outbox_counts", key="count:2", kwargs={"label": "b", "during": "count:2"})

    assert ATTEMPTS_SEEN == ["b", "b"]
    row = OutboxTask.objects.get(key="count:2")
    assert row.status == "done"


@pytest.mark.django_db
def test_a_task_that_always_fails_is_dead_after_the_cap_with_its_reason() -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        outbox_task_enqueue(task="tests.outbox_always_fails", kwargs={})
    for _ in range(5):  # beat keeps sweeping
        make_due()
        with TestCase.captureOnCommitCallbacks(execute=True):
            outbox_sweep()

    row = OutboxTask.objects.get(task="tests.outbox_always_fails")
    assert row.status == "dead"
    assert row.attempts == 3
    assert "the partner's file is unreadable" in row.last_error
    assert ATTEMPTS_SEEN == ["ran", "ran", "ran"]


@pytest.mark.django_db
def test_replay_outbox_gives_a_dead_task_a_fresh_set_of_attempts() -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        row = outbox_task_enqueue(task="tests.outbox_counts", kwargs={"label": "c"})
    assert row is not None
    OutboxTask.objects.filter(pk=row.pk).update(status="dead", last_error="Gave up after 3 attempts.")
    ATTEMPTS_SEEN.clear()

    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("replay_outbox", "--tasks", stdout=open(os.devnull, "w"))  # noqa: SIM115

    row.refresh_from_db()
    assert row.status == "done"
    assert ATTEMPTS_SEEN == ["c"]


# --- With a real broker ----------------------------------------------------------------------


@pytest.fixture
def publishing_to() -> Iterator[Callable[[str], None]]:
    """Publish tasks to a real broker at the given URL (not eagerly), as the web process does."""
    saved = (app.conf.broker_url, app.conf.task_always_eager)

    def point(url: str) -> None:
        app.conf.broker_url = url
        app.conf.task_always_eager = False
        _reset_connections(app)

    yield point
    app.conf.broker_url, app.conf.task_always_eager = saved
    _reset_connections(app)


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.django_db
@pytest.mark.parametrize("fault", ["refusing", "paused"])
def test_publishing_against_a_dead_broker_returns_within_seconds_and_leaves_the_row_pending(
    fault: str, publishing_to: Callable[[str], None], private_redis: PrivateRedis
) -> None:
    if fault == "refusing":
        publishing_to(f"redis://127.0.0.1:{closed_port()}/0")
    else:
        publishing_to(private_redis.url)
        os.kill(private_redis.process.pid, signal.SIGSTOP)  # type: ignore[attr-defined]
    try:
        started = time.monotonic()
        with TestCase.captureOnCommitCallbacks(execute=True):
            outbox_task_enqueue(task="exchange.match_listing", key="match:dead-broker", kwargs={"listing_id": "x"})
        elapsed = time.monotonic() - started
    finally:
        if fault == "paused":
            os.kill(private_redis.process.pid, signal.SIGCONT)  # type: ignore[attr-defined]

    assert elapsed < 5, f"the request was held {elapsed:.1f} s by the broker"
    row = OutboxTask.objects.get(key="match:dead-broker")
    assert (row.status, row.attempts) == ("pending", 0)

    # The broker is back: the sweeper publishes the row, with no restart of anything.
    publishing_to(private_redis.url)
    assert outbox_sweep() == 1
    assert redis.Redis.from_url(private_redis.url).llen("matching") == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_publication_the_broker_missed_is_matched_once_the_sweeper_publishes_it(
    worker_factory: Callable[[str], object],
    redis_url: str,
    publishing_to: Callable[[str], None],
    italy_official: Any,
    moderator: Any,
) -> None:
    publishing_to(f"redis://127.0.0.1:{closed_port()}/0")  # the broker is down at commit
    listing = approve(italy_official, moderator, scheme())
    row = OutboxTask.objects.get(key=f"match:{listing.pk}")
    assert (row.status, row.attempts) == ("pending", 0)

    worker_factory(redis_url)  # the broker and a worker are back; beat sweeps
    deadline = time.monotonic() + 30
    while OutboxTask.objects.get(pk=row.pk).status != "done" and time.monotonic() < deadline:
        outbox_sweep()
        time.sleep(0.3)

    row.refresh_from_db()
    assert (row.status, row.attempts) == ("done", 1)


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if str(db["HOST"]).startswith("/"):
        return f"postgresql://{db['USER']}:@/{db['NAME']}?host={db['HOST']}"
    return f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(queue: str, broker_url: str, smtp_port: int, log_dir: Path) -> subprocess.Popen[bytes]:
    """One real worker process consuming only ``queue``."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": broker_url,
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "0",
    }
    log = open(log_dir / f"{queue}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-P", "solo", "-n", f"{queue}@%h"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def eventually(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with unscoped("assertion"):
            if condition():
                return
        time.sleep(0.3)
    raise AssertionError(f"not within {timeout} s: {what}")


class CountingSMTP:
    def __init__(self) -> None:
        self.recipients: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_each_kind_of_work_is_consumed_by_the_worker_of_its_queue(
    redis_url: str,
    publishing_to: Callable[[str], None],
    italy_official: Any,
    moldova: Any,
    mihai: Any,
    moderator: Any,
    tmp_path: Path,
) -> None:
    from tests.exchange.test_delivery_integration import Receiver, subscribe

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    receiver = Receiver()
    smtp = CountingSMTP()
    controller = Controller(smtp, hostname="127.0.0.1", port=closed_port())
    controller.start()
    workers: list[subprocess.Popen[bytes]] = []
    try:
        publishing_to(redis_url)
        subscribe(
            moldova,
            channels=[("webhook", receiver.url), ("inbox", ""), ("email", "")],
            email_to=mihai,
            isco_prefixes=["92"],
        )
        listing = approve(
            italy_official,
            moderator,
            scheme(title="Seasonal harvest, Piedmont", visibility="partners", partner_countries=["MD"]),
        )
        match_row = OutboxTask.objects.get(key=f"match:{listing.pk}")
        for queue in ("matching", "inbox", "webhooks", "email"):
            assert client.llen(queue) >= 1, f"nothing waits on the {queue} queue"

        # Each worker consumes its own queue only, and the others' work waits.
        workers.append(start_worker("matching", redis_url, controller.port, tmp_path))
        eventually(lambda: OutboxTask.objects.get(pk=match_row.pk).status == "done", "matching done")
        with unscoped("assertion"):
            assert not Notification.objects.filter(organisation=moldova).exists()

        workers.append(start_worker("inbox", redis_url, controller.port, tmp_path))
        eventually(lambda: Notification.objects.filter(organisation=moldova).count() == 1, "an inbox item")
        assert receiver.requests == [] and smtp.recipients == []

        workers.append(start_worker("webhooks", redis_url, controller.port, tmp_path))
        eventually(lambda: len(receiver.requests) == 1, "a webhook")
        assert smtp.recipients == []

        workers.append(start_worker("email", redis_url, controller.port, tmp_path))
        eventually(lambda: smtp.recipients == [mihai.email], "an e-mail")
        eventually(
            lambda: Delivery.objects.filter(event__type="listing.published", status="sent").count() == 3,
            "every delivery sent",
        )
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(10)
        controller.stop()
        receiver.close()
