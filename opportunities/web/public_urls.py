"""Public pages (no login): ``path("public/", include("opportunities.web.public_urls"))``."""

from django.urls import path

from opportunities.web import public

app_name = "public"

urlpatterns = [
    path("listings/", public.listing_list_view, name="listings"),
]
