"""The public Atom feed: the most recently published public listings, valid Atom."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from accounts.tenancy import Actor, tenant_scope
from opportunities import feeds
from opportunities.models import Listing
from opportunities.services import listing_transition
from tests.opportunities.conftest import create_listing, publish, seasonal_scheme

pytestmark = pytest.mark.django_db

FEED = "/feeds/listings.atom"
ATOM = "{http://www.w3.org/2005/Atom}"


def parse(content: bytes) -> ET.Element:
    # Our own server's response, not untrusted input (hence no defusedxml).
    return ET.fromstring(content)  # noqa: S314


def entries(client: Client) -> list[ET.Element]:
    response = client.get(FEED)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = parse(response.content)
    assert root.tag == f"{ATOM}feed"
    return root.findall(f"{ATOM}entry")


def by_title(client: Client) -> dict[str, ET.Element]:
    return {entry.findtext(f"{ATOM}title"): entry for entry in entries(client)}


@pytest.fixture
def public_scheme(spain_actor: Actor, moderator: Actor) -> Listing:
    payload = seasonal_scheme(
        title="Public strawberry harvest",
        visibility="public",
        occupation_lines=[{"isco_code": "9211", "quantity": 900}, {"isco_code": "6111", "quantity": 50}],
    )
    return publish(create_listing(spain_actor, payload), spain_actor, moderator)


@pytest.fixture
def members_scheme(italy_actor: Actor, moderator: Actor) -> Listing:
    payload = seasonal_scheme(title="Members-only olive harvest", partner_countries=[], allocations=[])
    return publish(create_listing(italy_actor, payload), italy_actor, moderator)


def test_the_feed_is_atom_with_the_public_listing_and_not_the_members_only_one(
    client: Client, public_scheme: Listing, members_scheme: Listing, spain_actor: Actor
) -> None:
    create_listing(spain_actor, seasonal_scheme(title="Draft public scheme", visibility="public"))
    response = client.get(FEED)
    root = parse(response.content)
    # The feed-level elements Atom (RFC 4287) requires.
    assert root.findtext(f"{ATOM}title")
    assert root.findtext(f"{ATOM}id")
    assert root.findtext(f"{ATOM}updated")
    assert set(by_title(client)) == {"Public strawberry harvest"}


def test_a_feed_entry_carries_link_id_dates_author_and_categories(client: Client, public_scheme: Listing) -> None:
    entry = by_title(client)["Public strawberry harvest"]
    assert entry.findtext(f"{ATOM}id") == f"urn:uuid:{public_scheme.pk}"
    link = entry.find(f"{ATOM}link").get("href")
    assert link == f"http://testserver/public/listings/{public_scheme.pk}/"
    assert entry.findtext(f"{ATOM}summary") == public_scheme.summary
    published = datetime.datetime.fromisoformat(entry.findtext(f"{ATOM}published"))
    assert published == public_scheme.published_at
    assert entry.findtext(f"{ATOM}updated")
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Ministry of Inclusion, Social Security and Migration"
    terms = [category.get("term") for category in entry.findall(f"{ATOM}category")]
    assert terms == ["seasonal", "ISCO-08:9211", "ISCO-08:6111"]
    # The link answers without a login: the listing's public web page.
    assert client.get(link.removeprefix("http://testserver")).status_code == 200


def test_closed_listings_leave_the_feed(client: Client, public_scheme: Listing, spain_actor: Actor) -> None:
    with tenant_scope(spain_actor):
        listing_transition(actor=spain_actor, listing=public_scheme, action="close")
    assert entries(client) == []


def test_the_feed_holds_the_most_recently_published_listings_newest_first(
    client: Client, spain_actor: Actor, moderator: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feeds, "FEED_SIZE", 2)
    for n in (1, 2, 3):
        publish(
            create_listing(spain_actor, seasonal_scheme(title=f"Public scheme {n}", visibility="public")),
            spain_actor,
            moderator,
        )
    assert [entry.findtext(f"{ATOM}title") for entry in entries(client)] == ["Public scheme 3", "Public scheme 2"]


def test_an_empty_feed_is_still_valid_atom(client: Client) -> None:
    assert entries(client) == []
