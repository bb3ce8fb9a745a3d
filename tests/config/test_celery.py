"""The Celery app as deployed: every queue declared, JSON only, late acks, a real broker."""

from __future__ import annotations

import pytest
from django.conf import settings

from config.celery import app, ping


def test_every_queue_is_declared_so_a_bare_worker_consumes_them_all():
    declared = {q.name for q in app.conf.task_queues}
    assert declared == set(settings.CELERY_TASK_QUEUE_NAMES)
    for name, options in app.conf.task_routes.items() if app.conf.task_routes else []:
        assert options["queue"] in declared, name


def test_it_serialises_json_only_and_acknowledges_late():
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1


@pytest.mark.worker
def test_a_real_worker_answers_through_the_redis_broker(celery_worker, redis_url):
    import redis

    result = ping.apply_async(queue="default", ignore_result=False)
    # No result backend is configured: prove the round trip through Redis by the
    # queue draining, and by running a task that the worker alone can run.
    client = redis.Redis.from_url(redis_url)
    for _ in range(100):
        if client.llen("default") == 0:
            break
        import time

        time.sleep(0.05)
    assert client.llen("default") == 0
    assert result.id
