"""What an operator sees of a running Corridor: request ids, structured logs, metrics.

* ``RequestIdMiddleware`` (first in ``MIDDLEWARE``) takes an acceptable incoming
  ``X-Request-ID`` or makes one, binds it for the request (``config.request_id``) and
  returns it in the response's ``X-Request-ID``.
* ``AccessLogMiddleware`` writes one ``corridor.access`` line per request (method,
  route pattern, status, duration, organisation id; never an e-mail or a name) and
  observes the request-latency histogram, labelled by route pattern, never by raw path.
* ``RequestIdFilter`` puts the request id (and, in a worker, the task's name) on every
  log record; ``LOG_FORMAT`` picks JSON lines or plain text (config/settings/base.py).
* The Celery signal handlers carry the id from the request that published a task into
  the worker that runs it (``install_celery_signals``, called from config/celery.py).
* ``BacklogCollector`` computes the delivery and outbox gauges when ``/metrics`` is
  scraped, with a few indexed, time-limited queries.

Task failures are derived from the database rather than counted in the workers: a
prefork worker's children each hold their own registry, and a failure that will be
retried is not a failure operators act on. What they act on is work that ran out of
attempts, which the database records as ``dead`` rows; the collector exports those.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse
from prometheus_client import REGISTRY, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from config.request_id import current_request_id, new_request_id, request_id_bound

access_logger = logging.getLogger("corridor.access")
logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
# The message header that carries the request id from the publisher to the worker.
TASK_HEADER = "corridor_request_id"

# Paths that probes and scrapers call every few seconds: their access lines are DEBUG.
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

REQUEST_LATENCY = Histogram(
    "corridor_http_request_duration_seconds",
    "Time from the first middleware to the response, by route pattern, method and status class.",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# Anything else becomes "other", so a client cannot mint label values.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "<unmatched>"
# The anchors of each regex part of a joined route ("api/v1/^listings/(?P<pk>[^/.]+)/$").
_ANCHORS = re.compile(r"(?:(?<=^)|(?<=/))\^|\$(?=/|$)")

_task_name: ContextVar[str] = ContextVar("corridor_task_name", default="")


# --- Requests --------------------------------------------------------------------------


class RequestIdMiddleware:
    """Serve the request under its id and echo the id back to the client."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        with request_id_bound(request_id):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class AccessLogMiddleware:
    """One access line and one latency observation per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = route_of(request)
        method = request.method if request.method in _METHODS else "other"
        status = response.status_code
        REQUEST_LATENCY.labels(route=route, method=method, status=f"{status // 100}xx").observe(elapsed)
        access_logger.log(
            logging.DEBUG if request.path in PROBE_PATHS else logging.INFO,
            "%s %s %s",
            method,
            route,
            status,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 1),
                "organisation_id": organisation_id_of(request, response),
            },
        )
        return response


def route_of(request: HttpRequest) -> str:
    """The URL pattern that served the request (``/api/v1/listings/(?P<pk>[^/.]+)/``), never the raw path."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED_ROUTE
    return "/" + _ANCHORS.sub("", match.route)


def organisation_id_of(request: HttpRequest, response: HttpResponse) -> str | None:
    """The acting organisation: web views put the actor on the request, API views on the view."""
    actor = getattr(request, "actor", None)
    if actor is None:
        view = (getattr(response, "renderer_context", None) or {}).get("view")
        actor = getattr(view, "actor", None)
    organisation = getattr(actor, "organisation", None)
    return str(organisation.pk) if organisation is not None else None


# --- Logs ------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Give every record the current request id, and the task name inside a Celery task."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a 4xx response after the middleware has returned: the request still knows its id.
        record.request_id = current_request_id() or getattr(getattr(record, "request", None), "request_id", "")
        task = _task_name.get()
        if task:
            record.task_name = task
        return True


# --- Celery ----------------------------------------------------------------------------

# The bindings of the tasks running in this process, undone when each task ends.
_task_bindings: dict[str, ExitStack] = {}


def on_before_task_publish(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """Carry the publisher's request id in the message (protocol 2 headers)."""
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def on_task_prerun(task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    """Run the task under the id it was published with (or its own id, for beat's tasks)."""
    incoming = getattr(getattr(task, "request", None), TASK_HEADER, None)
    # Eagerly run tasks (no broker) run inside the request: they keep its id.
    request_id = new_request_id(incoming or current_request_id() or task_id)
    stack = ExitStack()
    stack.enter_context(request_id_bound(request_id))
    token = _task_name.set(getattr(task, "name", "") or "")
    stack.callback(_task_name.reset, token)
    _task_bindings[task_id] = stack


def on_task_postrun(task_id: str = "", **kwargs: Any) -> None:
    stack = _task_bindings.pop(task_id, None)
    if stack is not None:
        stack.close()


def on_task_failure(
    task_id: str = "", exception: BaseException | None = None, sender: Any = None, **kwargs: Any
) -> None:
    """A failed run, as one error line with the task's name and request id (the filter adds them)."""
    logger.error(
        "Task %s failed: %s",
        getattr(sender, "name", "?"),
        type(exception).__name__,
        extra={"task_id": task_id},
        exc_info=exception,
    )


def install_celery_signals() -> None:
    from celery import signals

    signals.before_task_publish.connect(on_before_task_publish, weak=False, dispatch_uid="corridor-request-id-publish")
    signals.task_prerun.connect(on_task_prerun, weak=False, dispatch_uid="corridor-request-id-prerun")
    signals.task_postrun.connect(on_task_postrun, weak=False, dispatch_uid="corridor-request-id-postrun")
    signals.task_failure.connect(on_task_failure, weak=False, dispatch_uid="corridor-task-failure-log")


# --- Metrics computed at scrape time -----------------------------------------------------


class BacklogCollector(Collector):
    """Deliveries by status and channel type, the age of the oldest due work, and dead rows.

    Every query uses an index on ``status`` and leaves out the ``sent``/``done`` rows,
    which are the tables' bulk: the cost follows the backlog, not the history. All of
    them run in one transaction under ``READY_CHECK_TIMEOUT_MS``, so a slow database
    makes a scrape fail fast (``corridor_backlog_up`` 0) instead of holding a web worker.
    """

    def describe(self) -> Iterable[Metric]:
        # Declared without samples, so that registering never queries the database.
        return list(self._families())

    def collect(self) -> Iterator[Metric]:
        from config.health import backlog_snapshot

        up, deliveries, ages, dead_tasks, emails = self._families()
        try:
            snapshot = backlog_snapshot()
        except Exception:  # any database error: report it as a gauge, never fail the scrape
            logger.warning("The backlog metrics could not be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for (status, channel_type), count in sorted(snapshot.deliveries.items()):
            deliveries.add_metric([status, channel_type], count)
        for queue, age in sorted(snapshot.ages.items()):
            ages.add_metric([queue], age)
        for task, count in sorted(snapshot.dead_tasks.items()):
            dead_tasks.add_metric([task], count)
        for status, count in sorted(snapshot.emails.items()):
            emails.add_metric([status], count)
        yield from (up, deliveries, ages, dead_tasks, emails)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily("corridor_backlog_up", "1 if the backlog metrics could be read from the database."),
            GaugeMetricFamily(
                "corridor_deliveries",
                "Deliveries not yet sent, by status (pending, failed, dead, paused, digest) and channel type.",
                labels=["status", "channel_type"],
            ),
            GaugeMetricFamily(
                "corridor_outbox_oldest_due_age_seconds",
                "How long the most overdue row has waited past its due time (0 when none is due).",
                labels=["queue"],
            ),
            GaugeMetricFamily(
                "corridor_outbox_tasks_dead",
                "Outbox tasks that ran out of attempts, by task: the workers' lasting failures.",
                labels=["task"],
            ),
            GaugeMetricFamily(
                "corridor_outbound_emails",
                "E-mails not yet sent, by status (pending, failed, dead).",
                labels=["status"],
            ),
        )


BACKLOG_COLLECTOR = BacklogCollector()
REGISTRY.register(BACKLOG_COLLECTOR)
