"""Routes of the listing pages (opportunities/web/listings.py)."""

from django.urls import URLPattern, path

from opportunities.web import consents, listings, records

urlpatterns: list[URLPattern] = [
    path("listings/", listings.listing_list_view, name="listings"),
    path("listings/export.csv", listings.listing_export_view, name="listings_export"),
    path("listings/new/", listings.listing_create_view, name="listing_create"),
    path("listings/<uuid:pk>/", listings.listing_detail_view, name="listing"),
    path("listings/<uuid:pk>/print/", records.listing_print_view, name="listing_print"),
    path("listings/<uuid:pk>/edit/", listings.listing_edit_view, name="listing_edit"),
    path("listings/<uuid:pk>/<slug:action>/", listings.listing_transition_view, name="listing_transition"),
    path("consents/", consents.consents_view, name="consents"),
    path("consents/<uuid:pk>/<str:country>/<slug:decision>/", consents.consent_decide_view, name="consent_decide"),
]
