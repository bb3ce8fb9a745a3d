"""Shared fixtures: Alice (admin) and Bob (official) of Italy's ministry, Charlie
(admin) of Morocco's, the outsider who must see 404s, and Mona, a moderator at an
international agency.

Privileged people (organisation administrators, agency moderators, staff) must pass
a second factor before any page opens. ``signed_in(user)`` and Django's own
``Client.force_login`` (wrapped for every test by ``_second_factor_passed``) give
them a session that has passed it, with a real confirmed device as django-otp
records it; ``signed_in(user, verified=False)`` gives the session as it is after
the password alone, for the tests of the second factor itself.

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

import accounts.middleware  # noqa: F401 - connects its user_logged_in receiver, as serving a request would
from accounts.models import Organisation, User
from accounts.services import token_issue
from accounts.tenancy import unscoped
from tests.factories import AgencyFactory, OrganisationFactory, member

pytest_plugins: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """A serialized rollback first clears the content types a flush may have recreated.

    A transactional test without ``serialized_rollback`` ends with a flush that runs
    ``post_migrate``, which creates the content types and permissions again under new ids;
    a later test with ``serialized_rollback`` then restores the snapshot's rows under their
    old ids and collides on ``(app_label, model)``. Which of the two a worker runs first
    depends on xdist's split, so it failed now and then. The snapshot brings both tables
    back whole, with their ids; ``django_admin_log`` (their only other referrer) is empty in it.
    """
    from django.db.backends.base.creation import BaseDatabaseCreation

    restore = BaseDatabaseCreation.deserialize_db_from_string

    def deserialize_db_from_string(self: BaseDatabaseCreation, data: str) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("TRUNCATE auth_permission, django_content_type CASCADE")
        restore(self, data)

    BaseDatabaseCreation.deserialize_db_from_string = deserialize_db_from_string  # type: ignore[method-assign]


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


TEST_DEVICE_NAME = "Test session key"


def second_factor_device(user: User) -> Any:
    """A confirmed django-otp device for ``user`` that stands for "passed the second factor".

    A recovery-code device with no codes left: it marks a session as verified
    exactly as a real sign-in does (the ``otp_device_id`` session key), but nobody
    can ever sign in with it, and it is not the authenticator app that the profile
    and the organisation's member list show.
    """
    from django_otp.plugins.otp_static.models import StaticDevice

    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=TEST_DEVICE_NAME, defaults={"confirmed": True}
    )
    return device


_force_login_without_second_factor = Client.force_login


def _force_login_with_second_factor(self: Client, user: Any, backend: str | None = None) -> None:
    """``Client.force_login``, plus the second factor for people who must pass one.

    The device goes into the session under django-otp's own key, as
    ``django_otp.login`` puts it there after a real code.
    """
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.selectors import memberships_of_user
    from accounts.two_factor import is_privileged

    _force_login_without_second_factor(self, user, backend)
    # A member of an organisation that requires two-factor sign-in is left as the
    # password alone leaves them: the tests of that rule start there.
    if is_privileged(user=user) and not any(m.organisation.require_two_factor for m in memberships_of_user(user=user)):
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = second_factor_device(user).persistent_id
        session.save()


@pytest.fixture(autouse=True)
def _second_factor_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Client, "force_login", _force_login_with_second_factor)


def signed_in(user: User, *, verified: bool = True) -> Client:
    """A browser-like client with ``user``'s session (the web pages, not the API).

    ``verified=False``: the session right after the password, before any second factor.
    """
    client = Client()
    if verified:
        client.force_login(user)
    else:
        _force_login_without_second_factor(client, user)
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
