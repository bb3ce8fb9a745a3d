"""/api/v1/reference/indicators/: the profiles' indicator catalogue, beside the other reference lists."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from exchange.api.reference import IndicatorViewSet

app_name = "profiles-reference"

router = SimpleRouter()
router.register("indicators", IndicatorViewSet, basename="indicator")

urlpatterns = router.urls
