"""``manage.py bench_relay``: deliveries handed to the broker per second, against raw Redis LPUSH.

Scenario 8 of issue 15. A delivery reaches the broker in two steps
(``exchange.notifications.events.enqueue``): after the fan-out commits, its pending
deliveries are handed over in chunks of ``ENQUEUE_CHUNK`` (one ``exchange.deliver_many``
message each); a worker splits each chunk into one ``exchange.deliver`` message per
delivery, on its channel's queue (``deliveries_publish``: the chunk's rows in one
statement, its messages in one Redis pipeline). The sweeper (``deliveries_sweep``) hands
over due rows the same way.

The benchmark writes ``--deliveries`` pending deliveries (the world's inbox channels,
as many events as needed), then times both steps in this process: ``enqueue`` of all
of them, and ``deliver_many``'s own body for each chunk, as the worker runs it. That
is deliveries published per second, one Celery message per delivery (plus one per
chunk), through the real Celery and kombu publishing path to the real Redis.

The baseline is ``redis-benchmark -t lpush -d 1024 -n N -q`` against the same Redis
server and database, run between the relay's rounds (``--clients`` connections, 50 by
default as redis-benchmark's own default; one connection too, for reference: the relay
publishes from one connection, one pipeline per chunk).

Nothing is left behind: the deliveries are written in a transaction that is rolled
back; the messages go to queues under a key prefix of this run's own (kombu's
``global_keyprefix``), beside the real queues, and are counted, then deleted; the list
redis-benchmark pushes to is removed (or trimmed back, if it existed).
"""

from __future__ import annotations

import math
import re
import shutil
import statistics
import subprocess
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, OrganisationKind
from accounts.tenancy import unscoped
from exchange.management.bench_support import Rollback, Statements, celery_broker, write_json
from exchange.models import Channel, ChannelState, ChannelType, Delivery, DeliveryStatus, Event, Subscription
from exchange.notifications.events import ENQUEUE_CHUNK, enqueue
from exchange.tasks import deliver_many

PAYLOAD_BYTES = 1024
BENCH_LIST = "mylist"  # the key redis-benchmark's LPUSH test writes


class Command(BaseCommand):
    help = "Time the delivery relay (pending rows to Celery messages) against redis-benchmark LPUSH."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--deliveries", type=int, default=10_000, help="Pending deliveries relayed per round.")
        parser.add_argument("--rounds", type=int, default=3, help="Interleaved rounds (median reported).")
        parser.add_argument("--requests", type=int, default=100_000, help="redis-benchmark -n.")
        parser.add_argument("--clients", type=int, default=50, help="redis-benchmark -c.")
        parser.add_argument("--broker", default="", help="Redis URL (default: the configured broker).")
        parser.add_argument("--json", help="Write the figures to this file.")

    def handle(self, *args: Any, **options: Any) -> None:
        broker = options["broker"] or settings.REDIS_URL
        tool = shutil.which("redis-benchmark")
        if not broker or not broker.startswith("redis"):
            raise CommandError("No Redis broker: set REDIS_URL (or pass --broker).")
        if tool is None:
            raise CommandError("redis-benchmark is not on PATH (Debian: apt-get install redis-tools).")
        rounds, size = max(1, options["rounds"]), max(1, options["deliveries"])
        relay: list[dict[str, Any]] = []
        raw: list[float] = []
        raw_one: list[float] = []
        try:
            with unscoped("a benchmark over the synthetic world's channels"), transaction.atomic():
                ids = _pending_deliveries(size)
                prefix = f"corridor-bench-relay-{uuid.uuid4().hex[:12]}:"
                with celery_broker(broker, key_prefix=prefix):
                    _relay(ids, broker, prefix)  # warm-up: imports, connections, the bindings declared
                    for _round in range(rounds):
                        relay.append(_relay(ids, broker, prefix))
                        raw.append(_redis_benchmark(tool, broker, options["requests"], options["clients"]))
                        raw_one.append(_redis_benchmark(tool, broker, max(1, options["requests"] // 5), 1))
                raise Rollback
        except Rollback:
            pass
        relay_per_s = statistics.median(row["per_s"] for row in relay)
        raw_per_s = statistics.median(raw)
        results = {
            "deliveries": size,
            "messages": relay[0]["messages"],
            "message_bytes": relay[0]["message_bytes"],
            "statements": relay[0]["statements"],
            "relay_ms": statistics.median(row["ms"] for row in relay),
            "relay_per_s": relay_per_s,
            "raw_per_s": raw_per_s,
            "raw_clients": options["clients"],
            "raw_per_s_1_client": statistics.median(raw_one),
            "payload_bytes": PAYLOAD_BYTES,
            "ratio": relay_per_s / raw_per_s,
            "ratio_1_client": relay_per_s / statistics.median(raw_one),
            "target": 0.10,
            "rounds": {"relay": relay, "raw_per_s": raw, "raw_per_s_1_client": raw_one},
        }
        write_json(options["json"], results)
        self.stdout.write(
            f"Delivery relay: {size:,} pending deliveries → {results['messages']:,} Celery messages "
            f"({results['message_bytes']:,} bytes each), {results['statements']} statements\n"
            f"  relay               {relay_per_s:10,.0f} deliveries/s  ({results['relay_ms']:.0f} ms)\n"
            f"  redis-benchmark     {raw_per_s:10,.0f} LPUSH/s  ({options['clients']} clients, {PAYLOAD_BYTES} bytes)\n"
            f"  redis-benchmark     {results['raw_per_s_1_client']:10,.0f} LPUSH/s  (1 client)\n"
            f"  ratio               {results['ratio']:10.3f}   ({results['ratio_1_client']:.3f} of one client's)\n"
        )


def _pending_deliveries(count: int) -> list[str]:
    """``count`` pending deliveries on the world's inbox channels (events enough to reach it)."""
    channels = list(
        Channel.objects.filter(type=ChannelType.INBOX, state=ChannelState.ACTIVE)
        .order_by("pk")
        .values_list("pk", "subscription_id", "organisation_id")[:count]
    )
    if not channels:
        organisation = Organisation.objects.create(
            name="Benchmark relay", slug=f"bench-relay-{uuid.uuid4().hex[:8]}", kind=OrganisationKind.AGENCY
        )
        subscription = Subscription.objects.create(organisation=organisation, name="Benchmark relay")
        channel = Channel.objects.create(subscription=subscription, organisation=organisation, type=ChannelType.INBOX)
        channels = [(channel.pk, subscription.pk, organisation.pk)]
    events = Event.objects.bulk_create(
        Event(type="listing.published", data={"title": f"Benchmark relay {n}"})
        for n in range(math.ceil(count / len(channels)))
    )
    now = timezone.now()
    rows = [
        Delivery(
            event=events[n // len(channels)],
            subscription_id=channels[n % len(channels)][1],
            channel_id=channels[n % len(channels)][0],
            organisation_id=channels[n % len(channels)][2],
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
        )
        for n in range(count)
    ]
    Delivery.objects.bulk_create(rows, batch_size=5000)
    return [str(row.pk) for row in rows]


def _relay(ids: list[str], broker: str, prefix: str) -> dict[str, Any]:
    """Hand ``ids`` to the broker as production does; count and delete the messages."""
    with Statements() as statements:
        started = time.perf_counter()
        enqueue(ids)  # after the fan-out's commit: one deliver_many message per chunk
        for start in range(0, len(ids), ENQUEUE_CHUNK):
            deliver_many(ids[start : start + ENQUEUE_CHUNK])  # each chunk, as a worker runs it
        elapsed = time.perf_counter() - started
    messages, message_bytes = _drain(broker, prefix)
    expected = len(ids) + math.ceil(len(ids) / ENQUEUE_CHUNK)
    if messages != expected:
        raise AssertionError(f"{messages} messages reached the broker, {expected} were published")
    return {
        "ms": elapsed * 1000,
        "per_s": len(ids) / elapsed,
        "messages": messages,
        "message_bytes": message_bytes,
        "statements": statements.count,
    }


def _redis(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


def _drain(broker: str, prefix: str) -> tuple[int, int]:
    """Messages under ``prefix`` and the size of one ``deliver`` message; then delete every key."""
    client = _redis(broker)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    messages = sum(client.llen(key) for key in keys if client.type(key) == b"list")
    sample = client.lindex(f"{prefix}inbox", 0)
    if keys:
        client.delete(*keys)
    return messages, len(sample or b"")


def _redis_benchmark(tool: str, broker: str, requests: int, clients: int) -> float:
    """redis-benchmark LPUSH requests per second against the broker's server and database."""
    url = urlsplit(broker)
    database = (url.path or "/0").lstrip("/") or "0"
    client = _redis(broker)
    existed = client.exists(BENCH_LIST)
    command = [tool, "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 6379), "--dbnum", database]
    if url.password:
        command += ["-a", url.password, "--no-auth-warning"]
    command += ["-t", "lpush", "-d", str(PAYLOAD_BYTES), "-n", str(requests), "-c", str(clients), "-q"]
    try:
        output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600).stdout  # noqa: S603
    finally:
        if existed:
            client.ltrim(BENCH_LIST, requests, -1)  # what was there before stays; ours went to the head
        else:
            client.delete(BENCH_LIST)
    found = re.findall(r"LPUSH: ([\d.]+) requests per second", output)
    if not found:
        raise CommandError(f"Could not read redis-benchmark's output: {output[-300:]!r}")
    return float(found[-1])
