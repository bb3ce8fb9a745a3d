"""Routes of the alert pages: subscriptions, delivery log, inbox."""

from django.urls import URLPattern, path

from exchange.web import inbox, subscriptions

urlpatterns: list[URLPattern] = [
    path("alerts/", subscriptions.subscription_list_view, name="subscriptions"),
    path("alerts/export.csv", subscriptions.subscription_export_view, name="subscriptions_export"),
    path("alerts/new/", subscriptions.subscription_create_view, name="subscription_create"),
    path("alerts/deliveries/", subscriptions.delivery_list_view, name="deliveries"),
    path("alerts/deliveries/export.csv", subscriptions.delivery_export_view, name="deliveries_export"),
    path("alerts/deliveries/<uuid:pk>/replay/", subscriptions.delivery_replay_view, name="delivery_replay"),
    path("alerts/<uuid:pk>/", subscriptions.subscription_detail_view, name="subscription"),
    path("alerts/<uuid:pk>/edit/", subscriptions.subscription_edit_view, name="subscription_edit"),
    path("alerts/<uuid:pk>/test/", subscriptions.subscription_test_view, name="subscription_test"),
    path("alerts/<uuid:pk>/rotate-secret/", subscriptions.subscription_rotate_view, name="subscription_rotate"),
    path("alerts/<uuid:pk>/delete/", subscriptions.subscription_delete_view, name="subscription_delete"),
    path("inbox/", inbox.inbox_view, name="inbox"),
    path("inbox/read-all/", inbox.inbox_read_all_view, name="inbox_read_all"),
    path("inbox/<uuid:pk>/read/", inbox.inbox_read_view, name="inbox_read"),
]
