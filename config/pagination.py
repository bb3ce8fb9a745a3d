"""Page-number pagination with a capped ``page_size`` (kept in its own module: DRF
imports it while importing itself, so it must not import views or the schema).

Unlike DRF's default, a malformed ``page`` or ``page_size`` is a 400 naming the
parameter rather than being silently ignored; a page past the end stays a 404.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


def _positive_int(request: Request, name: str) -> int | None:
    values = request.query_params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise ValidationError({name: [_("Give %(name)s once.") % {"name": name}]})
    try:
        value = int(values[0])
    except ValueError:
        value = 0
    if value < 1 or not values[0].strip().isdigit():
        raise ValidationError({name: [_("%(name)s must be a whole number of at least 1.") % {"name": name}]})
    return value


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        size = _positive_int(request, self.page_size_query_param)
        return min(size, self.max_page_size) if size else self.page_size

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        _positive_int(request, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {"type": "integer", "minimum": 1}
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = f"Results per page (at most {self.max_page_size}; larger values are capped)."
        return parameters
