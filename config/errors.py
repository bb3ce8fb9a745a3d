"""One error shape for every path under /api/.

* 400: DRF's field errors, ``{"field": ["message", ...], ...}`` (``non_field_errors``
  for errors about the whole object).
* everything else: ``{"detail": "message"}``, plus ``code`` where it helps a client.

Services raise Django's ``ValidationError`` with a dict naming the field; it becomes
a 400 here. Paths that never reach DRF (an unknown URL, an unhandled exception)
are turned into the same JSON by ``ApiErrorMiddleware``, with DEBUG on or off.

When PostgreSQL cannot answer, the request fails cleanly rather than with a 500:

* a lock wait that ran out (``lock_timeout``), a deadlock or a serialisation
  failure is a 409 "being changed by someone else, try again";
* anything else the driver reports as operational (the server is down or restarting,
  the connection was cut, a statement ran past ``statement_timeout``) is a 503.

Both carry ``Retry-After``. The API answers in its JSON shape (``code`` is
``busy`` or ``unavailable``); pages get ``503.html`` rendered without a request
context, because the context processors query the database. Every service write is
one transaction, so a failed request has written nothing. The next request opens a
fresh connection (``CONN_HEALTH_CHECKS``): no process restart is needed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger("corridor.api")


def _validation_detail(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for m in DjangoValidationError(errors).messages] for field, errors in exc.error_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


class StateConflict(Exception):
    """Raised by services when an object's state does not allow an action (HTTP 409)."""


class Refusal(DjangoPermissionDenied):
    """A 403 with a machine-readable ``code`` the API's JSON error carries beside ``detail``
    (e.g. ``organisation_pending``: a client can tell "wait for verification" from "wrong role")."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The object's state does not allow this."
    default_code = "conflict"


# SQLSTATEs that mean "someone else holds what you need": lock_not_available
# (lock_timeout), deadlock_detected, serialization_failure. Trying again soon works.
BUSY_SQLSTATES = frozenset({"55P03", "40P01", "40001"})
BUSY_RETRY_AFTER_SECONDS = 5
UNAVAILABLE_RETRY_AFTER_SECONDS = 30
DATABASE_ERRORS = (OperationalError, InterfaceError)
_REMEMBERED = "_corridor_database_error"


def _sqlstate(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return str(getattr(cause, "sqlstate", "") or getattr(exc, "sqlstate", "") or "")


def database_is_busy(exc: BaseException) -> bool:
    """Whether a database error is a lock conflict (409) rather than an outage (503)."""
    return _sqlstate(exc) in BUSY_SQLSTATES


def _database_failure(exc: BaseException) -> tuple[int, str, str, int]:
    """Status, code, message and Retry-After seconds for a database error."""
    if database_is_busy(exc):
        return (
            409,
            "busy",
            _("The record is being changed by someone else: try again in a few seconds."),
            BUSY_RETRY_AFTER_SECONDS,
        )
    return (
        503,
        "unavailable",
        _("The service is briefly unavailable: nothing was saved. Try again in a minute."),
        UNAVAILABLE_RETRY_AFTER_SECONDS,
    )


def database_error_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The 409 or 503 for a database error: JSON under /api/, the standalone page elsewhere."""
    status, code, message, retry_after = _database_failure(exc)
    logger.warning(
        "Database %s on %s %s (%s: %s)", code, request.method, request.path, type(exc).__name__, str(exc).strip()
    )
    response: HttpResponse
    if is_api_path(request):
        response = JsonResponse({"detail": message, "code": code}, status=status)
    else:
        # No request context: the context processors would query the database.
        html = render_to_string("503.html", {"status": status, "busy": status == 409})
        response = HttpResponse(html, status=status)
    response["Retry-After"] = str(retry_after)
    return response


class UploadTooLarge(Exception):
    """A request body went past its path's limit while being read (config/uploads.py)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body larger than {limit} bytes")
        self.limit = limit


def _too_large(limit: int) -> tuple[str, dict[str, Any]]:
    megabytes = f"{limit / 1024**2:.1f}".removesuffix(".0")
    message = _("The request is too large: this address accepts at most %(size)s MB.") % {"size": megabytes}
    return message, {"detail": message, "code": "too_large", "max_bytes": limit}


def too_large_response(request: HttpRequest, limit: int) -> HttpResponse:
    """413: the API's JSON shape naming the limit, or a plain page."""
    message, body = _too_large(limit)
    if is_api_path(request):
        return JsonResponse(body, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    refusal_code = exc.code if isinstance(exc, Refusal) else ""
    if isinstance(exc, UploadTooLarge):
        return Response(_too_large(exc.limit)[1], status=413)
    if isinstance(exc, DATABASE_ERRORS):
        status, code, message, retry_after = _database_failure(exc)
        request = context.get("request")
        logger.warning("Database %s on %s (%s: %s)", code, getattr(request, "path", "?"), type(exc).__name__, exc)
        return Response({"detail": message, "code": code}, status=status, headers={"Retry-After": str(retry_after)})
    if isinstance(exc, DjangoValidationError):
        detail = _validation_detail(exc)
        if set(detail) == {"detail"}:
            detail = {"detail": " ".join(detail["detail"])}
        exc = serializers.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, StateConflict):
        exc = Conflict(str(exc))
    elif isinstance(exc, TooManyFieldsSent):
        # A body with more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS: the client's fault, said plainly.
        exc = exceptions.ParseError(
            "The request has more fields than the site accepts (DATA_UPLOAD_MAX_NUMBER_FIELDS)."
        )
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        response.data = {"non_field_errors": response.data}
    if response is not None and refusal_code and isinstance(response.data, dict):
        response.data["code"] = refusal_code
    return response


def is_api_path(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class ApiErrorMiddleware:
    """JSON 404 and 500 for /api/ paths that Django, not DRF, answers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            is_api_path(request)
            and response.status_code in (404, 500)
            and not response.get("Content-Type", "").startswith("application/json")
            and not request.path.startswith("/api/docs")
        ):
            detail = _("Not found.") if response.status_code == 404 else _("Server error.")
            return JsonResponse({"detail": detail}, status=response.status_code)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_ERRORS):
            return database_error_response(request, exception)
        if isinstance(exception, UploadTooLarge):
            return too_large_response(request, exception.limit)
        if not is_api_path(request) or isinstance(exception, Http404):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return JsonResponse({"detail": _("Server error.")}, status=500)


def _remember_database_error(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Note a database error on the request as Django turns it into a 500.

    An error raised by a middleware (the session or the user, read while the
    database is down) never reaches a ``process_exception``: Django's handler turns
    it into a 500 response at that layer and sends this signal from inside its
    ``except`` block. :class:`DependencyErrorMiddleware` then swaps the 500.
    """
    exc = sys.exc_info()[1]
    if request is not None and isinstance(exc, (*DATABASE_ERRORS, UploadTooLarge)):
        setattr(request, _REMEMBERED, exc)


got_request_exception.connect(_remember_database_error, dispatch_uid="corridor-database-error")


class DependencyErrorMiddleware:
    """Outermost: a 500 caused by an unreachable or locked database becomes a 503 or 409.

    (And one caused by an upload outgrowing its limit while CSRF read the form, a 413.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        exc = getattr(request, _REMEMBERED, None)
        if exc is None or response.status_code != 500:
            return response
        if isinstance(exc, UploadTooLarge):
            return too_large_response(request, exc.limit)
        return database_error_response(request, exc)
