"""Probes and the metrics endpoint: ``/healthz``, ``/readyz`` and ``/metrics``.

* ``/healthz`` answers as long as the process can run Python: no database, no Redis.
  Point a liveness probe at it (a restart cures nothing a dependency breaks).
* ``/readyz`` checks PostgreSQL (``SELECT 1``), Redis (``PING`` with a short timeout,
  when ``REDIS_URL`` is set) and how long the most overdue work has waited: deliveries,
  outbox tasks and outbound e-mails, against ``READY_MAX_BACKLOG_SECONDS``. One JSON
  entry per check; 503 when any fails.
* ``/metrics`` is Prometheus's text exposition, closed unless ``METRICS_TOKEN`` is set
  (404), and then only for ``Authorization: Bearer <token>`` (403 otherwise).

``ProbeMiddleware`` (after the request-id and access-log middleware) answers these
three paths itself, before the rest of the stack: a probe is never redirected to
HTTPS, to a language or to two-factor enrolment, never reads a session, and no
throttle sees it. The routes in config/urls.py name the same views.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Min
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

# --- The backlog ----------------------------------------------------------------------


@dataclass
class BacklogSnapshot:
    # Seconds the most overdue row of each queue has waited past its due time.
    ages: dict[str, float] = field(default_factory=dict)
    deliveries: dict[tuple[str, str], int] = field(default_factory=dict)  # (status, channel type)
    dead_tasks: dict[str, int] = field(default_factory=dict)  # outbox task name
    emails: dict[str, int] = field(default_factory=dict)  # status


def backlog_ages(now: datetime) -> dict[str, float]:
    """How overdue the oldest due delivery, outbox task and outbound e-mail are, in seconds.

    Due means waiting to be sent with its ``next_attempt_at`` (or, unset, its creation)
    in the past; a row whose retry is scheduled for later is not late yet. Each is one
    aggregate over the rows the ``(status, next_attempt_at)`` index selects.
    """
    from accounts.models import OutboundEmail, OutboundEmailStatus
    from accounts.tenancy import unscoped
    from exchange.models import Delivery, DeliveryStatus, OutboxTask
    from exchange.models.outbox import OutboxStatus

    due_since = Min(Coalesce("next_attempt_at", "created_at"))
    with unscoped("operators' probes read every organisation's backlog, counts only"):
        oldest = {
            "deliveries": Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED])
            .exclude(next_attempt_at__gt=now)
            .aggregate(since=due_since)["since"],
            "outbox_tasks": OutboxTask.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now).aggregate(
                since=Min("next_attempt_at")
            )["since"],
            "outbound_emails": OutboundEmail.objects.filter(
                status__in=[OutboundEmailStatus.PENDING, OutboundEmailStatus.FAILED]
            )
            .exclude(next_attempt_at__gt=now)
            .aggregate(since=due_since)["since"],
        }
    return {name: max(0.0, (now - since).total_seconds()) if since else 0.0 for name, since in oldest.items()}


def backlog_snapshot() -> BacklogSnapshot:
    """Everything the metrics collector exports, read in one time-limited transaction."""
    from accounts.models import OutboundEmail, OutboundEmailStatus
    from accounts.tenancy import unscoped
    from exchange.models import Delivery, DeliveryStatus, OutboxTask
    from exchange.models.outbox import OutboxStatus

    snapshot = BacklogSnapshot()
    with transaction.atomic(), unscoped("operators' metrics count every organisation's rows"):
        _limit_statement_time()
        snapshot.ages = backlog_ages(timezone.now())
        rows = (
            Delivery.objects.exclude(status=DeliveryStatus.SENT)
            .values_list("status", "channel__type")
            .annotate(n=Count("id"))
            .order_by()
        )
        snapshot.deliveries = {(status, channel_type): n for status, channel_type, n in rows}
        snapshot.dead_tasks = dict(
            OutboxTask.objects.filter(status=OutboxStatus.DEAD).values_list("task").annotate(n=Count("id")).order_by()
        )
        snapshot.emails = dict(
            OutboundEmail.objects.exclude(status=OutboundEmailStatus.SENT)
            .values_list("status")
            .annotate(n=Count("id"))
            .order_by()
        )
    return snapshot


def _limit_statement_time() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{settings.READY_CHECK_TIMEOUT_MS}ms"])


# --- Checks ---------------------------------------------------------------------------

Check = dict[str, Any]


def _timed(probe: Callable[[], Check]) -> Check:
    started = time.perf_counter()
    try:
        result = {"ok": True, **probe()}
    except Exception as exc:  # a probe reports any failure as a failed check
        result = {"ok": False, "error": type(exc).__name__}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _redis() -> Check:
    import redis

    timeout = settings.READY_CHECK_TIMEOUT_MS / 1000
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
        # A broker that evicts keys loses queued messages and Kombu's bindings (plan row R12):
        # readiness fails until Redis runs with maxmemory-policy noeviction.
        policy = str(client.info("memory").get("maxmemory_policy", "noeviction"))
    finally:
        client.close()
    if policy != "noeviction":
        return {"ok": False, "error": f"EvictionPolicy:{policy}"}
    return {}


def readiness_checks() -> dict[str, Check]:
    checks = {"database": _timed(_database)}
    if settings.REDIS_URL:
        checks["redis"] = _timed(_redis)
    threshold = settings.READY_MAX_BACKLOG_SECONDS
    if threshold:
        if checks["database"]["ok"]:
            ages = _timed(lambda: {"ages": _ages_within_time_limit()})
        else:
            ages = {"ok": False, "error": "DatabaseUnavailable"}
        for queue in ("deliveries", "outbox_tasks", "outbound_emails"):
            if not ages["ok"]:
                checks[queue] = {"ok": False, "error": ages["error"], "threshold_seconds": threshold}
                continue
            age = round(ages["ages"][queue], 1)
            checks[queue] = {"ok": age <= threshold, "oldest_due_seconds": age, "threshold_seconds": threshold}
    return checks


def _ages_within_time_limit() -> dict[str, float]:
    with transaction.atomic():
        _limit_statement_time()
        return backlog_ages(timezone.now())


# --- Views ----------------------------------------------------------------------------


@never_cache
def healthz_view(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def readyz_view(request: HttpRequest) -> HttpResponse:
    checks = readiness_checks()
    ready = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        # A plain answer: the site's 404 page needs the session and user this path skips.
        return JsonResponse({"detail": _("Not found.")}, status=404)
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return JsonResponse({"detail": _("A valid metrics token is required.")}, status=403)
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    """The default registry, or, under gunicorn with several workers, all workers' files.

    With ``PROMETHEUS_MULTIPROC_DIR`` set (tools/gunicorn.conf.py), every worker writes
    its counters and histograms to files there, and a scrape of any worker reads them
    all; the backlog gauges are computed by whichever worker answers.
    """
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    from prometheus_client import multiprocess

    from config.observability import BACKLOG_COLLECTOR

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(BACKLOG_COLLECTOR)
    return registry


PROBE_VIEWS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": healthz_view,
    "/readyz": readyz_view,
    "/metrics": metrics_view,
}


class ProbeMiddleware:
    """Answer the probes before sessions, HTTPS and language redirects, 2FA and throttles."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = PROBE_VIEWS.get(request.path_info)
        if view is None:
            return self.get_response(request)
        from django.urls import resolve

        # Resolved like any request, so the access line and histogram name the route.
        request.resolver_match = resolve(request.path_info)
        return view(request)
