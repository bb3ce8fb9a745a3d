from django.urls import path
from rest_framework.routers import SimpleRouter

from exchange.api import matches

router = SimpleRouter()
router.register("matches", matches.MatchViewSet, basename="match")

urlpatterns = [
    path(
        "listings/<uuid:listing_id>/matches/",
        matches.ListingMatchViewSet.as_view({"get": "list"}),
        name="listing-matches",
    ),
    *router.urls,
]
