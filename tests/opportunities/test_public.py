"""The public listings API: published public listings for anyone, everything else a 404."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle

from accounts.models import User
from accounts.tenancy import Actor
from opportunities.models import Listing
from opportunities.services import listing_transition
from tests.opportunities.conftest import create_listing, publish, seasonal_scheme, worker_offer

pytestmark = pytest.mark.django_db

LIST = "/api/v1/public/listings/"


def detail(listing: Listing) -> str:
    return f"{LIST}{listing.pk}/"


@pytest.fixture
def listings(spain_actor: Actor, italy_actor: Actor, morocco_actor: Actor, moderator: Actor) -> dict[str, Listing]:
    """One published public listing and one of every kind the public must not see."""
    public = publish(
        create_listing(spain_actor, seasonal_scheme(title="Public strawberry harvest", visibility="public")),
        spain_actor,
        moderator,
    )
    public_offer = publish(
        create_listing(
            morocco_actor,
            worker_offer(
                title="Public offer of bricklayers",
                visibility="public",
                occupation_lines=[{"isco_code": "7112", "quantity": 40}],
            ),
        ),
        morocco_actor,
        moderator,
    )
    members = publish(
        create_listing(
            italy_actor, seasonal_scheme(title="Members-only olive harvest", partner_countries=[], allocations=[])
        ),
        italy_actor,
        moderator,
    )
    partners = publish(
        create_listing(spain_actor, seasonal_scheme(title="Partners-only citrus harvest", visibility="partners")),
        spain_actor,
        moderator,
    )
    draft = create_listing(spain_actor, seasonal_scheme(title="Draft public scheme", visibility="public"))
    submitted = create_listing(spain_actor, seasonal_scheme(title="Submitted public scheme", visibility="public"))
    listing_transition(actor=spain_actor, listing=submitted, action="submit")
    changes = create_listing(spain_actor, seasonal_scheme(title="Public scheme sent back", visibility="public"))
    listing_transition(actor=spain_actor, listing=changes, action="submit")
    listing_transition(actor=moderator, listing=changes, action="request_changes", reason="Give the wage floor.")
    closed = publish(
        create_listing(spain_actor, seasonal_scheme(title="Closed public scheme", visibility="public")),
        spain_actor,
        moderator,
    )
    listing_transition(actor=spain_actor, listing=closed, action="close")
    return {
        "public": public,
        "public_offer": public_offer,
        "members": members,
        "partners": partners,
        "draft": draft,
        "submitted": submitted,
        "changes_requested": changes,
        "closed": closed,
    }


def titles(body: dict[str, Any]) -> set[str]:
    return {item["title"] for item in body["results"]}


def test_the_public_list_shows_only_published_public_listings_to_anonymous_callers(
    anon_api: APIClient, listings: dict[str, Listing]
) -> None:
    response = anon_api.get(LIST)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert titles(body) == {"Public strawberry harvest", "Public offer of bricklayers"}
    assert body["count"] == 2
    assert all(item["status"] == "published" and item["visibility"] == "public" for item in body["results"])


def test_a_published_public_listing_can_be_read_without_a_login(
    anon_api: APIClient, listings: dict[str, Listing]
) -> None:
    response = anon_api.get(detail(listings["public"]))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == str(listings["public"].pk)
    assert body["owner"]["slug"] == "es-inclusion"
    assert body["occupation_lines"][0]["isco_code"] == "9211"
    assert body["allocations"] == [
        {"country": "MA", "places": 800, "isco_code": ""},
        {"country": "SN", "places": 150, "isco_code": ""},
    ]


@pytest.mark.parametrize("kind", ["members", "partners", "draft", "submitted", "changes_requested", "closed"])
def test_anything_not_published_and_public_is_a_404_in_json(
    kind: str, anon_api: APIClient, listings: dict[str, Listing]
) -> None:
    response = anon_api.get(detail(listings[kind]))
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert listings[kind].title not in anon_api.get(LIST).content.decode()


def test_a_malformed_or_unknown_id_is_a_404_in_json(anon_api: APIClient, listings: dict[str, Listing]) -> None:
    for path in (f"{LIST}not-a-uuid/", f"{LIST}00000000-0000-0000-0000-000000000000/"):
        response = anon_api.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_public_output_leaves_out_the_contact_and_the_internal_fields(
    anon_api: APIClient, listings: dict[str, Listing], rosa: User
) -> None:
    assert listings["public"].contact_id == rosa.pk  # the focal point is the contact, internally
    for response in (anon_api.get(LIST), anon_api.get(detail(listings["public"]))):
        raw = response.content.decode()
        assert rosa.email not in raw
        assert "@" not in raw
    body = anon_api.get(detail(listings["public"])).json()
    for field in ("contact", "pending_revision", "submitted_at", "updated_at", "created_at", "safeguard_flag"):
        assert field not in body
    assert body["published_at"]


def test_the_public_list_takes_the_main_lists_filters(anon_api: APIClient, listings: dict[str, Listing]) -> None:
    assert titles(anon_api.get(LIST, {"direction": "supply"}).json()) == {"Public offer of bricklayers"}
    assert titles(anon_api.get(LIST, {"occupation": "92"}).json()) == {"Public strawberry harvest"}
    assert titles(anon_api.get(LIST, {"q": "strawberry"}).json()) == {"Public strawberry harvest"}
    assert titles(anon_api.get(LIST, {"owner_country": "ma"}).json()) == {"Public offer of bricklayers"}
    assert titles(anon_api.get(LIST, {"status": "draft"}).json()) == set()
    assert anon_api.get(LIST, {"page_size": 1}).json()["count"] == 2
    bad = anon_api.get(LIST, {"occupation": "99999"})
    assert bad.status_code == 400
    assert "occupation" in bad.json()


def test_signed_in_callers_see_the_same_public_listings_and_a_bad_token_is_ignored(
    charlie_api: APIClient, listings: dict[str, Listing]
) -> None:
    # Charlie may read the members-only listing in the main API, but this is the public view.
    assert charlie_api.get(f"/api/v1/listings/{listings['members'].pk}/").status_code == 200
    assert titles(charlie_api.get(LIST).json()) == {"Public strawberry harvest", "Public offer of bricklayers"}
    assert charlie_api.get(detail(listings["members"])).status_code == 404
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert stranger.get(LIST).status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_public_api_is_read_only(method: str, anon_api: APIClient, listings: dict[str, Listing]) -> None:
    for path in (LIST, detail(listings["public"])):
        response = getattr(anon_api, method)(path, {"title": "Defaced"}, format="json")
        assert response.status_code == 405
        assert "detail" in response.json()
    listings["public"].refresh_from_db()
    assert listings["public"].title == "Public strawberry harvest"


def test_anonymous_callers_are_throttled(
    anon_api: APIClient, listings: dict[str, Listing], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(AnonRateThrottle.THROTTLE_RATES, "anon", "3/minute")
    statuses = [anon_api.get(LIST).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert "Retry-After" in anon_api.get(detail(listings["public"]))
