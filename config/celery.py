"""The Celery application: ``celery -A config worker`` / ``celery -A config beat``.

Configuration comes from Django settings (``CELERY_*``). Every queue is declared
in ``CELERY_TASK_QUEUES`` so a bare worker consumes them all; routes send each family of
tasks to its queue so that operators can scale them separately. All beat schedules
live in ``config/beat.py``.
"""

import os

from celery import Celery

from config import observability

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("corridor")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_configure.connect
def _set_visibility_timeout(sender: Celery, **kwargs: object) -> None:
    """The third place the visibility timeout must be set (celery #7651, #9339): ``app.conf``
    itself, besides the broker and result backend transport options from the settings."""
    from django.conf import settings

    sender.conf.visibility_timeout = settings.CELERY_VISIBILITY_TIMEOUT


@app.on_after_configure.connect
def _recycle_children(sender: Celery, **kwargs: object) -> None:
    """Replace a prefork child after ``WORKER_MAX_TASKS_PER_CHILD`` tasks, or when it holds more than
    ``WORKER_MAX_MEMORY_PER_CHILD`` KiB after a task; 0 in either setting turns that limit off."""
    from django.conf import settings

    sender.conf.worker_max_tasks_per_child = settings.WORKER_MAX_TASKS_PER_CHILD or None
    sender.conf.worker_max_memory_per_child = settings.WORKER_MAX_MEMORY_PER_CHILD or None


# Settings Celery reads for every message it publishes that ours leave at Celery's default:
# each read missed in Django's settings under two names before reaching the default, about
# 0.1 ms a read on a busy machine and a third of a delivery's publishing in
# ``manage.py bench_relay``. Copied into app.conf once, with the same values, each is a
# dictionary hit.
READ_PER_PUBLISH = ("task_repr_maxlevels", "task_send_sent_event", "broker_pool_acquire_timeout")


@app.on_after_configure.connect
def _pin_settings_read_per_publish(sender: Celery, **kwargs: object) -> None:
    sender.conf.update({key: sender.conf[key] for key in READ_PER_PUBLISH})


@app.on_after_configure.connect
def _install_beat_schedule(sender: Celery, **kwargs: object) -> None:
    from config.beat import BEAT_SCHEDULE

    sender.conf.beat_schedule = BEAT_SCHEDULE


app.autodiscover_tasks()

# The request id travels from the request that publishes a task to the worker that runs it.
observability.install_celery_signals()


@app.task(name="corridor.ping", queue="default")
def ping() -> str:
    """Health probe: a worker that answers is consuming the default queue."""
    return "pong"
