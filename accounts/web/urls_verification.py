"""Routes of the agencies' verification pages (accounts/web/verification.py), beside the
listings' moderation pages under /moderation/."""

from django.urls import path

from accounts.web import verification

urlpatterns = [
    path("moderation/organisations/", verification.queue_view, name="organisation-moderation"),
    path("moderation/organisations/<uuid:pk>/", verification.review_view, name="organisation-moderation-review"),
    path(
        "moderation/organisations/<uuid:pk>/<slug:decision>/",
        verification.decide_view,
        name="organisation-moderation-decide",
    ),
]
