"""Page-number pagination with a capped ``page_size`` (kept in its own module: DRF
imports it while importing itself, so it must not import views or the schema)."""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100
