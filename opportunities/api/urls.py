from rest_framework.routers import SimpleRouter

from opportunities.api import views

router = SimpleRouter()
router.register("listings", views.ListingViewSet, basename="listing")

urlpatterns = router.urls
