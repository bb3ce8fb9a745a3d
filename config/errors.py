"""One error shape for every path under /api/.

* 400: DRF's field errors, ``{"field": ["message", ...], ...}`` (``non_field_errors``
  for errors about the whole object).
* everything else: ``{"detail": "message"}``, plus ``code`` where it helps a client.

Services raise Django's ``ValidationError`` with a dict naming the field; it becomes
a 400 here. Paths that never reach DRF (an unknown URL, an unhandled exception)
are turned into the same JSON by ``ApiErrorMiddleware``, with DEBUG on or off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
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


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The object's state does not allow this."
    default_code = "conflict"


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
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
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        response.data = {"non_field_errors": response.data}
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
        if not is_api_path(request) or isinstance(exception, Http404):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return JsonResponse({"detail": _("Server error.")}, status=500)
