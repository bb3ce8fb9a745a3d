"""``make leak-check``: look for a memory leak in one process, with tracemalloc.

The soak (tools/soak/run.py) watches whole processes from outside; this looks inside
one. It runs the soak's work in a single process: signed-in page views, API searches,
and listings posted, submitted and approved through the API, whose fan-out (matching
and the webhook deliveries to a receiver on loopback) runs in the same process through
the worker's own code, because without ``REDIS_URL`` Celery runs each task eagerly
where it is published.

After ``LEAK_WARMUP`` rounds (imports, caches, compiled templates, the database
connection) it takes a tracemalloc snapshot, runs ``LEAK_ROUNDS`` rounds, takes a
second, runs ``LEAK_ROUNDS`` more and takes a third. A leak grows by about the same
amount in both batches; a cache filling up grows in the first and stops. It prints
both batches' growth per round and the allocation sites that grew most in the second
batch, and exits 1 when the second batch grew by more than ``LEAK_BYTES_PER_ROUND``
(default 2048) per round. ``LEAK_FRAMES=8`` shows where each site was called from.
Uses ``DATABASE_URL`` when set (it adds listings there), else the embedded
PostgreSQL; ``REDIS_URL`` is ignored.
"""

from __future__ import annotations

import gc
import io
import linecache
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as soak

SEARCHES = ["harvest", "nurse", "construction", "seasonal"]
PAGES = ["/listings/", "/public/listings/", "/dashboard/", "/help/"]


def setup() -> None:
    sys.path.insert(0, str(soak.BASE_DIR))
    os.environ.pop("REDIS_URL", None)  # tasks run in this process, as a worker would run them
    if not os.environ.get("DATABASE_URL"):
        from config.embedded import start_postgres

        os.environ["DATABASE_URL"] = start_postgres()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DEBUG": "0",  # no query log kept per request
            "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
            "API_THROTTLE_USER": "10000000/hour",
            "API_THROTTLE_ANON": "10000000/hour",
            "LOG_LEVEL": "WARNING",
            "EMAIL_FILE_PATH": tempfile.mkdtemp(prefix="corridor-leak-mail-"),
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())


class Load:
    """One round: what the soak's three kinds of users do, once each.

    Requests go straight to Django's WSGI handler, as gunicorn calls it, with environs
    built by ``RequestFactory``. Not through ``django.test.Client``: each of its requests
    connects a receiver bound to the long-lived client, and the ``weakref.finalize`` that
    leaves behind would show up here as a leak of the test client's own.
    """

    def __init__(self, tokens: dict[str, str], receiver: soak.Receiver) -> None:
        from django.core.handlers.wsgi import WSGIHandler
        from django.test import Client, RequestFactory

        from accounts.management.commands.seed_demo import DEMO_PASSWORD

        self.handler = WSGIHandler()
        self.factory = RequestFactory()
        browser = Client()
        signed_in = browser.post("/accounts/login/", {"email": tokens["browser_email"], "password": DEMO_PASSWORD})
        assert signed_in.status_code == 302, f"could not sign in: {signed_in.status_code}"
        self.session_cookie = f"sessionid={browser.cookies['sessionid'].value}"
        self.tokens = tokens
        self.serial = 0
        self.errors: list[str] = []
        self.subscriptions: list[str] = []
        for label in ("ma", "sn"):
            created = self.call(
                "post",
                "/api/v1/subscriptions/",
                f"subscriber_{label}",
                201,
                json={
                    "name": f"Leak check webhook {label} {os.getpid()} {time.time():.0f}",
                    "direction": "demand",
                    "frequency": "instant",
                    "active": True,
                    "channels": [{"type": "webhook", "url": receiver.url}],
                },
            )
            assert created is not None, self.errors
            self.subscriptions.append(created["id"])

    def call(
        self, method: str, path: str, who: str | None, status: int, *, json: Any = None, params: Any = None
    ) -> Any:
        """One request through the WSGI handler; records an answer other than ``status``."""
        import json as json_module

        headers = {"HTTP_AUTHORIZATION": f"Token {self.tokens[who]}"} if who else {"HTTP_COOKIE": self.session_cookie}
        if method == "get":
            request = self.factory.get(path, params or {}, **headers)
        else:
            request = self.factory.post(path, json_module.dumps(json or {}), content_type="application/json", **headers)
        answered: list[str] = []
        body = b"".join(self.handler(request.environ, lambda code, _headers, *_: answered.append(code)))
        code = int(answered[0].split()[0])
        if code != status:
            self.errors.append(f"{method.upper()} {path.split('/0')[0]}: {code}")
            return None
        return json_module.loads(body) if body and who else None

    def round(self) -> None:
        for page in PAGES:
            self.call("get", page, None, 200)
        search = SEARCHES[self.serial % len(SEARCHES)]
        self.call("get", "/api/v1/listings/", "subscriber_ma", 200, params={"search": search})
        self.call("get", "/api/v1/public/listings/", "subscriber_sn", 200)
        self.serial += 1
        payload = {
            "direction": "demand",
            "title": f"Leak check harvest scheme {os.getpid()}-{self.serial}",
            "summary": "Seasonal harvest contracts (leak check).",
            "scheme_type": "seasonal",
            "starts_on": soak_day(60),
            "ends_on": soak_day(240),
            "application_deadline": soak_day(30),
            "partner_countries": [],
            "occupation_lines": [{"isco_code": "9211", "quantity": 10, "languages": []}],
        }
        created = self.call("post", "/api/v1/listings/", "poster", 201, json=payload)
        if created is None:
            return
        listing = created["id"]
        self.call("post", f"/api/v1/listings/{listing}/submit/", "poster", 200)
        self.call("post", f"/api/v1/listings/{listing}/approve/", "moderator", 200)


def soak_day(offset: int) -> str:
    import datetime

    return (datetime.datetime.now(tz=datetime.UTC).date() + datetime.timedelta(days=offset)).isoformat()


def snapshot() -> tracemalloc.Snapshot:
    gc.collect()
    return tracemalloc.take_snapshot().filter_traces(
        [
            tracemalloc.Filter(False, tracemalloc.__file__),
            tracemalloc.Filter(False, "<frozen importlib._bootstrap*>"),
            tracemalloc.Filter(False, "<unknown>"),
            # Python's cache of source lines, filled once per file as tracebacks are logged.
            tracemalloc.Filter(False, linecache.__file__),
            # The check's own bookkeeping: the receiver's count of every webhook-id it heard.
            tracemalloc.Filter(False, soak.__file__),
        ]
    )


def total(snap: tracemalloc.Snapshot) -> int:
    return sum(stat.size for stat in snap.statistics("filename"))


def main() -> int:
    warmup = soak.env_int("LEAK_WARMUP", 30)
    rounds = soak.env_int("LEAK_ROUNDS", 60)
    limit = soak.env_int("LEAK_BYTES_PER_ROUND", 2048)
    frames = soak.env_int("LEAK_FRAMES", 1)  # more: each site's caller chain (slower)
    setup()
    import psutil

    tokens = soak.issue_tokens()
    receiver = soak.Receiver()
    load = Load(tokens, receiver)
    me = psutil.Process()

    started = time.monotonic()
    for _ in range(warmup):
        load.round()
    tracemalloc.start(frames)
    marks = [(snapshot(), me.memory_info().rss)]
    for _batch in range(2):
        for _ in range(rounds):
            load.round()
        marks.append((snapshot(), me.memory_info().rss))
    tracemalloc.stop()
    soak.retire(load.subscriptions)

    (first, rss1), (second, rss2), (third, rss3) = marks
    batch1 = (total(second) - total(first)) / rounds
    batch2 = (total(third) - total(second)) / rounds
    print(
        f"Leak check: {warmup} warm-up rounds, then 2 x {rounds} rounds in {time.monotonic() - started:.0f} s; "
        f"each round = {len(PAGES)} pages, 2 API searches, post + submit + approve (webhooks delivered in-process)."
    )
    print(f"webhooks received: {receiver.posts}; requests not answered as expected: {len(load.errors)}")
    print(f"traced Python memory, growth per round: batch 1 {batch1:+.0f} B, batch 2 {batch2:+.0f} B (limit {limit} B)")
    print(f"RSS: {rss1 / 2**20:.1f} -> {rss2 / 2**20:.1f} -> {rss3 / 2**20:.1f} MiB")
    print("\nAllocation sites that grew most in batch 2:")
    for stat in third.compare_to(second, "traceback" if frames > 1 else "lineno")[:12]:
        print(f"  {stat.size_diff:+9d} B {stat.count_diff:+6d} blocks  {stat.traceback}")
        for line in stat.traceback.format()[2:] if frames > 1 else []:
            print(f"      {line}")
    failed = []
    if load.errors:
        failed.append(f"unexpected answers: {', '.join(sorted(set(load.errors))[:5])}")
    if receiver.posts == 0:
        failed.append("no webhook was delivered")
    if batch2 > limit:
        failed.append(f"batch 2 grew {batch2:.0f} B per round (limit {limit})")
    print(f"\n{'FAILED: ' + '; '.join(failed) if failed else 'PASSED: no growth per round beyond the limit'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
