"""Routes of the alert pages: subscriptions, delivery log, inbox."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
