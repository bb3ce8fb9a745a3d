"""seed_demo: real-world ministries, an agency, two people each; run it twice and nothing changes."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory
from django_scopes import ScopeError
from django_scopes.state import state

from accounts.management.commands.seed_demo import DEMO_ORGANISATIONS, DEMO_PASSWORD
from accounts.models import AuditEvent, Membership, Organisation, User
from accounts.tenancy import unscoped

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, object]:
    with unscoped("tests compare totals across tenants"):
        return {
            "organisations": sorted(Organisation.objects.values_list("slug", "focal_point_id")),
            "users": sorted(User.objects.values_list("email", "password")),
            "memberships": sorted(Membership.objects.values_list("user__email", "organisation__slug", "role")),
            "audit": AuditEvent.objects.count(),
        }


def printed_logins(output: str) -> list[tuple[str, str, str]]:
    """(e-mail, password, role) from the printed table."""
    pattern = re.compile(r"^(\S+@\S+\.demo\.corridor\.example)\s+(\S+)\s+.+\s+(\w+)$", re.MULTILINE)
    return pattern.findall(output)


def test_seed_demo_creates_the_governments_and_the_agency_with_an_admin_and_a_focal_point() -> None:
    seed()
    italy = Organisation.objects.get(slug="it-labour")
    assert (italy.name, italy.country.code, italy.is_destination) == (
        "Ministry of Labour and Social Policies",
        "IT",
        True,
    )
    morocco = Organisation.objects.get(slug="ma-employment")
    assert (morocco.country.code, morocco.is_origin, morocco.is_destination) == ("MA", True, False)
    agency = Organisation.objects.get(slug="ilma")
    assert agency.kind == "agency"
    assert {o.slug for o in Organisation.objects.all()} == {spec.slug for spec in DEMO_ORGANISATIONS}
    assert {o.country.code for o in Organisation.objects.filter(kind="government")} >= {
        "IT",
        "DE",
        "ES",
        "MD",
        "PH",
        "SN",
        "MA",
    }
    for organisation in Organisation.objects.all():
        roles = set(Membership.objects.filter(organisation=organisation).values_list("role", flat=True))
        assert roles == ({"moderator", "admin"} if organisation.is_agency else {"admin", "official"})
        assert organisation.focal_point is not None
        assert Membership.objects.filter(organisation=organisation, user=organisation.focal_point).exists()
    assert Membership.objects.get(user__email="admin@it.demo.corridor.example", organisation=italy).role == "admin"


def test_seed_demo_run_twice_changes_nothing() -> None:
    seed()
    first = snapshot()
    second_output = seed()
    assert snapshot() == first
    assert "Created" not in second_output


def test_seed_demo_prints_logins_that_work() -> None:
    seed()
    output = seed()
    logins = printed_logins(output)
    assert len(logins) == 2 * len(DEMO_ORGANISATIONS)
    assert ("admin@it.demo.corridor.example", DEMO_PASSWORD, "admin") in logins
    assert ("moderator@ilma.demo.corridor.example", DEMO_PASSWORD, "moderator") in logins
    request = RequestFactory().post("/accounts/login/")
    for email, password, _role in logins:
        assert authenticate(request, username=email, password=password) is not None, email


def test_seed_demo_restores_a_changed_demo_password() -> None:
    seed()
    user = User.objects.get(email="official@ph.demo.corridor.example")
    user.set_password("somebody-changed-it")
    user.save()
    seed()
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)


def test_seed_demo_leaves_an_existing_organisation_alone_and_adds_the_rest(italy: Organisation) -> None:
    seed()
    assert Organisation.objects.filter(slug="it-labour").count() == 1
    assert Organisation.objects.get(slug="it-labour").id == italy.id
    assert Membership.objects.filter(organisation=italy, role="admin").exists()


def test_seed_demo_works_without_a_tenant_scope_as_in_a_real_manage_py_run() -> None:
    token = state.set({})  # the fail-closed default of a real manage.py run
    try:
        with pytest.raises(ScopeError):
            Membership.objects.count()
        seed()
        seed()
    finally:
        state.reset(token)
    assert Organisation.objects.count() == len(DEMO_ORGANISATIONS)
