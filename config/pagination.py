"""Page-number pagination with a capped ``page_size`` (kept in its own module: DRF
imports it while importing itself, so it must not import views or the schema).

Unlike DRF's default, a malformed ``page`` or ``page_size`` is a 400 naming the
parameter rather than being silently ignored; a page past the end stays a 404.

``count`` is counted only as far as it needs to be (issue 15): up to ``COUNT_CAP``
results or one past the end of the page asked for, whichever is further. Counting
every match of a broad filter over 100k listings read the whole table on every
page; a capped count stops early. When the cap is reached, ``count`` is that
limit, ``next`` is present and the response says ``X-Count-Capped: true``.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

# Results counted exactly; beyond this (and beyond the page asked for) the count stops.
# No list has a page beyond this (a million pages of 100).
MAX_PAGE = 1_000_000
COUNT_CAP = 1000


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


class CappedPaginator(Paginator):
    """A paginator whose count stops at ``limit`` (``SELECT count(*) FROM (… LIMIT n)``)."""

    limit = COUNT_CAP + 1

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        # The order and the columns do not change how many rows there are; without them
        # the planner may stop at the limit along any index.
        return self.object_list.order_by().values("pk")[: self.limit].count()

    @property
    def capped(self) -> bool:
        return self.count >= self.limit


class IdsFirstPaginator(CappedPaginator):
    """A capped paginator that chooses the page's ids first, then reads those rows.

    ``WHERE … AND id IN (SELECT id … ORDER BY … LIMIT n OFFSET m) ORDER BY …``: the
    subquery names only the filters' and the order's columns, so PostgreSQL can answer
    it from an index that carries them (an index-only walk, ``opportunities.models``'
    ``listing_newest_first``), and reads the wide rows, their lines and translations for
    the page alone. Same rows in the same order as the plain slice. Not for an order on
    an annotation (a search's rank): the page would compute it twice.
    """

    def page(self, number: Any) -> Page[Any]:
        rows = self.object_list
        if not isinstance(rows, QuerySet) or _orders_by_annotation(rows):
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return Page(rows.filter(pk__in=rows.values("pk")[bottom:top]), number, self)


def _orders_by_annotation(queryset: QuerySet[Any]) -> bool:
    names = {name.lstrip("-") for name in queryset.query.order_by if isinstance(name, str)}
    return bool(names & set(queryset.query.annotations))


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100

    paginator_class = CappedPaginator

    def django_paginator_class(self, object_list: Any, per_page: int) -> CappedPaginator:  # type: ignore[override]
        paginator = self.paginator_class(object_list, per_page)
        page = self._requested_page
        paginator.limit = max(COUNT_CAP, page * per_page) + 1
        return paginator

    def get_page_size(self, request: Request) -> int | None:
        size = _positive_int(request, self.page_size_query_param)
        return min(size, self.max_page_size) if size else self.page_size

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        self._requested_page = _positive_int(request, self.page_query_param) or 1
        if self._requested_page > MAX_PAGE:
            # Far beyond any result set; also keeps LIMIT/OFFSET inside PostgreSQL's bigint.
            raise NotFound(self.invalid_page_message.format(page_number=self._requested_page, message="too far"))
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        if self.page is not None and getattr(self.page.paginator, "capped", False):
            response["X-Count-Capped"] = "true"
        return response

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {"type": "integer", "minimum": 1}
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = f"Results per page (at most {self.max_page_size}; larger values are capped)."
        return parameters


class IdsFirstPagination(Pagination):
    """``Pagination`` whose page is read by its ids first (``IdsFirstPaginator``): for a long list
    walked in an indexed order under a selective filter (the API's listings)."""

    paginator_class = IdsFirstPaginator
