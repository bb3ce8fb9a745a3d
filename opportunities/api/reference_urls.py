"""/api/v1/reference/: the public classification lists."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from opportunities.api.reference_views import (
    CefrLevelListView,
    CountryListView,
    CurrencyViewSet,
    LanguageViewSet,
    OccupationViewSet,
    SectorViewSet,
)

app_name = "reference"

router = SimpleRouter()
router.register("occupations", OccupationViewSet, basename="occupation")
router.register("sectors", SectorViewSet, basename="sector")
router.register("languages", LanguageViewSet, basename="language")
router.register("currencies", CurrencyViewSet, basename="currency")

urlpatterns = [
    path("countries/", CountryListView.as_view(), name="country-list"),
    path("cefr-levels/", CefrLevelListView.as_view(), name="cefr-level-list"),
    *router.urls,
]
