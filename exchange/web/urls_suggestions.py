"""Routes of the suggestion pages (mounted at the site root, namespace ``exchange``)."""

from django.urls import path

from exchange.web import suggestions

urlpatterns = [
    path("suggestions/", suggestions.suggestion_list_view, name="suggestion-list"),
    path("suggestions/<uuid:pk>/", suggestions.suggestion_detail_view, name="suggestion-detail"),
    path("suggestions/<uuid:pk>/dismiss/", suggestions.suggestion_dismiss_view, name="suggestion-dismiss"),
    path("suggestions/<uuid:pk>/act-on/", suggestions.suggestion_act_on_view, name="suggestion-act-on"),
]
