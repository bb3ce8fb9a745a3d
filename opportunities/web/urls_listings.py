"""Routes of the listing pages (opportunities/web/listings.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
