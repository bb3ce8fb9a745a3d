"""Routes of the moderation pages (opportunities/web/moderation.py)."""

from django.urls import URLPattern, path

from opportunities.web import moderation

urlpatterns: list[URLPattern] = [
    path("moderation/", moderation.moderation_queue_view, name="moderation"),
    path("moderation/export.csv", moderation.moderation_export_view, name="moderation_export"),
    path("moderation/<uuid:pk>/", moderation.moderation_review_view, name="moderation_review"),
    path("moderation/<uuid:pk>/<slug:action>/", moderation.moderation_decide_view, name="moderation_decide"),
]
