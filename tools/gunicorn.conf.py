"""Gunicorn settings for Corridor: ``gunicorn config.wsgi:application -c tools/gunicorn.conf.py``.

Logs go through Django's LOGGING (one JSON access line per request from
config.observability), so gunicorn's own access log stays off. With
``PROMETHEUS_MULTIPROC_DIR`` set, every worker writes its metrics to files there and
``/metrics`` on any worker reports all of them; a worker's files are marked dead when
it exits. The directory must be empty when gunicorn starts.
"""

from __future__ import annotations

import os
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
accesslog = None
errorlog = "-"


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
