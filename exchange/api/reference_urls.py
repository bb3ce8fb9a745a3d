"""/api/v1/reference/indicators/: the profiles' indicator catalogue, beside the other reference lists."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from exchange.api.profile_csv import TemplateView
from exchange.api.reference import IndicatorViewSet

app_name = "profiles-reference"

router = SimpleRouter()
router.register("indicators", IndicatorViewSet, basename="indicator")

urlpatterns = [
    path("indicators/template.csv", TemplateView.as_view(), name="indicator-template"),
    *router.urls,
]
