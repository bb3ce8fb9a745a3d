"""Routes of the match, dialogue and partnership pages (mounted at the site root, namespace ``exchange``)."""

from django.urls import path, re_path

from exchange.web import matches, partnerships, records

urlpatterns = [
    path("matches/", matches.match_list_view, name="matches"),
    path("matches/export.csv", matches.match_export_view, name="matches_export"),
    path("matches/<uuid:pk>/", matches.match_detail_view, name="match"),
    path("matches/<uuid:pk>/print/", records.match_print_view, name="match_print"),
    path("matches/<uuid:pk>/interest/", matches.match_interest_view, name="match_interest"),
    path("matches/<uuid:pk>/messages/", matches.match_message_view, name="match_message"),
    re_path(
        r"^matches/(?P<pk>[0-9a-f-]{36})/(?P<decision>accept|decline)/$",
        matches.match_decide_view,
        name="match_decide",
    ),
    path("partnerships/", partnerships.partnership_list_view, name="partnerships"),
    path("partnerships/export.csv", partnerships.partnership_export_view, name="partnerships_export"),
    path("partnerships/public/", partnerships.public_partnership_list_view, name="public_partnerships"),
    path("partnerships/public/<uuid:pk>/", partnerships.public_partnership_view, name="public_partnership"),
    path("partnerships/new/", partnerships.partnership_create_view, name="partnership_create"),
    path("partnerships/<uuid:pk>/", partnerships.partnership_detail_view, name="partnership"),
    path("partnerships/<uuid:pk>/edit/", partnerships.partnership_edit_view, name="partnership_edit"),
    path("partnerships/<uuid:pk>/confirm/", partnerships.partnership_confirm_view, name="partnership_confirm"),
    path("partnerships/<uuid:pk>/decline/", partnerships.partnership_decline_view, name="partnership_decline"),
    path(
        "partnerships/<uuid:pk>/documents/",
        partnerships.partnership_document_upload_view,
        name="partnership_document_upload",
    ),
    path("partnerships/<uuid:pk>/print/", records.partnership_print_view, name="partnership_print"),
    path("partnerships/<uuid:pk>/agreement/", partnerships.partnership_agreement_view, name="partnership_agreement"),
    re_path(
        r"^partnerships/(?P<pk>[0-9a-f-]{36})/committee/(?P<kind>members|meetings|decisions)/$",
        partnerships.partnership_committee_add_view,
        name="partnership_committee_add",
    ),
    re_path(
        r"^partnerships/(?P<pk>[0-9a-f-]{36})/committee/(?P<kind>members|meetings|decisions)/"
        r"(?P<row_pk>[0-9a-f-]{36})/delete/$",
        partnerships.partnership_committee_delete_view,
        name="partnership_committee_delete",
    ),
    path(
        "partnerships/<uuid:pk>/documents/<uuid:document_pk>/",
        partnerships.partnership_document_view,
        name="partnership_document",
    ),
]
