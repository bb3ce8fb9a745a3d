from django.urls import path
from rest_framework.routers import SimpleRouter

from exchange.api import corridors, matches, outcomes, profile_csv, profiles, suggestions

router = SimpleRouter()
router.register("matches", matches.MatchViewSet, basename="match")
router.register("profiles", profiles.ProfileViewSet, basename="profile")
router.register("suggestions", suggestions.SuggestionViewSet, basename="suggestion")
router.register("imports", profile_csv.ProfileImportViewSet, basename="profile-import")
router.register("outcome-imports", outcomes.OutcomeImportViewSet, basename="outcome-import")

observations = profiles.ObservationViewSet.as_view({"get": "list", "post": "create"})
observation = profiles.ObservationViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})
skills = profiles.SkillViewSet.as_view({"get": "list", "post": "create"})
skill = profiles.SkillViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})

urlpatterns = [
    # SDMX-CSV in and out of a profile, and an indicator's series (exchange/api/profile_csv.py).
    path("profiles/<uuid:pk>/export.csv", profile_csv.ProfileExportView.as_view(), name="profile-export"),
    path("profiles/<uuid:pk>/import/", profile_csv.ProfileImportCreateView.as_view(), name="profile-import-create"),
    path("indicators/series/", profile_csv.SeriesView.as_view(), name="indicator-series"),
    path("profiles/<uuid:profile_pk>/observations/", observations, name="profile-observation-list"),
    path("profiles/<uuid:profile_pk>/observations/<uuid:pk>/", observation, name="profile-observation-detail"),
    path("profiles/<uuid:profile_pk>/skills/", skills, name="profile-skill-list"),
    path("profiles/<uuid:profile_pk>/skills/<uuid:pk>/", skill, name="profile-skill-detail"),
    path(
        "listings/<uuid:listing_id>/matches/",
        matches.ListingMatchViewSet.as_view({"get": "list"}),
        name="listing-matches",
    ),
    path(
        "corridors/<str:origin>-<str:destination>/",
        corridors.CorridorAPIView.as_view(),
        name="corridor",
    ),
    # The outcomes ledger of a listing (exchange/api/outcomes.py); entries are never changed (no PUT/PATCH/DELETE).
    path(
        "listings/<uuid:listing_id>/outcomes/",
        outcomes.OutcomeEntryViewSet.as_view({"get": "list", "post": "create"}),
        name="listing-outcomes",
    ),
    path(
        "listings/<uuid:listing_id>/outcomes/summary/",
        outcomes.OutcomeSummaryView.as_view(),
        name="listing-outcomes-summary",
    ),
    path(
        "listings/<uuid:listing_id>/outcomes/export.csv",
        outcomes.OutcomeExportView.as_view(),
        name="listing-outcomes-export",
    ),
    path(
        "listings/<uuid:listing_id>/outcomes/summary.csv",
        outcomes.OutcomeSummaryCsvView.as_view(),
        name="listing-outcomes-summary-csv",
    ),
    path(
        "listings/<uuid:listing_id>/outcomes/import/",
        outcomes.OutcomeImportCreateView.as_view(),
        name="listing-outcomes-import",
    ),
    *router.urls,
]
