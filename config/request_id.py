"""The id of the request (or task) being served, for log lines, audit rows and outbox rows.

A context variable, so that it is per request and per task even when threads or
processes are reused. The request-id middleware sets it from an incoming
``X-Request-ID`` (or a new one) and Celery tasks take it from the message that
the request published; anything else reads it with :func:`current_request_id`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("corridor_request_id", default="")

# What an incoming X-Request-ID may be: short, printable, no spaces (it goes into logs).
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def current_request_id() -> str:
    """The current request's id, or "" outside a request or task."""
    return _request_id.get()


def new_request_id(incoming: str | None = None) -> str:
    """An incoming id if it is acceptable, otherwise a fresh one."""
    if incoming and _ACCEPTABLE.match(incoming):
        return incoming
    return uuid.uuid4().hex


@contextmanager
def request_id_bound(value: str) -> Iterator[str]:
    """Serve one request or task under ``value``; the previous id comes back afterwards."""
    token = _request_id.set(value)
    try:
        yield value
    finally:
        _request_id.reset(token)
