"""Schema generation for the API: every error an operation can return, documented."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

# --- Error components for the schema -------------------------------------------------

ErrorDetail = inline_serializer(
    name="ErrorDetail",
    fields={
        "detail": serializers.CharField(help_text="A message a person can read."),
        "code": serializers.CharField(required=False, help_text="A stable machine-readable code, where given."),
    },
)
# A 400 names each invalid field; nested input (lists of lines, objects) nests the
# same way, so the value is either a list of messages or an object/list of those.
FieldErrors: dict[str, Any] = {
    "type": "object",
    "description": "Each invalid field (named as in the request; `non_field_errors` for the whole object) "
    "with the messages naming the rule it breaks. Nested input nests the same way. A body that is not "
    "valid JSON at all gets `detail` instead.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "array", "items": {"type": "object"}},
            {"type": "object"},
        ]
    },
    "example": {"email": ["Enter a valid email address."]},
}

TooLarge = inline_serializer(
    name="TooLarge",
    fields={
        "detail": serializers.CharField(help_text="A message a person can read, naming the limit."),
        "code": serializers.CharField(help_text="`too_large`."),
        "max_bytes": serializers.IntegerField(help_text="The largest body this address accepts, in bytes."),
    },
)

_ERROR_RESPONSES = {
    "400": (FieldErrors, "Invalid input: each invalid field with the rule it breaks; nothing was saved."),
    "401": (ErrorDetail, "Missing, invalid or revoked credentials (`WWW-Authenticate: Token`)."),
    "403": (ErrorDetail, "Authenticated, but the role or the organisation's two-factor rule does not allow this."),
    "404": (ErrorDetail, "No such object, or not visible to the acting organisation."),
    "409": (
        ErrorDetail,
        "The record is being changed by someone else (`code: busy`): nothing was saved; retry after the "
        "`Retry-After` seconds.",
    ),
    "413": (TooLarge, "The body is larger than this address accepts (from `Content-Length`, before it is read)."),
    "415": (ErrorDetail, "The body's `Content-Type` is not one this operation parses (JSON, form or multipart)."),
    "429": (ErrorDetail, "Too many requests; retry after the `Retry-After` seconds."),
    "503": (
        ErrorDetail,
        "The database is briefly unavailable (`code: unavailable`): nothing was saved; retry after the "
        "`Retry-After` seconds.",
    ),
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, with every error an operation can return documented."""

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        # Every operation: the throttle, and the database being unavailable (config/errors.py).
        codes = ["429", "503"]
        if getattr(self.view, "authentication_classes", None):
            # Every view that authenticates, public reads included: credentials that are sent are checked (a bad
            # token is a 401, not ignored), and a signed-in caller without an active organisation is a 403.
            # Only the public listings (no authentication at all) answer neither.
            codes += ["401", "403"]
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            # A write waits on row locks for at most ``lock_timeout``, then answers 409 ``busy``.
            codes.append("409")
        if self._get_request_body() is not None:
            # Any body can be too large or of a type the parsers do not read.
            codes += ["413", "415"]
        if (
            self.method in ("POST", "PUT", "PATCH")
            or self._has_filters()
            or self._is_paginated()
            or self._has_query_parameters()
        ):
            codes.append("400")
        # Every operation can 404: a detail outside the actor's view, a page past
        # the end of a list, or an acting organisation that no longer has the object.
        codes.append("404")
        for code in codes:
            if code not in responses:
                serializer, description = _ERROR_RESPONSES[code]
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(response=serializer, description=description), code, direction=direction
                )
        return dict(sorted(responses.items()))

    def _is_paginated(self) -> bool:
        return (
            self.method == "GET" and self._is_list_view() and getattr(self.view, "pagination_class", None) is not None
        )

    def _has_query_parameters(self) -> bool:
        # A view that declares its own query parameters validates them (a query serializer): 400 naming the
        # parameter. ``format`` is DRF's content negotiation, which answers an unknown value with 404.
        return any(p["in"] == "query" and p["name"] != "format" for p in self._get_parameters())

    def _has_filters(self) -> bool:
        return bool(getattr(self.view, "filterset_class", None) or getattr(self.view, "filterset_fields", None))
