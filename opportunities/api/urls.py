from django.urls import path
from rest_framework.routers import SimpleRouter

from opportunities.api import consents, views

router = SimpleRouter()
router.register("listings", views.ListingViewSet, basename="listing")
router.register("consents", consents.ConsentViewSet, basename="consent")

urlpatterns = [
    path(
        "listings/<uuid:listing_id>/consents/",
        consents.ListingConsentViewSet.as_view({"get": "list"}),
        name="listing-consents",
    ),
    path(
        "listings/<uuid:listing_id>/consents/<str:country>/accept/",
        consents.ConsentAcceptView.as_view(),
        name="listing-consent-accept",
    ),
    path(
        "listings/<uuid:listing_id>/consents/<str:country>/refuse/",
        consents.ConsentRefuseView.as_view(),
        name="listing-consent-refuse",
    ),
    *router.urls,
]
