from django.urls import path
from rest_framework.routers import SimpleRouter

from exchange.api import matches, profiles, suggestions

router = SimpleRouter()
router.register("matches", matches.MatchViewSet, basename="match")
router.register("profiles", profiles.ProfileViewSet, basename="profile")
router.register("suggestions", suggestions.SuggestionViewSet, basename="suggestion")

observations = profiles.ObservationViewSet.as_view({"get": "list", "post": "create"})
observation = profiles.ObservationViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})
skills = profiles.SkillViewSet.as_view({"get": "list", "post": "create"})
skill = profiles.SkillViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})

urlpatterns = [
    path("profiles/<uuid:profile_pk>/observations/", observations, name="profile-observation-list"),
    path("profiles/<uuid:profile_pk>/observations/<uuid:pk>/", observation, name="profile-observation-detail"),
    path("profiles/<uuid:profile_pk>/skills/", skills, name="profile-skill-list"),
    path("profiles/<uuid:profile_pk>/skills/<uuid:pk>/", skill, name="profile-skill-detail"),
    path(
        "listings/<uuid:listing_id>/matches/",
        matches.ListingMatchViewSet.as_view({"get": "list"}),
        name="listing-matches",
    ),
    *router.urls,
]
