"""Schemathesis fuzzes every operation of the live API schema: as a government official, as an agency moderator
and anonymously; and the public operations once more with a made-up token, which they must refuse as documented.

The schema is the one the site serves (``/api/schema/?format=json``), loaded through the WSGI application when
this module is collected, so each operation is its own pytest item and xdist spreads them over the workers. Every
case is sent in-process to the same WSGI application, inside the test's transaction: the world below (the access
matrix's, ``tests/access_matrix/world.py``) is built once per module and xdist worker and rolled back at the end,
and each operation's cases run in a savepoint of it, so the fuzzer's writes never outlive the test.

Generated path parameters are mostly swapped for the ids of real objects (the callers' own, another tenant's
private and shared ones, and the generated id itself, usually a missing one), so the fuzzer reaches the handlers
and serializers instead of stopping at a 404.

Each response must pass ``CHECKS``: no 5xx, only documented status codes and content types, bodies that match the
documented schema, and no operation that declares authentication answering 2xx without it (schemathesis repeats an
authenticated success without credentials and with invalid ones). Generation is derandomised with a fixed seed, so
a failure reproduces with the same command (docs/api.md, "Fuzzing").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import strategies as st
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tenancy import unscoped
from tests.access_matrix.world import World, build_world

# Examples per operation in the fuzzing phase (the schema's own examples come on top). With three callers and
# about 120 operations this keeps the whole run within a few minutes on two cores; look harder locally with
# FUZZ_MAX_EXAMPLES=100, or another FUZZ_SEED (docs/api.md, "Fuzzing"). CI always runs the defaults.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "12"))
SEED = int(os.environ.get("FUZZ_SEED", "20260314"))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ignored_auth,
]

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        # Examples (from the schema) and fuzzing. The coverage phase enumerates every boundary value of every
        # parameter (hundreds of cases for a listing's body) and the stateful phase chains operations; both are
        # for a longer run than `make test` affords (docs/api.md, "Fuzzing").
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=CONFIG)

# --- Real objects for the path parameters -------------------------------------------------------------------

# The collection a path parameter names (the segment before it) → the world's objects of that kind.
OBJECTS = {
    "listings": [
        "own_listing",
        "italy_draft",
        "italy_shared",
        "italy_public",
        "moldova_listing",
        "italy_md_scheme",
    ],
    "matches": ["own_match", "other_match"],
    "deliveries": ["morocco_delivery", "agency_delivery", "italy_delivery"],
    "notifications": ["morocco_notification", "agency_notification", "italy_notification"],
    "imports": ["morocco_profile_import", "italy_profile_import"],
    "outcome-imports": ["morocco_outcome_import", "italy_outcome_import"],
    "invitations": ["morocco_invitation", "agency_invitation", "italy_invitation"],
    "members": ["morocco_member", "agency_member", "italy_member"],
    "partnerships": ["own_partnership", "private_partnership", "shared_partnership"],
    "documents": ["own_document", "private_document", "shared_document"],
    "profiles": ["own_profile", "italy_profile_draft", "italy_profile_shared", "italy_profile_public"],
    "observations": ["own_profile_figure", "italy_profile_draft_figure", "italy_profile_shared_figure"],
    "skills": ["own_profile_skill", "italy_profile_draft_skill", "italy_profile_shared_skill"],
    "subscriptions": ["morocco_subscription", "agency_subscription", "italy_subscription"],
    "suggestions": ["own_suggestion", "other_suggestion"],
    "tokens": ["gov_official_token", "agency_moderator_token", "italy_token"],
}
# Values that are not object ids: a corridor's countries, an occupation's code.
VALUES = {"origin": ["MA", "IT", "MD"], "destination": ["IT", "ES", "MA"], "code": ["2221", "6111", "9999"]}

# Filled by the ``world`` fixture before any case is generated: parameter key → real values.
_REAL: dict[str, list[str]] = {}


def _collection(path: str, name: str) -> str:
    """The path segment before ``{name}``: ``/profiles/{profile_pk}/skills/{id}/`` gives ``skills`` for ``id``."""
    return path.split("{" + name + "}", 1)[0].rstrip("/").rsplit("/", 1)[-1]


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Mostly real objects' ids; the generated value (usually missing, sometimes malformed) stays a choice."""
    if not path_parameters:
        return st.just(path_parameters)
    path = context.operation.path
    choices = {}
    for name, value in path_parameters.items():
        real = VALUES.get(name) or _REAL.get(_collection(path, name), [])
        choices[name] = st.sampled_from([*real, value]) if real else st.just(value)
    return st.fixed_dictionaries(choices)


# --- The world and the callers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[World]:
    """The access matrix's world, built once inside a transaction rolled back when the module is done."""
    media = tmp_path_factory.mktemp("media")
    with (
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            MEDIA_ROOT=str(media),
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        ),
        django_db_blocker.unblock(),
    ):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with unscoped("test world"):
                built = build_world()
            for collection, keys in OBJECTS.items():
                _REAL[collection] = [str(built.objects[key].pk) for key in keys]
            _REAL["organisations"] = [str(org.pk) for org in built.orgs.values()]
            yield built
        finally:
            _REAL.clear()
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def fuzz_world(world: World, db: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """``db`` wraps each operation in a savepoint of the world's transaction, and each case gets its own."""
    rate = "100000/minute"
    settings.API_THROTTLE_USER = settings.API_THROTTLE_ANON = rate
    # DRF reads the rates once, when the throttle class is defined.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": rate, "anon": rate})
    # A real WSGI request ends with ``request_finished``, whose handler closes a connection that is not in
    # autocommit mode: the test's own transaction. Django's test client disconnects it the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield world
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# The world fixture is deliberately shared by an operation's cases: each case runs in its own savepoint.
SHARED_WORLD = hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])


def _call(case: Any, w: World, role: str | None) -> None:
    # The WSGI transport hands the checks the raw body: ask for it uncompressed (GZipMiddleware honours this).
    headers = {"Accept-Encoding": "identity"}
    if role:
        headers["Authorization"] = f"Token {w.secrets[role]}"
    with transaction.atomic():
        case.call_and_validate(headers=headers, checks=CHECKS)
        transaction.set_rollback(True)


@schema.parametrize()
@SHARED_WORLD
def test_the_api_holds_its_schema_for_a_government_official(case: Any, fuzz_world: World) -> None:
    _call(case, fuzz_world, "gov_official")


@schema.parametrize()
@SHARED_WORLD
def test_the_api_holds_its_schema_for_an_agency_moderator(case: Any, fuzz_world: World) -> None:
    _call(case, fuzz_world, "agency_moderator")


def _public(ctx: Any) -> bool:
    """An operation anonymous callers may use: its security lists ``{}`` (no credentials)."""
    return {} in ctx.operation.definition.raw.get("security", [])


@schema.parametrize()
@SHARED_WORLD
def test_the_api_holds_its_schema_for_an_anonymous_caller(case: Any, fuzz_world: World) -> None:
    _call(case, fuzz_world, None)


@schema.include(_public).parametrize()
@SHARED_WORLD
def test_a_public_operation_refuses_an_invalid_token_as_documented(case: Any, fuzz_world: World) -> None:
    """A public read still checks credentials that are sent: a revoked or made-up token is a documented 401."""
    headers = {"Accept-Encoding": "identity", "Authorization": "Token not-a-real-token"}
    with transaction.atomic():
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        transaction.set_rollback(True)
    # Only the public listings authenticate nobody, so only they can answer a made-up token with a success.
    assert response.status_code >= 400 or case.operation.path.startswith("/api/v1/public/")
