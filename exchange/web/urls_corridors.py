"""Routes of the corridor pages (mounted at the site root, namespace ``exchange``)."""

from django.urls import path

from exchange.web import corridors

urlpatterns = [
    path("corridors/", corridors.corridor_list_view, name="corridor-list"),
    path("corridors/<str:origin>-<str:destination>/", corridors.corridor_detail_view, name="corridor"),
]
