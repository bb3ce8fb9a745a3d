"""One error shape everywhere under /api/, whatever raised it, with DEBUG on or off."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import AuditEvent
from accounts.services import audit_record
from accounts.tenancy import unscoped

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_api_path_is_a_json_404(debug, settings, alice_api):
    settings.DEBUG = debug
    response = alice_api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.urls("tests.config.urls_failing")
def test_an_unhandled_error_is_a_json_500(debug, settings, client):
    settings.DEBUG = debug
    client.raise_request_exception = False
    response = client.get("/api/v1/explode/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Server error."}
    assert "boom" not in response.content.decode()


def test_a_bad_filter_value_is_a_400_naming_the_field(alice_api):
    response = alice_api.get("/api/v1/organisations/?kind=empire")
    assert response.status_code == 400
    assert "kind" in response.json()


def test_lists_paginate_with_a_capped_page_size(alice_api, italy, morocco, agency):
    body = alice_api.get("/api/v1/organisations/?page_size=2").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    capped = alice_api.get("/api/v1/organisations/?page_size=100000").json()
    assert len(capped["results"]) == 3
    assert alice_api.get("/api/v1/organisations/?page=99").status_code == 404


def test_it_throttles_with_a_json_429(alice_api, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/minute", "anon": "3/minute"})
    statuses = [alice_api.get("/api/v1/me/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    last = alice_api.get("/api/v1/me/")
    assert "detail" in last.json() and int(last["Retry-After"]) > 0


def test_the_schema_and_docs_are_public_and_served_locally(anon_api):
    schema = anon_api.get("/api/schema/?format=json")
    assert schema.status_code == 200
    spec = schema.json()
    assert spec["openapi"].startswith("3.")
    # Request and response components are split, and errors are documented.
    assert {"InvitationCreateRequest", "Invitation", "PatchedMeUserRequest"} <= set(spec["components"]["schemas"])
    invite = spec["paths"]["/api/v1/organisations/{organisation_id}/invitations/"]["post"]["responses"]
    assert {"201", "400", "401", "403", "404"} <= set(invite)
    docs = anon_api.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "/static/drf_spectacular_sidecar/" in html


def test_the_audit_log_is_append_only(alice):
    event = audit_record(actor=None, action="test.recorded", object_type="test")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_auditevent SET action = 'rewritten' WHERE id = %s", [event.id])
    with pytest.raises(DatabaseError), transaction.atomic(), unscoped("assertion"):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with unscoped("assertion"):
        assert AuditEvent.objects.get(pk=event.pk).action == "test.recorded"


@pytest.mark.parametrize(
    "query", ["page_size=ten", "page_size=0", "page_size=-3", "page=abc", "page=0", "page=1&page=2"]
)
def test_a_malformed_page_parameter_is_a_400_naming_it(query, alice_api):
    response = alice_api.get(f"/api/v1/organisations/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_an_agency_has_no_country_rather_than_an_empty_code(alice_api, agency):
    body = alice_api.get(f"/api/v1/organisations/{agency.slug}/").json()
    assert body["country"] is None and body["kind"] == "agency"


def test_an_unreadable_boolean_filter_is_a_400_not_the_unfiltered_list(alice_api, italy, morocco):
    assert alice_api.get("/api/v1/organisations/?is_origin=perhaps").status_code == 400
    origins = alice_api.get("/api/v1/organisations/?is_origin=true").json()["results"]
    assert [o["slug"] for o in origins] == [morocco.slug]


def test_a_body_that_is_not_json_is_a_400(alice_api):
    response = alice_api.generic("POST", "/api/v1/tokens/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/listings/{id}/approve/" in target.read_text()


def test_a_page_beyond_any_result_set_is_a_404_not_a_server_error(bob_api, italy):
    response = bob_api.get("/api/v1/deliveries/?page=118228270243975520")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_a_body_with_too_many_fields_is_a_400_that_names_the_limit(bob_api, italy, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    response = bob_api.post("/api/v1/subscriptions/", data={f"f{i}": "x" for i in range(20)}, format="multipart")
    assert response.status_code == 400
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in response.json()["detail"]
