"""Fixtures of the fault suite (docs/reliability.md): real Redis, real workers, a scripted
receiver and a local SMTP server, each cleaned up by its fixture whatever the test did.

Every test here commits for real (``transaction=True``) because workers in other
processes must see its rows, so each test ends with a flush that also takes the
reference data the migrations loaded (ISCO, ISIC, languages, currencies).
``serialized_rollback`` would reload it through the ORM, which costs tens of seconds
a test on a busy 2-core machine; ``_reference_data`` below copies it back with
``COPY`` from a snapshot taken once per session instead.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from accounts.models import Organisation, User
from accounts.tenancy import Actor
from tests.factories import OrganisationFactory, member
from tests.reliability.harness import (
    RedisServer,
    ScriptedReceiver,
    SmtpServer,
    WorkerProcess,
    celery_publishing_to,
    process_env,
)

# Rebuilt by the flush itself (post_migrate), or never flushed.
_NOT_REFERENCE = {"django_migrations", "django_content_type", "auth_permission"}


def _has_rows(cursor: Any, table: str) -> bool:
    cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")')  # noqa: S608 - a table name from introspection
    return bool(cursor.fetchone()[0])


def _tables_with_rows() -> set[str]:
    with connection.cursor() as cursor:
        return {
            table
            for table in connection.introspection.django_table_names(only_existing=True, include_views=False)
            if _has_rows(cursor, table)
        } - _NOT_REFERENCE


@pytest.fixture(scope="session")
def reference_snapshot(django_db_setup: None, django_db_blocker: Any) -> dict[str, bytes]:
    """The rows of every table the migrations filled, as ``COPY`` data, taken once per session."""
    with django_db_blocker.unblock():
        tables = _tables_with_rows()
        if not tables:  # an earlier transactional test flushed them: reload Django's serialised copy once
            contents = getattr(connection, "_test_serialized_contents", None)
            assert contents, "the reference data is gone and no serialised copy exists; run with --create-db"
            connection.creation.deserialize_db_from_string(contents)
            tables = _tables_with_rows()
        snapshot = {}
        with connection.cursor() as cursor:
            for table in sorted(tables):
                buffer = io.BytesIO()
                with cursor.connection.cursor().copy(f'COPY "{table}" TO STDOUT') as copy:
                    for chunk in copy:
                        buffer.write(chunk)
                snapshot[table] = buffer.getvalue()
        return snapshot


def restore_reference_data(snapshot: dict[str, bytes]) -> None:
    """Put the reference data back if a flush took it (foreign keys are deferred until commit)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for table, rows in snapshot.items():
            if _has_rows(cursor, table):
                continue
            with cursor.connection.cursor().copy(f'COPY "{table}" FROM STDIN') as copy:
                copy.write(rows)


@pytest.fixture(autouse=True)
def _reference_data(reference_snapshot: dict[str, bytes], django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        restore_reference_data(reference_snapshot)


@pytest.fixture(autouse=True)
def _short_timings(settings: Any) -> None:
    """The same short timings the worker processes get from their environment (harness.process_env)."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.NOTIFICATION_RETRY_SCHEDULE = [0, 1, 1, 1]
    settings.NOTIFICATION_RETRY_JITTER = 0
    settings.NOTIFICATION_SWEEP_AFTER_SECONDS = 0
    settings.NOTIFICATION_CLAIM_SECONDS = 3


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def broker(redis_server: RedisServer) -> Iterator[RedisServer]:
    """The test process publishes to the private Redis, as a web process would."""
    with celery_publishing_to(redis_server.url):
        yield redis_server


@pytest.fixture
def smtp() -> Iterator[Callable[..., SmtpServer]]:
    servers: list[SmtpServer] = []

    def make(**options: Any) -> SmtpServer:
        server = SmtpServer(**options)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def receiver() -> Iterator[Callable[..., ScriptedReceiver]]:
    receivers: list[ScriptedReceiver] = []

    def make(*args: Any, **kwargs: Any) -> ScriptedReceiver:
        r = ScriptedReceiver(*args, **kwargs)
        receivers.append(r)
        return r

    yield make
    for r in receivers:
        r.close()


@pytest.fixture
def worker_thread(transactional_db: None) -> Iterator[Callable[[str], object]]:
    """A real Celery worker (solo pool) in a thread of the test process, for faults that are not the worker's.

    Like ``tests.plugins.services.worker_factory``, without its serialised rollback (see the module docstring).
    """
    from contextlib import ExitStack

    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    stack = ExitStack()

    def start(broker_url: str) -> object:
        assert app.conf.broker_url == broker_url, "publish and consume through the same broker (the broker fixture)"
        return stack.enter_context(
            start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30)
        )

    yield start
    stack.close()


@pytest.fixture
def start_worker(transactional_db: None) -> Iterator[Callable[..., WorkerProcess]]:
    """Start prefork worker processes on the test database; all are killed before the database is reset.

    Their logs go to a directory of the fixture's own (pytest's tmp_path root is shared by every
    pytest run of the machine's user and pruned by them), printed when a worker does not start.
    """
    workers: list[WorkerProcess] = []
    logs = Path(tempfile.mkdtemp(prefix="corridor-fault-workers-"))

    def start(
        broker_url: str, *, smtp_port: int | None = None, ready: bool = True, concurrency: int = 2, **env: str
    ) -> WorkerProcess:
        worker = WorkerProcess(
            logs / f"worker-{len(workers)}.log",
            process_env(broker_url=broker_url, smtp_port=smtp_port, **env),
            concurrency=concurrency,
        )
        workers.append(worker)
        if ready:
            worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()
    shutil.rmtree(logs, ignore_errors=True)


# --- The world --------------------------------------------------------------------------------------


@pytest.fixture
def moldova(db: Any) -> Organisation:
    return OrganisationFactory(
        name="Ministry of Labour and Social Protection", slug="md-labour", country="MD", is_origin=True
    )


@pytest.fixture
def mihai(moldova: Organisation) -> User:
    return member(moldova, "official", email="mihai@social.gov.example", full_name="Mihai Rusu")


@pytest.fixture
def ana(moldova: Organisation) -> User:
    """Moldova's admin: told when its webhook endpoint is paused or disabled."""
    return member(moldova, "admin", email="ana@social.gov.example", full_name="Ana Ciobanu")


@pytest.fixture
def italy_official(italy: Organisation, bob: User) -> Actor:
    return Actor(user=bob, organisation=italy, role="official")


@pytest.fixture
def moldova_official(moldova: Organisation, mihai: User) -> Actor:
    return Actor(user=mihai, organisation=moldova, role="official")
