"""``manage.py bench_e2e``: from a moderator's approval to the first webhook attempt received.

Scenario 9 of issue 15, on the synthetic world (``generate_load_data``: its
subscriptions, of which about 1 % want the listing approved here, with inbox
channels). The command gives each subscription that wants the listing a webhook
channel to one HTTP receiver it runs on loopback (a threaded ``http.server`` answering
200), and starts a real Celery worker (``celery -A config worker`` on every queue of ``CELERY_TASK_QUEUE_NAMES``, a
subprocess on the same database and broker, with ``WEBHOOK_ALLOW_PRIVATE_ADDRESSES``
so the SSRF guard lets it post to 127.0.0.1).

Each approval is real: a listing created and submitted by an Italian government's
official, then approved by an agency moderator through ``listing_transition``, each
committed. Measured from the approval's call to the first request the receiver gets
for that listing (same process, same clock): the fan-out's ``INSERT … SELECT``, the
commit, the after-commit hand-over to Redis, the worker splitting the fan-out into one
message per delivery, claiming one and posting it. Also recorded: the approval call
itself (commit and after-commit publishing) and the arrival of the last webhook.

The baseline is the same approval of a listing with one subscriber: a listing visible
to one partner country, which one webhook subscription of the receiving government
wants (a few world subscriptions of that country may want it too: the report says how
many recipients each kind reached). The two kinds alternate, after one warm-up each,
and every run waits for the previous one's deliveries and tasks to finish.

The listings' windows start after every synthetic listing's end, so matching (which
the approval also owes, through the task outbox) finds no candidates: ``match.created``
events would otherwise send hundreds of deliveries to the world's organisations that
have nothing to do with this measure. Afterwards everything the command wrote is
deleted (listings, events and deliveries, outbox rows, the webhook channels,
organisations, users) except
the audit rows, which the database keeps by design; the worker is stopped, and its
queues are left empty.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import Organisation, OrganisationKind, Role, User, VerificationStatus
from accounts.services import membership_add
from accounts.tenancy import Actor, tenant_scope, unscoped
from exchange.management.bench_support import celery_broker, database_url, summary, write_json
from exchange.models import (
    Channel,
    ChannelType,
    Delivery,
    DeliveryStatus,
    Event,
    OutboxStatus,
    OutboxTask,
    Subscription,
)
from exchange.notifications.events import subscriptions_for_listing
from exchange.notifications.webhooks import new_secret
from opportunities.inputs import ListingWriteSerializer
from opportunities.models import Listing, ListingStatus
from opportunities.services import listing_create, listing_transition

SLUG = "bench-e2e"
RECEIVING_COUNTRY = "IS"


class Receiver:
    """One webhook receiver on loopback: when each listing's webhooks arrived."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self.watched: set[str] = set()
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.perf_counter()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.record(body, arrived)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/corridor"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def record(self, body: bytes, arrived: float) -> None:
        with self.changed:
            for listing_id in self.watched:
                if listing_id.encode() in body:
                    self.arrivals.setdefault(listing_id, []).append(arrived)
            self.changed.notify_all()

    def watch(self, listing_id: str) -> None:
        with self.changed:
            self.watched.add(listing_id)

    def wait(self, listing_id: str, count: int, timeout: float) -> list[float]:
        """The arrival times of the first ``count`` webhooks about the listing."""
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.arrivals.get(listing_id, [])) >= count, timeout):
                got = len(self.arrivals.get(listing_id, []))
                raise CommandError(f"{got} of {count} webhooks arrived within {timeout:.0f} s")
            return sorted(self.arrivals[listing_id])[:count]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Command(BaseCommand):
    help = "Time approval → first webhook attempt with a real Celery worker, against a one-subscriber approval."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--approvals", type=int, default=10, help="Approvals of each kind (after a warm-up).")
        parser.add_argument("--concurrency", type=int, default=2, help="The worker's processes.")
        parser.add_argument("--timeout", type=float, default=180, help="Seconds to wait for a run's webhooks.")
        parser.add_argument("--broker", default="", help="Redis URL (default: the configured broker).")
        parser.add_argument("--json", help="Write the figures to this file.")

    def handle(self, *args: Any, **options: Any) -> None:
        broker = options["broker"] or settings.REDIS_URL
        if not broker or not broker.startswith("redis"):
            raise CommandError("No Redis broker: set REDIS_URL (or pass --broker).")
        with unscoped("the benchmark counts the synthetic world's subscriptions"):
            world = Subscription.objects.count()
        self.timeout = options["timeout"]
        self.receiver = Receiver()
        self.log = tempfile.NamedTemporaryFile("w+", prefix="bench-e2e-worker-", suffix=".log")  # noqa: SIM115
        worker: subprocess.Popen[bytes] | None = None
        self.listings: list[str] = []
        self.channels: list[Any] = []
        try:
            self.setup = _setup(self.receiver.url)
            # The first listing (the warm-up) tells which of the world's subscriptions want it.
            probe = _submitted(self.setup, "fanout")
            self.listings.append(str(probe.pk))
            self.channels = _webhooks_for(probe, self.receiver.url)
            self.setup["webhooks"] = webhooks = len(self.channels)
            with celery_broker(broker):
                worker = self._start_worker(broker, options["concurrency"])
                runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "fanout": []}
                self._approve("baseline")  # warm-up: the worker has started and is consuming
                self._approve("fanout", probe)
                for _n in range(max(1, options["approvals"])):
                    for kind in ("baseline", "fanout"):
                        runs[kind].append(self._approve(kind))
        finally:
            if worker is not None:
                _stop(worker)
            self.receiver.close()
            _cleanup(self.listings, self.channels)
        results = _results(runs, world=world, webhooks=webhooks, concurrency=options["concurrency"])
        write_json(options["json"], results)
        self._report(results)

    def _start_worker(self, broker: str, concurrency: int) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": broker,
            "DEBUG": "0",
            "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
            "WEBHOOK_REQUIRE_HTTPS": "0",
        }
        return subprocess.Popen(  # noqa: S603 - our own worker, fixed arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--queues",
                ",".join(settings.CELERY_TASK_QUEUE_NAMES),
                "--concurrency",
                str(concurrency),
                "--hostname",
                f"bench-e2e-{uuid.uuid4().hex[:8]}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _approve(self, kind: str, listing: Listing | None = None) -> dict[str, Any]:
        setup = self.setup
        listing = listing or _submitted(setup, kind)
        listing_id = str(listing.pk)
        if listing_id not in self.listings:
            self.listings.append(listing_id)
        expected = setup["webhooks"] if kind == "fanout" else 1
        self.receiver.watch(listing_id)
        started = time.perf_counter()
        with tenant_scope(setup["moderator"]):
            listing_transition(actor=setup["moderator"], listing=listing, action="approve")
        approved = time.perf_counter()
        try:
            arrivals = self.receiver.wait(listing_id, expected, self.timeout)
        except CommandError as exc:
            self.log.seek(0)
            raise CommandError(f"{exc}; the worker's log ends: {self.log.read()[-2000:]}") from exc
        deliveries = _wait_until_done(listing_id, self.timeout)
        return {
            "approval_ms": (approved - started) * 1000,
            "first_webhook_ms": (arrivals[0] - started) * 1000,
            "last_webhook_ms": (arrivals[-1] - started) * 1000,
            "webhooks": expected,
            "deliveries": deliveries,
        }

    def _report(self, r: dict[str, Any]) -> None:
        f, b = r["fanout"], r["baseline"]
        self.stdout.write(
            f"Approval → first webhook attempt, {r['approvals']} approvals of each kind, one worker "
            f"({r['concurrency']} processes), {r['subscriptions']:,} subscriptions in the world\n"
            f"  fan-out:  {f['deliveries']:,} deliveries ({f['webhooks']:,} webhooks): first webhook p50 "
            f"{f['first_webhook_ms']['p50']:.0f} ms, p95 {f['first_webhook_ms']['p95']:.0f} ms; approval call p50 "
            f"{f['approval_ms']['p50']:.0f} ms; last webhook p50 {f['last_webhook_ms']['p50']:.0f} ms\n"
            f"  baseline: {b['deliveries']:,} deliveries (1 webhook): first webhook p50 "
            f"{b['first_webhook_ms']['p50']:.0f} ms, p95 {b['first_webhook_ms']['p95']:.0f} ms; approval call p50 "
            f"{b['approval_ms']['p50']:.0f} ms\n"
            f"  ratio:    p50 {r['ratio_p50']:.2f}×, p95 {r['ratio_p95']:.2f}×\n"
        )


def _setup(url: str) -> dict[str, Any]:
    """The owner, the moderator, the receiving government and its one subscription (committed)."""
    with unscoped("the benchmark's own organisations and subscriptions"):
        owner = _organisation("owner", OrganisationKind.GOVERNMENT, "IT")
        agency = _organisation("agency", OrganisationKind.AGENCY, "")
        receiving = _organisation("receiver", OrganisationKind.GOVERNMENT, RECEIVING_COUNTRY)
        official = _user("official", owner, Role.OFFICIAL)
        moderator = _user("moderator", agency, Role.MODERATOR)
        subscription = Subscription.objects.create(
            organisation=receiving, name="Benchmark plumbing alerts", isco_prefixes=["7126"], direction="demand"
        )
        _webhook(subscription, url)
    return {
        "official": Actor(user=official, organisation=owner, role=Role.OFFICIAL),
        "moderator": Actor(user=moderator, organisation=agency, role=Role.MODERATOR),
    }


def _webhook(subscription: Subscription, url: str) -> Channel:
    return Channel.objects.create(
        subscription=subscription,
        organisation_id=subscription.organisation_id,
        type=ChannelType.WEBHOOK,
        url=f"{url}?subscription={subscription.pk}",
        secret=new_secret(),
    )


def _webhooks_for(listing: Listing, url: str) -> list[Any]:
    """A webhook channel to the receiver on each world subscription that wants ``listing`` once published."""
    published = Listing.objects.get(pk=listing.pk)
    published.status = ListingStatus.PUBLISHED  # in memory: who will hear of it, as the approval asks
    with unscoped("the benchmark adds channels to the world's subscriptions"):
        wanting = list(subscriptions_for_listing(published))
        if not wanting:
            raise CommandError("No subscription of this world wants the listing: run generate_load_data first.")
        return [_webhook(subscription, url).pk for subscription in wanting]


def _organisation(name: str, kind: str, country: str) -> Organisation:
    return Organisation.objects.create(
        name=f"Benchmark {name}",
        slug=f"{SLUG}-{name}-{uuid.uuid4().hex[:8]}",
        kind=kind,
        country=country,
        is_destination=country == "IT",
        is_origin=country == RECEIVING_COUNTRY,
        verification_status=VerificationStatus.VERIFIED,
    )


def _user(name: str, organisation: Organisation, role: str) -> User:
    user = User.objects.create_user(
        email=f"{SLUG}-{name}-{uuid.uuid4().hex[:8]}@corridor.invalid", password=None, full_name="Benchmark"
    )
    membership_add(organisation=organisation, user=user, role=role)
    return user


def _submitted(setup: dict[str, Any], kind: str) -> Listing:
    """A listing created and submitted by the official, as the API does it (committed)."""
    actor = setup["official"]
    # After every synthetic listing's window (they end within about 960 days): no match candidates.
    start = timezone.localdate() + datetime.timedelta(days=1100)
    payload: dict[str, Any] = {
        "direction": "demand",
        "scheme_type": "seasonal",
        "starts_on": start.isoformat(),
        "ends_on": (start + datetime.timedelta(days=200)).isoformat(),
        "application_deadline": (start - datetime.timedelta(days=30)).isoformat(),
    }
    if kind == "fanout":
        payload |= {
            "title": "Apple harvest, Trentino",
            "visibility": "members",
            "occupation_lines": [{"isco_code": "9211", "quantity": 400}],
        }
    else:
        payload |= {
            "title": "Plumbers for geothermal plants",
            "visibility": "partners",
            "partner_countries": [RECEIVING_COUNTRY],
            "occupation_lines": [{"isco_code": "7126", "quantity": 20}],
        }
    with tenant_scope(actor):
        body = ListingWriteSerializer(data=payload, context={"actor": actor})
        body.is_valid(raise_exception=True)
        listing = listing_create(actor=actor, data=body.validated_data)
        return listing_transition(actor=actor, listing=listing, action="submit")


def _wait_until_done(listing_id: str, timeout: float) -> int:
    """Wait until the listing's deliveries and owed tasks are done; return how many deliveries it had."""
    deadline = time.monotonic() + timeout
    with unscoped("the benchmark waits for its own deliveries"):
        deliveries = Delivery.objects.filter(event__data__listing_id=listing_id)
        tasks = OutboxTask.objects.filter(kwargs__listing_id=listing_id, status=OutboxStatus.PENDING)
        while time.monotonic() < deadline:
            if not deliveries.filter(status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED)).exists() and not (
                tasks.exists()
            ):
                return deliveries.count()
            time.sleep(0.1)
    raise CommandError(f"The deliveries and tasks of listing {listing_id} were not done within {timeout:.0f} s")


def _stop(worker: subprocess.Popen[bytes]) -> None:
    """Warm shutdown (SIGTERM), then SIGKILL to the worker's own process group if it hangs."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)


def _cleanup(listings: list[str], channels: list[Any]) -> None:
    """Delete what the benchmark wrote (the audit rows stay: the table is append-only)."""
    with unscoped("the benchmark deletes its own rows"):
        Event.objects.filter(data__listing_id__in=listings).delete()
        Channel.objects.filter(pk__in=channels).delete()
        OutboxTask.objects.filter(kwargs__listing_id__in=listings).delete()
        Listing.objects.filter(pk__in=listings).delete()
        User.objects.filter(email__startswith=f"{SLUG}-").delete()
        Organisation.objects.filter(slug__startswith=f"{SLUG}-").delete()


def _results(runs: dict[str, list[dict[str, Any]]], *, world: int, webhooks: int, concurrency: int) -> dict[str, Any]:
    def side(rows: list[dict[str, Any]]) -> dict[str, Any]:
        pick: Callable[[str], list[float]] = lambda key: [row[key] for row in rows]  # noqa: E731
        return {
            "first_webhook_ms": summary(pick("first_webhook_ms")),
            "last_webhook_ms": summary(pick("last_webhook_ms")),
            "approval_ms": summary(pick("approval_ms")),
            "webhooks": rows[0]["webhooks"],
            "deliveries": max(row["deliveries"] for row in rows),
            "runs": rows,
        }

    fanout, baseline = side(runs["fanout"]), side(runs["baseline"])
    return {
        "subscriptions": world,
        "webhook_subscriptions": webhooks,
        "approvals": len(runs["fanout"]),
        "concurrency": concurrency,
        "fanout": fanout,
        "baseline": baseline,
        "ratio_p50": fanout["first_webhook_ms"]["p50"] / baseline["first_webhook_ms"]["p50"],
        "ratio_p95": fanout["first_webhook_ms"]["p95"] / baseline["first_webhook_ms"]["p95"],
        "target_p95_ms": 5000,
    }
