"""Routes of the match, dialogue and partnership pages."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
