"""Listings built the way officials build them: through the API serializer and the services."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.tenancy import Actor, tenant_scope
from opportunities.inputs import ListingWriteSerializer
from opportunities.models import Listing
from opportunities.services import listing_create, listing_transition
from tests.factories import member

TODAY = timezone.localdate()


def days(n: int) -> str:
    return (TODAY + datetime.timedelta(days=n)).isoformat()


def seasonal_scheme(**overrides: Any) -> dict[str, Any]:
    """A destination government's seasonal agriculture scheme (modelled on Spain's GECCO)."""
    payload: dict[str, Any] = {
        "direction": "demand",
        "title": "Seasonal red-fruit harvest, Huelva",
        "summary": "Strawberry and berry harvest contracts with return guaranteed.",
        "scheme_type": "seasonal",
        "starts_on": days(60),
        "ends_on": days(240),
        "application_deadline": days(30),
        "partner_countries": ["MA", "SN"],
        "sectors": ["A", "01"],
        "annual_cap": 1000,
        "allocations": [{"country": "MA", "places": 800}, {"country": "SN", "places": 150}],
        "max_stay_months": 9,
        "stay_window_months": 12,
        "season_earliest_start": "02-01",
        "season_latest_end": "06-30",
        "housing": True,
        "fair_recruitment": True,
        "wage_floor_monthly": "1134.00",
        "currency": "EUR",
        "occupation_lines": [{"isco_code": "9211", "quantity": 950, "languages": [{"language": "es", "level": "A1"}]}],
    }
    payload.update(overrides)
    return payload


def worker_offer(**overrides: Any) -> dict[str, Any]:
    """An origin government's offer of trained workers."""
    payload: dict[str, Any] = {
        "direction": "supply",
        "title": "Experienced farm workers ready for seasonal contracts",
        "scheme_type": "seasonal",
        "starts_on": days(30),
        "ends_on": days(300),
        "application_deadline": days(20),
        "partner_countries": [],
        "occupation_lines": [{"isco_code": "9211", "quantity": 500, "languages": [{"language": "es", "level": "A2"}]}],
    }
    payload.update(overrides)
    return payload


def create_listing(actor: Actor, payload: dict[str, Any]) -> Listing:
    """As the API does it, in the actor's scope (also when called from a fixture)."""
    with tenant_scope(actor):
        body = ListingWriteSerializer(data=payload, context={"actor": actor})
        body.is_valid(raise_exception=True)
        return listing_create(actor=actor, data=body.validated_data)


def transition(listing: Listing, actor: Actor, action: str, **kwargs: Any) -> Listing:
    """``listing_transition`` in the acting organisation's scope, as a request runs it."""
    with tenant_scope(actor):
        return listing_transition(actor=actor, listing=listing, action=action, **kwargs)


def publish(listing: Listing, owner: Actor, moderator: Actor) -> Listing:
    transition(listing, owner, "submit")
    return transition(listing, moderator, "approve")


@pytest.fixture
def spain(db: Any) -> Organisation:
    from tests.factories import OrganisationFactory

    return OrganisationFactory(
        name="Ministry of Inclusion, Social Security and Migration",
        slug="es-inclusion",
        country="ES",
        is_destination=True,
    )


@pytest.fixture
def rosa(spain: Organisation) -> User:
    return member(spain, "official", email="rosa@inclusion.gob.example", full_name="Rosa Martín")


@pytest.fixture
def spain_actor(spain: Organisation, rosa: User) -> Actor:
    return Actor(user=rosa, organisation=spain, role="official")


@pytest.fixture
def italy_actor(italy: Organisation, bob: User) -> Actor:
    return Actor(user=bob, organisation=italy, role="official")


@pytest.fixture
def morocco_actor(morocco: Organisation, charlie: User) -> Actor:
    return Actor(user=charlie, organisation=morocco, role="admin")
