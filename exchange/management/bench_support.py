"""What the benchmark commands of issue 15 share: a broker of their own, the database's URL
for a subprocess, percentiles, and the exception that rolls their data back.

Not imported by the application: only by ``manage.py bench_*`` and their tests.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.db import connection


class Rollback(Exception):
    """Raised to roll a benchmark's own data back."""


class Statements:
    """Counts the SQL statements this connection runs inside ``with Statements() as counted:``."""

    def __init__(self) -> None:
        self.count = 0
        self._wrapper: Any = None

    def __call__(self, execute: Callable[..., Any], *args: Any) -> Any:
        self.count += 1
        return execute(*args)

    def __enter__(self) -> Statements:
        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._wrapper.__exit__(*exc)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(values),
        "p95": percentile(values, 0.95),
        "min": min(values),
        "max": max(values),
    }


def write_json(path: str | None, results: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps(results, indent=2, default=str))


def database_url() -> str:
    """The URL of the database this process uses (a test's own included), for a subprocess."""
    db = connection.settings_dict
    user = quote(str(db["USER"] or ""))
    password = f":{quote(str(db['PASSWORD']))}" if db.get("PASSWORD") else ""
    if str(db["HOST"]).startswith("/"):
        return f"postgresql://{user}{password}@/{db['NAME']}?host={db['HOST']}"
    return f"postgresql://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def reset_broker_connections(app: Any) -> None:
    """Drop pooled broker connections so the next publish uses the current ``broker_url``.

    kombu keeps producer pools in a process-wide registry keyed by broker URL, so the
    registry is reset too: otherwise a pool closed here would be handed out again for the
    same URL ("Acquire on closed pool").
    """
    from kombu import pools

    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()


@contextmanager
def celery_broker(url: str, *, key_prefix: str = "") -> Iterator[Any]:
    """Publish this process's tasks to ``url`` (never inline), optionally under a key prefix.

    With ``key_prefix`` every Redis key kombu writes (the queues, the bindings) starts
    with it (the transport's ``global_keyprefix``): the messages land beside the real
    queues, never in them, and a worker of the deployment never sees them. Restores the
    application's broker afterwards.
    """
    from config.celery import app

    keys = ("broker_url", "task_always_eager", "broker_transport_options")
    saved = {key: app.conf[key] for key in keys}
    changes: dict[str, Any] = {"broker_url": url, "task_always_eager": False}
    if key_prefix:
        options = saved["broker_transport_options"] or {}
        changes["broker_transport_options"] = {**options, "global_keyprefix": key_prefix}
    app.conf.update(changes)
    reset_broker_connections(app)
    try:
        yield app
    finally:
        app.conf.update(saved)
        reset_broker_connections(app)
