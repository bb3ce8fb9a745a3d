"""Shared fixtures: Alice (admin) and Bob (official) of Italy's ministry, Charlie
(admin) of Morocco's, the outsider who must see 404s, and Mona, a moderator at an
international agency.

Scoping in tests is as in production. Fixtures build their data unscoped (the
``pytest_fixture_setup`` and teardown hooks below), but a test body runs with no
scope at all: a service called directly runs in the acting organisation's scope
(``with tenant_scope(actor):``, as the edges do in production), and an assertion
that reads a private model directly says so (``with unscoped("assertion"):`` or
``as_assertion()``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from accounts.services import token_issue
from accounts.tenancy import unscoped
from tests.factories import AgencyFactory, OrganisationFactory, member

pytest_plugins: list[str] = []


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> Any:
    """Fixtures build data across tenants, so their setup runs unscoped.

    For a yield fixture this covers the code before its ``yield``; the code after
    it runs in ``pytest_runtest_teardown`` below. Whatever scope a fixture leaves
    behind is undone when its setup returns, so no fixture can hand the test body
    a scope (or a disabled one).
    """
    with unscoped("test fixtures build every tenant's data"):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    with unscoped("test fixtures tear down every tenant's data"):
        return (yield)


@contextmanager
def as_assertion() -> Iterator[None]:
    """A test reading private rows directly, to check what the code under test did."""
    with unscoped("assertion"):
        yield


@pytest.fixture(autouse=True)
def _test_environment(settings: Any) -> Iterator[None]:
    """Fast hasher, fresh cache namespace, tasks inline.

    No scope is active in the test body: requests enter their own, and code under
    test that is called directly must be given one (see the module docstring).
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # One cache namespace per test, so throttle and lockout counters never leak
    # between tests or between xdist workers sharing one Redis.
    caches["default"].key_prefix = f"test-{uuid.uuid4().hex}"
    from config.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager
    # The locale middleware leaves the last request's language active on the thread;
    # the next test starts in the default language, whatever ran before it.
    translation.deactivate()


@pytest.fixture
def italy(db: Any) -> Organisation:
    return OrganisationFactory(
        name="Ministry of Labour and Social Policies", slug="it-labour", country="IT", is_destination=True
    )


@pytest.fixture
def morocco(db: Any) -> Organisation:
    return OrganisationFactory(
        name="Ministry of Economic Inclusion, Employment and Skills",
        slug="ma-employment",
        country="MA",
        is_origin=True,
        is_destination=False,
    )


@pytest.fixture
def agency(db: Any) -> Organisation:
    return AgencyFactory(name="International Labour Mobility Agency", slug="ilma")


@pytest.fixture
def alice(italy: Organisation) -> User:
    return member(italy, "admin", email="alice@lavoro.gov.example", full_name="Alice Rossi")


@pytest.fixture
def bob(italy: Organisation) -> User:
    return member(italy, "official", email="bob@lavoro.gov.example", full_name="Bob Bianchi")


@pytest.fixture
def charlie(morocco: Organisation) -> User:
    return member(morocco, "admin", email="charlie@emploi.gov.example", full_name="Charlie Alaoui")


@pytest.fixture
def mona(agency: Organisation) -> User:
    return member(agency, "moderator", email="mona@ilma.example", full_name="Mona Moderator")


@pytest.fixture
def moderator(agency: Organisation, mona: User) -> Any:
    """Mona acting for the agency: the moderator every listing passes through."""
    from accounts.tenancy import Actor

    return Actor(user=mona, organisation=agency, role="moderator")


def signed_in(user: User) -> Client:
    """A browser-like client with ``user``'s session (the web pages, not the API)."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def bob_web(bob: User) -> Client:
    return signed_in(bob)


def token_client(user: User, organisation: Organisation) -> APIClient:
    _token, secret = token_issue(user=user, organisation=organisation, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


@pytest.fixture
def alice_api(alice: User, italy: Organisation) -> APIClient:
    return token_client(alice, italy)


@pytest.fixture
def bob_api(bob: User, italy: Organisation) -> APIClient:
    return token_client(bob, italy)


@pytest.fixture
def charlie_api(charlie: User, morocco: Organisation) -> APIClient:
    return token_client(charlie, morocco)


@pytest.fixture
def anon_api() -> APIClient:
    return APIClient()
