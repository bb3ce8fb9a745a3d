"""A URLconf with one view that fails, to see what an API client gets from a 500."""

from django.urls import include, path


def explode(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("api/v1/explode/", explode),
    path("", include("config.urls")),
]
