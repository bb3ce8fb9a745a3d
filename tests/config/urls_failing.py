"""A URLconf with views that fail, to see what a client gets from a 500 and what the thread keeps.

``SEEN`` records the scope state each view saw while it ran, so a test can tell
that the scope was active inside and is gone afterwards.
"""

from collections.abc import Iterator
from typing import Any

from django.urls import include, path
from django_scopes import get_scope
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import ActorAPIView
from config.web import actor_required, csv_response, public_page

SEEN: list[dict[str, Any]] = []


def explode(request):
    raise RuntimeError("boom")


class ExplodingAPIView(ActorAPIView):
    """Fails inside the actor's scope, past ``initial()``: DRF does not handle a RuntimeError."""

    permission_classes = [AllowAny]
    public = True

    def get(self, request: Request) -> Response:
        SEEN.append(dict(get_scope()))
        raise RuntimeError("boom")


def _rows_that_fail() -> Iterator[list[str]]:
    SEEN.append(dict(get_scope()))
    yield ["first row"]
    SEEN.append(dict(get_scope()))
    raise RuntimeError("boom mid-stream")


class ExplodingStreamAPIView(ActorAPIView):
    permission_classes = [AllowAny]
    public = True

    def get(self, request: Request) -> Any:
        return csv_response("explode.csv", ["column"], _rows_that_fail())


@actor_required
def explode_page(request):
    SEEN.append(dict(get_scope()))
    raise RuntimeError("boom")


@public_page
def explode_public_page(request):
    SEEN.append(dict(get_scope()))
    raise RuntimeError("boom")


@actor_required
def explode_stream_page(request):
    return csv_response("explode.csv", ["column"], _rows_that_fail())


urlpatterns = [
    path("api/v1/explode/", explode),
    path("api/v1/explode-in-scope/", ExplodingAPIView.as_view()),
    path("api/v1/explode-mid-stream/", ExplodingStreamAPIView.as_view()),
    path("explode/page/", explode_page),
    path("explode/public/", explode_public_page),
    path("explode/stream/", explode_stream_page),
    path("", include("config.urls")),
]
