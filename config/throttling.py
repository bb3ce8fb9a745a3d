"""The API's rate limits: keyed on the real client address, and never a reason to fail.

The counters live in the shared cache (Redis in production). When the cache cannot
be reached the throttles *fail open*: the request is allowed, a warning is logged
and ``corridor_throttle_fail_open_total`` counts it. We chose that over a local
in-process limiter because the limits are about fair use, not a security boundary
(the sign-in lockout keeps its state in PostgreSQL), and a per-process fallback
would quietly multiply every limit by the number of web processes while giving
clients answers that disagree from one request to the next.

After a failure the cache is left alone for ``THROTTLE_CACHE_RETRY_SECONDS``, so
while Redis is down or paused only one request per process in that window pays the
cache's socket timeout; the others skip straight to "allowed".
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from prometheus_client import Counter
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from config.client_ip import client_ip

logger = logging.getLogger("corridor.throttling")

FAIL_OPEN = Counter(
    "corridor_throttle_fail_open_total",
    "API requests allowed without a rate-limit check because the cache could not be reached.",
    ["scope"],
)

# The errors a cache backend raises when its server is gone, slow or refusing.
CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)

_lock = threading.Lock()
_skip_cache_until = 0.0


def _cache_resting() -> bool:
    return time.monotonic() < _skip_cache_until


def _rest_cache() -> None:
    global _skip_cache_until
    with _lock:
        _skip_cache_until = time.monotonic() + float(getattr(settings, "THROTTLE_CACHE_RETRY_SECONDS", 5))


def reset_cache_state() -> None:
    """Forget a past cache failure (the tests call this between faults)."""
    global _skip_cache_until
    with _lock:
        _skip_cache_until = 0.0


class FailOpenThrottleMixin:
    """Key on :func:`config.client_ip.client_ip`; allow the request if the cache fails."""

    scope: str | None

    def get_ident(self, request: Request) -> str:
        # DRF's own version believes X-Forwarded-For as far as NUM_PROXIES says; ours
        # follows TRUSTED_PROXY_COUNT / TRUSTED_PROXY_NETWORKS, like the lockout does.
        return client_ip(request)

    def allow_request(self, request: Request, view: Any) -> bool:
        if _cache_resting():
            FAIL_OPEN.labels(scope=self.scope or "").inc()
            return True
        try:
            return bool(super().allow_request(request, view))  # type: ignore[misc]
        except CACHE_ERRORS as exc:
            _rest_cache()
            FAIL_OPEN.labels(scope=self.scope or "").inc()
            logger.warning(
                "Rate limit not checked (%s): the cache is unreachable (%s: %s); allowing requests for %s s.",
                self.scope,
                type(exc).__name__,
                exc,
                getattr(settings, "THROTTLE_CACHE_RETRY_SECONDS", 5),
            )
            return True


class UserThrottle(FailOpenThrottleMixin, UserRateThrottle):
    """Signed-in callers by user id; anonymous ones by client address (scope ``user``)."""


class AnonThrottle(FailOpenThrottleMixin, AnonRateThrottle):
    """Anonymous callers by client address (scope ``anon``)."""


__all__ = ["AnonThrottle", "FailOpenThrottleMixin", "UserThrottle", "reset_cache_state"]
