"""Routes of the outcomes ledger's pages (mounted at the site root, namespace ``exchange``)."""

from django.urls import path

from exchange.web import outcomes

urlpatterns = [
    path("listings/<uuid:pk>/outcomes/record/", outcomes.outcome_record_view, name="listing-outcomes-record"),
    path("listings/<uuid:pk>/outcomes/upload/", outcomes.outcome_upload_view, name="listing-outcomes-upload"),
]
