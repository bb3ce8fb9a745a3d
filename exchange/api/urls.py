from django.urls import path
from rest_framework.routers import SimpleRouter

from exchange.api import matches, profiles

router = SimpleRouter()
router.register("matches", matches.MatchViewSet, basename="match")
router.register("profiles", profiles.ProfileViewSet, basename="profile")

urlpatterns = [
    path(
        "listings/<uuid:listing_id>/matches/",
        matches.ListingMatchViewSet.as_view({"get": "list"}),
        name="listing-matches",
    ),
    *router.urls,
]
