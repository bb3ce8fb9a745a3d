"""The lean list and detail (opportunities.api.lean) answer exactly what ListingSerializer would:
every field of every listing, for the owner, another government and an agency, in two languages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.utils import translation

from accounts.tenancy import Actor, tenant_scope
from opportunities.api.serializers import ListingSerializer
from opportunities.selectors import listing_list
from tests.conftest import token_client
from tests.opportunities.conftest import create_listing, publish, seasonal_scheme, worker_offer

URL = "/api/v1/listings/"


@pytest.fixture
def world(italy, morocco, alice, bob, charlie, moderator) -> dict[str, Any]:
    italian = Actor(user=alice, organisation=italy, role="admin")
    moroccan = Actor(user=charlie, organisation=morocco, role="admin")
    rich = seasonal_scheme(
        contact=str(bob.pk),
        stay_overrides=[{"country": "MA", "max_stay_months": 6}],
        allocations=[{"country": "MA", "places": 800, "isco_code": "9211"}, {"country": "SN", "places": 150}],
        occupation_lines=[
            {"isco_code": "9211", "quantity": 900, "languages": [{"language": "es", "level": "A1"}]},
            {"isco_code": "2221", "quantity": 12, "min_experience_years": 2, "qualification_notes": "Registered"},
        ],
        gender_provisions="Equal access; childcare on site.",
        # Nurses (2221) from Senegal, on the WHO safeguard list: published only under a G2G agreement,
        # and flagged to the owner and the agencies (safeguard_flag).
        government_agreement="Italy–Senegal health workforce agreement, 2025",
        duration_months_min=3,
        duration_months_max=9,
    )
    listings = [
        publish(create_listing(italian, rich), italian, moderator),
        publish(
            create_listing(italian, seasonal_scheme(visibility="partners", wage_floor_monthly=None, currency="")),
            italian,
            moderator,
        ),
        publish(create_listing(moroccan, worker_offer(visibility="public")), moroccan, moderator),
        create_listing(italian, seasonal_scheme(title="A draft of Italy")),
    ]
    # A pending revision, which only insiders see.
    response = token_client(alice, italy).patch(f"{URL}{listings[0].pk}/", {"title": "Renamed"}, format="json")
    assert response.status_code == 200
    assert response.json()["pending_revision"] is not None
    return {"listings": listings, "actors": {"owner": italian, "outsider": moroccan, "agency": moderator}}


def _serializer_output(actor: Actor) -> dict[str, Any]:
    with tenant_scope(actor):
        listings = listing_list(actor=actor)
        data = ListingSerializer(listings, many=True, context={"actor": actor}).data
    return {row["id"]: json.loads(json.dumps(row)) for row in data}


@pytest.mark.parametrize("audience", ["owner", "outsider", "agency"])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_lean_list_and_detail_say_exactly_what_the_serializer_says(world, audience, language):
    actor = world["actors"][audience]
    client = token_client(actor.user, actor.organisation)
    with translation.override(language):
        expected = _serializer_output(actor)
    listed = client.get(URL, {"page_size": 100}, HTTP_ACCEPT_LANGUAGE=language).json()["results"]
    assert len(listed) == len(expected) >= 3
    for row in listed:
        assert list(row) == list(expected[row["id"]])  # the same fields, in the same order
        assert row == expected[row["id"]]
        detail = client.get(f"{URL}{row['id']}/", HTTP_ACCEPT_LANGUAGE=language).json()
        assert detail == expected[row["id"]]
    # Insiders (the owner, the agencies) see the pending revision; other readers do not.
    assert any(row["pending_revision"] for row in listed) is (audience != "outsider")
    assert any(row["contact"] for row in listed)


def test_an_unknown_or_malformed_id_is_a_404_as_before(world):
    actor = world["actors"]["outsider"]
    client = token_client(actor.user, actor.organisation)
    draft = world["listings"][3]
    assert client.get(f"{URL}{draft.pk}/").status_code == 404
    assert client.get(f"{URL}not-a-uuid/").status_code == 404
    assert client.get(f"{URL}00000000-0000-0000-0000-000000000000/").status_code == 404


def test_the_orjson_renderer_writes_what_drfs_renderer_writes():
    from django.utils.translation import gettext_lazy
    from rest_framework.exceptions import ErrorDetail
    from rest_framework.renderers import JSONRenderer

    from opportunities.api.lean import OrjsonRenderer

    body = {
        "occupation_lines": {0: {"isco_code": [ErrorDetail("'9999' is not an ISCO-08 unit group.", code="invalid")]}},
        "detail": gettext_lazy("Not found."),
        "count": 3,
        "results": [{"title": "Récolte à Huelva — ½ journée", "wage": "1134.00", "ok": True, "none": None}],
    }
    assert OrjsonRenderer().render(body) == JSONRenderer().render(body)
