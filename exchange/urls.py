"""Exchange web pages (include at the site root: ``path("", include("exchange.urls"))``)."""

from django.urls import path

from exchange import views

app_name = "exchange"

urlpatterns = [
    path("notifications/unsubscribe/<str:token>/", views.unsubscribe_view, name="unsubscribe"),
]
