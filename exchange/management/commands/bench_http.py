"""``manage.py bench_http``: Corridor behind gunicorn against a bare psycopg + orjson app
running the same SQL (issue 15, scenarios 1–3).

For each request it first captures the statements Corridor runs (Django's test
client, on the data ``generate_load_data`` wrote), then starts two gunicorns with
the same settings (``gunicorn.conf.py``, 2 sync workers, DEBUG=0, persistent
connections): Corridor, and ``bench.baseline_app`` serving those statements. It
checks both bodies hold the same listing ids, then alternates single requests
(A, B, A, B, …) after a warm-up and reports the median and the 99th percentile of
each and their ratio; for the list, also requests per second with 8 concurrent
connections, alternating A and B in slices. Nothing is written but a token.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tenancy import unscoped
from exchange.loadgen import BENCH_EMAIL, bench_token
from opportunities.models import Listing

LIST = "/api/v1/listings/?occupation=92&partner_country=MA&page_size=50"
# BENCH_HTTP_PORT moves both servers (the candidate on it, the baseline on the next port), for
# two benchmarks on one machine.
_PORT = int(os.environ.get("BENCH_HTTP_PORT", "8761"))
PORTS = {"candidate": _PORT, "baseline": _PORT + 1}


def scenarios(listing_id: str) -> dict[str, dict[str, Any]]:
    """name → the request, its target ratio (p50) and whether the body is JSON with ``results``."""
    return {
        "1. listing list (ISCO 92, partner MA, 50)": {"url": LIST, "target": 2.0, "p99": 2.5, "json": True},
        "2. listing detail": {"url": f"/api/v1/listings/{listing_id}/", "target": 2.0, "json": True},
        "3a. listings page, signed in (HTML)": {
            "url": "/listings/?occupation=92&partner_country=MA",
            "target": 3.0,
            "json": False,
            "session": True,
        },
        "3b. public listings page (HTML)": {"url": "/public/listings/", "target": 3.0, "json": False},
    }


class Command(BaseCommand):
    help = "Corridor behind gunicorn against a bare psycopg + orjson app running the same SQL (same-run ratios)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=200, help="Timed requests per side and scenario.")
        parser.add_argument("--warmup", type=int, default=20)
        parser.add_argument("--seconds", type=float, default=4.0, help="Each throughput slice (8 connections).")
        parser.add_argument("--json", help="Write the figures to this file.")

    def handle(self, *args: Any, **options: Any) -> None:
        _org, secret = bench_token()
        with unscoped("the benchmark reads one published listing of the synthetic world"):
            listing_id = str(
                Listing.objects.filter(status="published", visibility="members").values_list("pk", flat=True)[0]
            )
            user = User.objects.get(email=BENCH_EMAIL)
        client = Client()
        client.force_login(user)
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        headers = {"candidate": {"Authorization": f"Token {secret}"}, "baseline": {}}
        plan = scenarios(listing_id)
        captured = {}
        for scenario in plan.values():
            test_client = client if scenario.get("session") else Client(HTTP_AUTHORIZATION=f"Token {secret}")
            captured[scenario["url"]] = _capture(test_client, scenario)
        results: dict[str, Any] = {}
        with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as sql_file:
            sql_file.write(orjson.dumps(captured))
        servers = _start(sql_file.name)
        try:
            for name, scenario in plan.items():
                extra = {"Cookie": cookie} if scenario.get("session") else headers["candidate"]
                figures = self._scenario(scenario, {"candidate": extra, "baseline": {}}, options)
                figures["queries"] = len(captured[scenario["url"]]["statements"])
                results[name] = figures
                self.stdout.write(
                    f"{name:<44} p50 {figures['candidate_p50']:7.2f} / {figures['baseline_p50']:7.2f} ms "
                    f"= {figures['ratio_p50']:5.2f}×   p99 ratio {figures['ratio_p99']:5.2f}×   "
                    f"({figures['queries']} statements, same ids: {figures['same_ids']})"
                )
            throughput = self._throughput(plan["1. listing list (ISCO 92, partner MA, 50)"], headers, options)
            results["1. listing list, 8 connections"] = throughput
            self.stdout.write(
                f"{'1. listing list, 8 connections':<44} {throughput['candidate_rps']:7.1f} / "
                f"{throughput['baseline_rps']:7.1f} req/s = {throughput['ratio']:5.2f}×"
            )
        finally:
            for process in servers:
                os.killpg(process.pid, signal.SIGTERM)
            for process in servers:
                process.wait(timeout=30)
            os.unlink(sql_file.name)
        if options["json"]:
            Path(options["json"]).write_text(json.dumps(results, indent=2))

    def _scenario(self, scenario: dict[str, Any], headers: dict[str, dict[str, str]], options: Any) -> dict[str, Any]:
        url = scenario["url"]
        conns = {side: http.client.HTTPConnection("127.0.0.1", port) for side, port in PORTS.items()}
        bodies = {side: _get(conns[side], url, headers[side])[1] for side in PORTS}
        same = _same_ids(scenario, bodies)
        for _ in range(options["warmup"]):
            for side in PORTS:
                _get(conns[side], url, headers[side])
        times: dict[str, list[float]] = {side: [] for side in PORTS}
        for n in range(options["requests"]):
            order = ("candidate", "baseline") if n % 2 == 0 else ("baseline", "candidate")
            for side in order:
                times[side].append(_get(conns[side], url, headers[side])[0])
        p50 = {side: statistics.median(t) for side, t in times.items()}
        p99 = {side: statistics.quantiles(t, n=100)[98] for side, t in times.items()}
        return {
            "url": url,
            "candidate_p50": p50["candidate"],
            "baseline_p50": p50["baseline"],
            "candidate_p99": p99["candidate"],
            "baseline_p99": p99["baseline"],
            "ratio_p50": p50["candidate"] / p50["baseline"],
            "ratio_p99": p99["candidate"] / p99["baseline"],
            "target": scenario["target"],
            "target_p99": scenario.get("p99"),
            "same_ids": same,
            "bytes": {side: len(body) for side, body in bodies.items()},
        }

    def _throughput(self, scenario: dict[str, Any], headers: dict[str, dict[str, str]], options: Any) -> dict[str, Any]:
        done: dict[str, list[int]] = {"candidate": [], "baseline": []}
        for _round in range(3):
            for side in ("candidate", "baseline") if _round % 2 == 0 else ("baseline", "candidate"):
                done[side].append(_load(side, scenario["url"], headers[side], options["seconds"], clients=8))
        rps = {side: statistics.median(counts) / options["seconds"] for side, counts in done.items()}
        return {
            "candidate_rps": rps["candidate"],
            "baseline_rps": rps["baseline"],
            "ratio": rps["candidate"] / rps["baseline"],
            "target": 0.5,
        }


def _capture(client: Client, scenario: dict[str, Any]) -> dict[str, Any]:
    """The SELECTs a Corridor request runs, and which of them returns the page's listings."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(scenario["url"])
    if response.status_code != 200:
        raise AssertionError(f"{scenario['url']} answered {response.status_code}")
    statements = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    ids = _candidate_ids(scenario, response.content)
    page = None
    with connection.cursor() as cursor:
        for n, sql in enumerate(statements):
            cursor.execute(sql)
            rows = cursor.fetchall() if cursor.description else []
            if rows and ids and [str(row[0]) for row in rows] == ids:
                page = n
    return {"statements": statements, "page": page, "ids": ids}


def _candidate_ids(scenario: dict[str, Any], body: bytes) -> list[str]:
    if scenario["json"]:
        data = orjson.loads(body)
        return [row["id"] for row in data["results"]] if "results" in data else [data["id"]]
    # The pages link each listing by its id, in order.
    return [m.decode() for m in dict.fromkeys(re.findall(rb"/listings/([0-9a-f-]{36})/", body))]


def _same_ids(scenario: dict[str, Any], bodies: dict[str, bytes]) -> bool:
    baseline = [str(i) for i in orjson.loads(bodies["baseline"])["ids"]]
    if scenario["json"]:
        return _candidate_ids(scenario, bodies["candidate"]) == baseline
    return bool(baseline) and _candidate_ids(scenario, bodies["candidate"]) == baseline


def _get(conn: http.client.HTTPConnection, url: str, headers: dict[str, str]) -> tuple[float, bytes]:
    started = time.perf_counter()
    conn.request("GET", url, headers=headers)
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise AssertionError(f"{url}: {response.status} {body[:200]!r}")
    return elapsed, body


def _load(side: str, url: str, headers: dict[str, str], seconds: float, *, clients: int) -> int:
    """Requests completed by ``clients`` keep-alive connections in ``seconds``."""
    counts = [0] * clients
    deadline = time.perf_counter() + seconds

    def run(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORTS[side])
        while time.perf_counter() < deadline:
            _get(conn, url, headers)
            counts[n] += 1

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts)


def _start(sql_file: str) -> list[subprocess.Popen[bytes]]:
    base = Path(settings.BASE_DIR)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    env = {
        **os.environ,
        "DEBUG": "0",
        "GUNICORN_WORKERS": "2",
        "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "600"),
        "API_THROTTLE_USER": "100000000/hour",
        "API_THROTTLE_ANON": "100000000/hour",
        "BENCH_SQL_FILE": sql_file,
        "GUNICORN_MAX_REQUESTS": "0",
    }
    processes = []
    for side, app in (("candidate", "config.wsgi"), ("baseline", "bench.baseline_app:application")):
        processes.append(
            subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
                [gunicorn, "-c", str(base / "gunicorn.conf.py"), "-b", f"127.0.0.1:{PORTS[side]}", app],
                cwd=base,
                env={**env, "GUNICORN_BIND": f"127.0.0.1:{PORTS[side]}"},
                start_new_session=True,
            )
        )
    for port in PORTS.values():
        _wait_for(port)
    return processes


def _wait_for(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")
