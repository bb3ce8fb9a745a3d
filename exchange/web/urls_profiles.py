"""Routes of the migration profile pages (mounted at the site root, namespace ``exchange``)."""

from django.urls import path

from exchange.web import profiles

urlpatterns = [
    path("profiles/", profiles.profile_list_view, name="profile-list"),
    path("profiles/new/", profiles.profile_create_view, name="profile-create"),
    path("profiles/compare/years/", profiles.profile_compare_years_view, name="profile-compare-years"),
    path("profiles/compare/countries/", profiles.profile_compare_countries_view, name="profile-compare-countries"),
    path("profiles/<uuid:pk>/", profiles.profile_detail_view, name="profile-detail"),
    path("profiles/<uuid:pk>/parts/<int:part>/edit/", profiles.profile_edit_part_view, name="profile-edit-part"),
    path("profiles/<uuid:pk>/publish/", profiles.profile_publish_view, name="profile-publish"),
    path("profiles/<uuid:pk>/versions/", profiles.profile_versions_view, name="profile-versions"),
    path("profiles/<uuid:pk>/diff/", profiles.profile_diff_view, name="profile-diff"),
    # Public (no sign-in): the published profiles marked public.
    path("public/profiles/", profiles.public_profile_list_view, name="public-profile-list"),
    path("public/profiles/<uuid:pk>/", profiles.public_profile_detail_view, name="public-profile-detail"),
]
