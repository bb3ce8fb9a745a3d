"""The statistics' one input: the period filter, for the API and the page alike."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from exchange.statistics.selectors import Period


class PeriodSerializer(serializers.Serializer):
    """``from`` and ``to`` (ISO dates, both optional, both inclusive); a bad one is a 400 naming it."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # "from" is a Python keyword: declare the fields by name.
        return {
            "from": serializers.DateField(
                required=False, allow_null=True, help_text="The first day counted (YYYY-MM-DD), inclusive."
            ),
            "to": serializers.DateField(
                required=False, allow_null=True, help_text="The last day counted (YYYY-MM-DD), inclusive."
            ),
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("from"), attrs.get("to")
        if start and end and end < start:
            raise serializers.ValidationError({"to": [_("The end of the period cannot come before its start.")]})
        return attrs


def parse_period(query: Any) -> Period:
    """The period of a request's query string; raises ``ValidationError`` (a 400) naming the field."""
    data = {key: query.get(key) for key in ("from", "to") if query.get(key)}
    serializer = PeriodSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return Period(start=serializer.validated_data.get("from"), end=serializer.validated_data.get("to"))
