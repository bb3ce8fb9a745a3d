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


def test_the_visibility_timeout_is_set_in_all_three_places_celery_reads_it():
    expected = settings.CELERY_VISIBILITY_TIMEOUT
    assert app.conf.broker_transport_options["visibility_timeout"] == expected
    assert app.conf.result_backend_transport_options["visibility_timeout"] == expected
    assert app.conf.visibility_timeout == expected


def test_a_dead_broker_cannot_hold_a_publish_and_a_lost_worker_gives_its_task_back():
    options = app.conf.broker_transport_options
    assert 0 < options["socket_timeout"] <= 2
    assert 0 < options["socket_connect_timeout"] <= 2
    assert 0 < app.conf.broker_connection_timeout <= 2
    assert app.conf.task_publish_retry_policy["max_retries"] <= 2
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is True
    assert app.conf.worker_soft_shutdown_timeout > 0


def test_every_task_goes_to_a_declared_queue():
    app.loader.import_default_modules()
    declared = set(settings.CELERY_TASK_QUEUE_NAMES)
    ours = {name: task for name, task in app.tasks.items() if not name.startswith(("celery.", "tests."))}
    assert {"exchange.match_listing", "accounts.send_email", "exchange.sweep_outbox"} <= set(ours)
    for name, task in ours.items():
        assert (getattr(task, "queue", None) or settings.CELERY_TASK_DEFAULT_QUEUE) in declared, name
    assert app.tasks["exchange.match_listing"].queue == "matching"
    assert app.tasks["accounts.send_email"].queue == "email"
    assert app.tasks["exchange.import_profile"].queue == "imports"


def test_worker_children_are_recycled_as_the_settings_say_and_zero_turns_recycling_off():
    """WORKER_MAX_TASKS_PER_CHILD / WORKER_MAX_MEMORY_PER_CHILD reach the worker's configuration
    (1000 tasks, 400000 KiB by default); 0 turns each off, as ``make soak`` does to measure growth."""
    import os
    import subprocess
    import sys

    assert app.conf.worker_max_tasks_per_child == settings.WORKER_MAX_TASKS_PER_CHILD == 1000
    assert app.conf.worker_max_memory_per_child == settings.WORKER_MAX_MEMORY_PER_CHILD == 400000

    def configured(tasks: str, memory: str) -> str:
        env = {**os.environ, "WORKER_MAX_TASKS_PER_CHILD": tasks, "WORKER_MAX_MEMORY_PER_CHILD": memory}
        read = (
            "from config.celery import app; c = app.conf; "
            "print(c.worker_max_tasks_per_child, c.worker_max_memory_per_child)"
        )
        return subprocess.run(
            [sys.executable, "-c", read], env=env, capture_output=True, text=True, check=True, timeout=120
        ).stdout.strip()

    assert configured("0", "0") == "None None"
    assert configured("50", "250000") == "50 250000"


def test_the_settings_read_on_every_publish_keep_celerys_defaults():
    from celery.app.defaults import DEFAULTS

    from config.celery import READ_PER_PUBLISH

    for key in READ_PER_PUBLISH:
        assert key in app.conf.changes, key  # found at the first lookup, not after misses
        assert app.conf[key] == DEFAULTS[key], key
