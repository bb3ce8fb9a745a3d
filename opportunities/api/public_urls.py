"""/api/v1/public/: what anyone may read without a login."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from opportunities.api.public import PublicListingViewSet

router = SimpleRouter()
router.register("listings", PublicListingViewSet, basename="public-listing")

urlpatterns = router.urls
