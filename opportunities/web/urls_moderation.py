"""Routes of the moderation pages (opportunities/web/moderation.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
