"""Fixtures of the fault suite (docs/reliability.md): real Redis, real workers, a scripted
receiver and a local SMTP server, each cleaned up by its fixture whatever the test did.

Every test here commits for real (``transaction=True``) because workers in other
processes must see its rows; the reference data that migrations load is restored
after each test from its serialised copy (``serialized_rollback``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

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
def start_worker(
    tmp_path: Path, transactional_db: None, django_db_serialized_rollback: None
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start prefork worker processes on the test database; all are killed before the database is reset."""
    workers: list[WorkerProcess] = []

    def start(broker_url: str, *, smtp_port: int | None = None, ready: bool = True, **env: str) -> WorkerProcess:
        worker = WorkerProcess(
            tmp_path / f"worker-{len(workers)}.log", process_env(broker_url=broker_url, smtp_port=smtp_port, **env)
        )
        workers.append(worker)
        if ready:
            worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


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
