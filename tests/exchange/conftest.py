"""Governments and listings for exchange tests, published the way production publishes them.

``published`` runs the real path: serializer, services, moderator approval, and the
after-commit hook that enqueues matching (tasks run eagerly in tests).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest
from django.test import Client, TestCase

from accounts.models import Organisation, User
from accounts.tenancy import Actor, tenant_scope
from opportunities.models import Listing
from tests.conftest import signed_in
from tests.factories import OrganisationFactory, member
from tests.opportunities.conftest import create_listing, days, publish


def published(owner: Actor, moderator: Actor, payload: dict[str, Any]) -> Listing:
    """Each step in its actor's scope; the after-commit hooks run outside any, as a worker runs them."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        listing = publish(create_listing(owner, payload), owner, moderator)
    return listing


def run_on_commit(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a service and run its after-commit hooks. With an ``actor=`` keyword the
    service runs in that actor's scope, as the request calling it would."""
    actor = kwargs.get("actor")
    scope = tenant_scope(actor) if isinstance(actor, Actor) else nullcontext()
    with TestCase.captureOnCommitCallbacks(execute=True), scope:
        return fn(*args, **kwargs)


def scheme(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "direction": "demand",
        "title": "A scheme",
        "scheme_type": "seasonal",
        "starts_on": days(60),
        "ends_on": days(300),
        "application_deadline": days(30),
        "occupation_lines": [{"isco_code": "9211", "quantity": 100}],
    }
    base.update(overrides)
    return base


def offer(**overrides: Any) -> dict[str, Any]:
    return scheme(**{"direction": "supply", "title": "An offer", **overrides})


@pytest.fixture
def germany(db: Any) -> Organisation:
    return OrganisationFactory(
        name="Federal Employment Agency", slug="de-ba", country="DE", is_destination=True, is_origin=False
    )


@pytest.fixture
def philippines(db: Any) -> Organisation:
    return OrganisationFactory(
        name="Department of Migrant Workers", slug="ph-dmw", country="PH", is_origin=True, is_destination=False
    )


@pytest.fixture
def moldova(db: Any) -> Organisation:
    return OrganisationFactory(
        name="Ministry of Labour and Social Protection",
        slug="md-labour",
        country="MD",
        is_origin=True,
        is_destination=False,
    )


@pytest.fixture
def greta(germany: Organisation) -> User:
    return member(germany, "official", email="greta@arbeitsagentur.example", full_name="Greta Weber")


@pytest.fixture
def paolo(philippines: Organisation) -> User:
    return member(philippines, "official", email="paolo@dmw.gov.example", full_name="Paolo Reyes")


@pytest.fixture
def mihai(moldova: Organisation) -> User:
    return member(moldova, "official", email="mihai@social.gov.example", full_name="Mihai Rusu")


@pytest.fixture
def germany_actor(germany: Organisation, greta: User) -> Actor:
    return Actor(user=greta, organisation=germany, role="official")


@pytest.fixture
def philippines_actor(philippines: Organisation, paolo: User) -> Actor:
    return Actor(user=paolo, organisation=philippines, role="official")


@pytest.fixture
def moldova_actor(moldova: Organisation, mihai: User) -> Actor:
    return Actor(user=mihai, organisation=moldova, role="official")


@pytest.fixture
def italy_official(italy: Organisation, bob: User) -> Actor:
    return Actor(user=bob, organisation=italy, role="official")


@pytest.fixture
def greta_web(greta: User) -> Client:
    return signed_in(greta)


@pytest.fixture
def paolo_web(paolo: User) -> Client:
    return signed_in(paolo)


@pytest.fixture
def mihai_web(mihai: User) -> Client:
    return signed_in(mihai)
