"""Routes of the SDMX-CSV import pages of a profile (mounted at the site root, namespace ``exchange``)."""

from django.urls import path

from exchange.web import profile_imports

urlpatterns = [
    path("profiles/<uuid:pk>/import/", profile_imports.profile_import_view, name="profile-import"),
    path("profiles/imports/<uuid:pk>/", profile_imports.profile_import_status_view, name="profile-import-status"),
]
