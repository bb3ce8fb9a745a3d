"""The operators' commands: createorganisation, adduser, issuetoken.

Success prints the new object's id (or the token secret) alone on the last line;
bad input exits non-zero with a message naming the problem and saves nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import ScopeError
from django_scopes.state import state

from accounts.models import ApiToken, AuditEvent, Membership, Organisation, User
from accounts.services import token_authenticate
from accounts.tenancy import unscoped

pytestmark = pytest.mark.django_db


def run(command: str, *args: str) -> list[str]:
    """Run a command; return its stdout lines."""
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue().splitlines()


def counts() -> dict[str, int]:
    with unscoped("tests compare totals across tenants"):
        return {
            "organisations": Organisation.objects.count(),
            "users": User.objects.count(),
            "memberships": Membership.objects.count(),
            "tokens": ApiToken.objects.count(),
            "audit": AuditEvent.objects.count(),
        }


def fails(command: str, *args: str) -> str:
    """Run a command that must fail; assert nothing was saved; return the message."""
    before = counts()
    with pytest.raises(CommandError) as excinfo:
        run(command, *args)
    assert counts() == before
    return str(excinfo.value)


@pytest.fixture
def fail_closed_scopes() -> Iterator[None]:
    """The state of a real ``manage.py`` run: no scope, so private queries raise ScopeError."""
    token = state.set({})
    try:
        with pytest.raises(ScopeError):
            Membership.objects.count()
        yield
    finally:
        state.reset(token)


# --- createorganisation ------------------------------------------------------------


def test_createorganisation_prints_the_new_governments_public_id_on_the_last_line() -> None:
    lines = run(
        "createorganisation",
        "--name",
        "Federal Ministry of Labour and Social Affairs",
        "--kind",
        "government",
        "--country",
        "de",
        "--destination",
        "--slug",
        "de-labour",
    )
    organisation = Organisation.objects.get(id=uuid.UUID(lines[-1]))
    assert organisation.name == "Federal Ministry of Labour and Social Affairs"
    assert organisation.slug == "de-labour"
    assert organisation.country.code == "DE"
    assert (organisation.is_origin, organisation.is_destination) == (False, True)
    with unscoped("the test reads the audit trail"):
        assert AuditEvent.objects.filter(action="organisation.created", organisation=organisation).exists()


def test_createorganisation_makes_a_pending_organisation_unless_told_it_is_verified() -> None:
    pending = Organisation.objects.get(
        id=run("createorganisation", "--name", "Ministry of Labour", "--kind", "government", "--country", "GH")[-1]
    )
    assert pending.verification_status == "pending" and pending.verified_at is None
    lines = run(
        "createorganisation", "--name", "Vetted ministry", "--kind", "government", "--country", "KE", "--verified"
    )
    vetted = Organisation.objects.get(id=lines[-1])
    assert vetted.verification_status == "verified" and vetted.verified_at is not None
    assert "verified" in lines[-2]


def test_createorganisation_derives_a_slug_for_an_agency_without_a_country() -> None:
    lines = run("createorganisation", "--name", "International Labour Mobility Agency", "--kind", "agency")
    organisation = Organisation.objects.get(id=lines[-1])
    assert organisation.kind == "agency"
    assert organisation.country == ""
    assert organisation.slug == "international-labour-mobility-agency"


@pytest.mark.parametrize("country", ["XX", "Italy", "ITA"])
def test_createorganisation_rejects_a_country_that_is_not_an_iso_code(country: str) -> None:
    message = fails("createorganisation", "--name", "Ministry", "--kind", "government", "--country", country)
    assert message.startswith("country:")
    assert "is not an ISO 3166-1 alpha-2 country code" in message
    assert country.upper() in message


def test_createorganisation_rejects_a_government_without_a_country() -> None:
    message = fails("createorganisation", "--name", "Ministry of Labour", "--kind", "government")
    assert message == "country: A government organisation needs a country."


def test_createorganisation_rejects_an_agency_with_a_country() -> None:
    message = fails("createorganisation", "--name", "Agency", "--kind", "agency", "--country", "CH")
    assert message == "country: An international agency has no country."


@pytest.mark.parametrize("flag", ["--origin", "--destination"])
def test_createorganisation_rejects_an_agency_that_is_origin_or_destination(flag: str) -> None:
    message = fails("createorganisation", "--name", "Agency", "--kind", "agency", flag)
    assert "neither a country of origin nor of destination" in message


def test_createorganisation_rejects_an_unknown_kind() -> None:
    message = fails("createorganisation", "--name", "Ministry", "--kind", "ngo", "--country", "IT")
    assert "--kind" in message
    assert "invalid choice: 'ngo'" in message


@pytest.mark.parametrize("name", ["", "   "])
def test_createorganisation_rejects_an_empty_name(name: str) -> None:
    message = fails("createorganisation", "--name", name, "--kind", "government", "--country", "IT")
    assert message == "name: A name is required."


def test_createorganisation_rejects_a_slug_that_is_taken(italy: Organisation) -> None:
    message = fails(
        "createorganisation", "--name", "Another", "--kind", "government", "--country", "IT", "--slug", "it-labour"
    )
    assert message == "slug: The slug 'it-labour' is taken."


# --- adduser -------------------------------------------------------------------------


def test_adduser_creates_a_user_with_a_role_and_prints_their_id(italy: Organisation) -> None:
    lines = run(
        "adduser",
        "--email",
        "Giulia.Verdi@Lavoro.gov.example",
        "--organisation",
        "it-labour",
        "--role",
        "official",
        "--password",
        "seasonal-quota-2026",
        "--full-name",
        "Giulia Verdi",
    )
    user = User.objects.get(id=uuid.UUID(lines[-1]))
    assert user.email == "giulia.verdi@lavoro.gov.example"
    assert user.full_name == "Giulia Verdi"
    assert user.check_password("seasonal-quota-2026")
    with unscoped("assertion"):
        assert Membership.objects.get(user=user, organisation=italy).role == "official"
    italy.refresh_from_db()
    assert italy.focal_point == user  # the first official becomes the focal point


def test_adduser_accepts_the_organisations_public_id(agency: Organisation) -> None:
    lines = run("adduser", "--email", "mod@ilma.example", "--organisation", str(agency.id), "--role", "moderator")
    user = User.objects.get(id=lines[-1])
    with unscoped("assertion"):
        assert Membership.objects.get(user=user, organisation=agency).role == "moderator"


def test_adduser_without_a_password_leaves_the_password_unusable(italy: Organisation) -> None:
    lines = run("adduser", "--email", "new@lavoro.gov.example", "--organisation", "it-labour", "--role", "viewer")
    user = User.objects.get(id=lines[-1])
    assert not user.has_usable_password()


def test_adduser_reuses_an_existing_user_by_email_and_updates_the_role(
    italy: Organisation, morocco: Organisation, bob: User
) -> None:
    lines = run("adduser", "--email", "BOB@lavoro.gov.example", "--organisation", "it-labour", "--role", "admin")
    assert lines[-1] == str(bob.id)
    assert "from official to admin" in lines[0]
    with unscoped("assertion"):
        assert Membership.objects.get(user=bob, organisation=italy).role == "admin"

    lines = run("adduser", "--email", bob.email, "--organisation", "ma-employment", "--role", "viewer")
    assert lines[-1] == str(bob.id)
    assert User.objects.filter(email__iexact=bob.email).count() == 1
    with unscoped("assertion"):
        assert Membership.objects.get(user=bob, organisation=morocco).role == "viewer"


def test_adduser_rejects_an_unknown_organisation(italy: Organisation) -> None:
    message = fails("adduser", "--email", "x@gov.example", "--organisation", "atlantis", "--role", "admin")
    assert message == "organisation: No organisation has the id or slug 'atlantis'."
    unknown = str(uuid.uuid4())
    assert unknown in fails("adduser", "--email", "x@gov.example", "--organisation", unknown, "--role", "admin")


def test_adduser_rejects_an_unknown_role(italy: Organisation) -> None:
    message = fails("adduser", "--email", "x@gov.example", "--organisation", "it-labour", "--role", "boss")
    assert message.startswith("role: 'boss' is not a role")
    assert "admin, official, moderator, viewer" in message


@pytest.mark.parametrize(
    ("organisation", "role", "valid"),
    [("it-labour", "moderator", "admin, official, viewer"), ("ilma", "official", "moderator, admin, viewer")],
)
def test_adduser_rejects_a_role_not_valid_for_that_kind_of_organisation(
    italy: Organisation, agency: Organisation, organisation: str, role: str, valid: str
) -> None:
    message = fails("adduser", "--email", "x@gov.example", "--organisation", organisation, "--role", role)
    assert message.startswith(f"role: '{role}' is not a role in a")
    assert valid in message


def test_adduser_rejects_an_invalid_email(italy: Organisation) -> None:
    message = fails("adduser", "--email", "not-an-address", "--organisation", "it-labour", "--role", "viewer")
    assert message == "email: Enter a valid e-mail address."


@pytest.mark.parametrize("password", ["short", "password123", "1234567890123"])
def test_adduser_rejects_a_weak_password_and_creates_no_user(italy: Organisation, password: str) -> None:
    message = fails(
        "adduser", "--email", "x@gov.example", "--organisation", "it-labour", "--role", "viewer", "--password", password
    )
    assert message.startswith("password:")


def test_adduser_rejects_a_weak_password_for_an_existing_user_and_keeps_the_old_one(
    italy: Organisation, morocco: Organisation, bob: User
) -> None:
    message = fails(
        "adduser", "--email", bob.email, "--organisation", "ma-employment", "--role", "viewer", "--password", "short"
    )
    assert message.startswith("password:")
    bob.refresh_from_db()
    assert bob.check_password("correct horse battery staple")
    with unscoped("assertion"):
        assert not Membership.objects.filter(user=bob, organisation=morocco).exists()


def test_adduser_saves_neither_user_nor_password_when_the_role_is_wrong(italy: Organisation, bob: User) -> None:
    fails(
        "adduser",
        "--email",
        "x@gov.example",
        "--organisation",
        "it-labour",
        "--role",
        "moderator",
        "--password",
        "seasonal-quota-2026",
    )
    fails(
        "adduser",
        "--email",
        bob.email,
        "--organisation",
        "it-labour",
        "--role",
        "moderator",
        "--password",
        "seasonal-quota-2026",
    )
    bob.refresh_from_db()
    assert bob.check_password("correct horse battery staple")


def test_adduser_works_without_a_tenant_scope_as_in_a_real_manage_py_run(
    italy: Organisation, bob: User, fail_closed_scopes: None
) -> None:
    lines = run("adduser", "--email", "scope@lavoro.gov.example", "--organisation", "it-labour", "--role", "official")
    run("adduser", "--email", bob.email, "--organisation", "it-labour", "--role", "admin")
    with unscoped("the test checks the result"):
        assert Membership.objects.get(user_id=lines[-1], organisation=italy).role == "official"
        assert Membership.objects.get(user=bob, organisation=italy).role == "admin"


# --- issuetoken ------------------------------------------------------------------------


def test_issuetoken_prints_a_secret_that_authenticates_as_the_member(italy: Organisation, alice: User) -> None:
    lines = run("issuetoken", "--email", "ALICE@lavoro.gov.example", "--organisation", "it-labour", "--name", "ERP")
    secret = lines[-1]
    token = token_authenticate(secret=secret)
    assert token is not None
    assert (token.user, token.organisation, token.name) == (alice, italy, "ERP")
    assert secret not in lines[0]  # shown once, on its own line


def test_issuetoken_rejects_an_unknown_user(italy: Organisation) -> None:
    message = fails("issuetoken", "--email", "nobody@gov.example", "--organisation", "it-labour", "--name", "ERP")
    assert message == "email: No user has the e-mail address 'nobody@gov.example'."


def test_issuetoken_rejects_an_unknown_organisation(alice: User) -> None:
    message = fails("issuetoken", "--email", alice.email, "--organisation", "atlantis", "--name", "ERP")
    assert message == "organisation: No organisation has the id or slug 'atlantis'."


def test_issuetoken_rejects_a_user_who_is_not_a_member(alice: User, morocco: Organisation) -> None:
    message = fails("issuetoken", "--email", alice.email, "--organisation", "ma-employment", "--name", "ERP")
    assert message.startswith("organisation:")
    assert "is not a member of" in message


@pytest.mark.parametrize("name", ["", "  "])
def test_issuetoken_rejects_an_empty_name(alice: User, name: str) -> None:
    message = fails("issuetoken", "--email", alice.email, "--organisation", "it-labour", "--name", name)
    assert message.startswith("name:")


def test_issuetoken_works_without_a_tenant_scope_as_in_a_real_manage_py_run(
    italy: Organisation, alice: User, morocco: Organisation, fail_closed_scopes: Any
) -> None:
    secret = run("issuetoken", "--email", alice.email, "--organisation", "it-labour", "--name", "ERP")[-1]
    with pytest.raises(CommandError, match="is not a member of"):
        run("issuetoken", "--email", alice.email, "--organisation", "ma-employment", "--name", "ERP")
    token = token_authenticate(secret=secret)
    assert token is not None
    assert token.user == alice
