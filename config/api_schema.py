"""Schema generation for the API: every error an operation can return, documented."""

from __future__ import annotations

from typing import Any

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
FieldErrors = inline_serializer(
    name="FieldErrors",
    fields={
        "field_name": serializers.ListField(
            child=serializers.CharField(),
            help_text="One entry per invalid field (named by the field; `non_field_errors` for the whole object), "
            "each a list of messages naming the rule.",
        )
    },
)

_ERROR_RESPONSES = {
    "400": (FieldErrors, "Invalid input: each invalid field with the rule it breaks; nothing was saved."),
    "401": (ErrorDetail, "Missing, invalid or revoked credentials (`WWW-Authenticate: Token`)."),
    "403": (ErrorDetail, "Authenticated, but the role or the organisation's two-factor rule does not allow this."),
    "404": (ErrorDetail, "No such object, or not visible to the acting organisation."),
    "429": (ErrorDetail, "Too many requests; retry after the `Retry-After` seconds."),
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, with every error an operation can return documented."""

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        codes = ["429"]
        if not getattr(self.view, "public", False):
            codes += ["401", "403"]
        if self.method in ("POST", "PUT", "PATCH") or self._has_filters():
            codes.append("400")
        if "{" in self.path or self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.append("404")
        for code in codes:
            if code not in responses:
                serializer, description = _ERROR_RESPONSES[code]
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(response=serializer, description=description), code, direction=direction
                )
        return dict(sorted(responses.items()))

    def _has_filters(self) -> bool:
        return bool(getattr(self.view, "filterset_class", None) or getattr(self.view, "filterset_fields", None))
