"""Public pages (no login): ``path("public/", include("opportunities.web.public_urls"))``."""

from django.urls import path

from opportunities.web import public

app_name = "public"

urlpatterns = [
    path("listings/", public.listing_list_view, name="listings"),
    path("listings/export.csv", public.listing_export_view, name="listings_export"),
    path("listings/<uuid:pk>/", public.listing_detail_view, name="listing"),
]
