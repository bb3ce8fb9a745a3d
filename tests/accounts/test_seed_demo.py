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
from rest_framework.test import APIClient

from accounts.management.commands.seed_demo import DEMO_ORGANISATIONS, DEMO_PASSWORD
from accounts.models import AuditEvent, Membership, Organisation, User
from accounts.tenancy import Actor, unscoped
from opportunities.demo import DEMO_LISTINGS
from opportunities.models import Listing, ListingTransition, OccupationLine
from opportunities.services import listing_transition
from tests.conftest import token_client

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
            "listings": sorted(Listing.objects.values_list("owner__slug", "title", "status", "updated_at")),
            "occupation_lines": OccupationLine.objects.count(),
            "transitions": ListingTransition.objects.count(),
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
        with unscoped("assertion"):
            roles = set(Membership.objects.filter(organisation=organisation).values_list("role", flat=True))
        assert roles == ({"moderator", "admin"} if organisation.is_agency else {"admin", "official"})
        assert organisation.focal_point is not None
        with unscoped("assertion"):
            assert Membership.objects.filter(organisation=organisation, user=organisation.focal_point).exists()
    with unscoped("assertion"):
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
    with unscoped("assertion"):
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


# --- Listings ------------------------------------------------------------------------

DEMO_STATUSES = {
    "GECCO seasonal red-fruit harvest, Huelva": ("es-inclusion", "published", "public"),
    "Triple Win: nurses and care assistants from the Philippines": ("de-employment-agency", "published", "public"),
    "Circular construction programme: building labourers and bricklayers": ("it-labour", "published", "members"),
    "Women farm workers for seasonal red-fruit harvests": ("ma-anapec", "published", "members"),
    "Registered nurses and nursing associates for Germany": ("ph-migrant-workers", "published", "partners"),
    "Construction labourers and bricklayers for circular contracts": ("sn-labour", "submitted", "members"),
    "Hospitality skills partnership: cooks, waiters and hotel receptionists": (
        "de-labour",
        "changes_requested",
        "members",
    ),
    "Builders and farm workers under the EU–Moldova Mobility Partnership": ("md-labour", "draft", "members"),
}


def demo_client(slug: str, role: str) -> APIClient:
    organisation = Organisation.objects.get(slug=slug)
    with unscoped("test setup"):
        user = Membership.objects.get(organisation=organisation, role=role).user
    return token_client(user, organisation)


def test_seed_demo_posts_listings_in_every_state_through_the_workflow() -> None:
    output = seed()
    listings = {listing.title: listing for listing in Listing.objects.select_related("owner")}
    assert {title: (x.owner.slug, x.status, x.visibility) for title, x in listings.items()} == DEMO_STATUSES
    assert len(DEMO_LISTINGS) == len(DEMO_STATUSES)
    assert "Demo listings: 8 (8 new): 5 published, 1 submitted for moderation, 1 changes requested, 1 draft." in output
    for listing in listings.values():
        actions = list(listing.transitions.values_list("action", flat=True))
        expected = {
            "draft": ["created"],
            "submitted": ["created", "submit"],
            "changes_requested": ["created", "submit", "request_changes"],
            "published": ["created", "submit", "approve"],
        }[listing.status]
        assert actions == expected, listing.title
        assert listing.contact_id == listing.owner.focal_point_id
        if listing.status == "published":
            assert listing.application_deadline > listing.published_at.date()
            assert listing.transitions.get(action="approve").organisation.slug == "ilma"
    sent_back = listings["Hospitality skills partnership: cooks, waiters and hotel receptionists"]
    assert "wage floor" in sent_back.transitions.get(action="request_changes").reason


def test_the_seeded_schemes_carry_the_parameters_of_the_real_ones() -> None:
    seed()
    gecco = Listing.objects.get(title="GECCO seasonal red-fruit harvest, Huelva")
    assert (gecco.direction, gecco.scheme_type, gecco.partner_countries) == ("demand", "seasonal", ["MA", "SN"])
    assert gecco.annual_cap == 21500 and sum(a["places"] for a in gecco.allocations) <= gecco.annual_cap
    assert (gecco.max_stay_months, gecco.stay_window_months) == (9, 12)
    assert (gecco.season_earliest_start, gecco.season_latest_end) == ("01-15", "06-30")
    assert list(gecco.occupation_lines.values_list("occupation_id", flat=True)) == ["9211"]
    triple_win = Listing.objects.get(owner__slug="de-employment-agency")
    assert set(triple_win.occupation_lines.values_list("occupation_id", flat=True)) == {"2221", "5321"}
    assert triple_win.qualification_recognition
    assert {"language": "de", "level": "B1"} in triple_win.occupation_lines.get(occupation_id="2221").languages
    construction = Listing.objects.get(owner__slug="it-labour")
    assert construction.circular and set(construction.isco_prefixes) >= {"9313", "7112"}
    morocco = Listing.objects.get(owner__slug="ma-anapec")
    assert (morocco.direction, morocco.equal_access_for_women, morocco.gender_target_percent) == ("supply", True, 90)
    nurses = Listing.objects.get(owner__slug="ph-migrant-workers")
    assert set(nurses.isco_prefixes) >= {"2221", "3221"}


def test_seed_demo_run_twice_creates_no_listing_and_leaves_them_as_they_are() -> None:
    seed()
    before = snapshot()
    output = seed()
    assert snapshot() == before
    assert Listing.objects.count() == len(DEMO_LISTINGS)
    assert "Demo listings: 8 (0 new)" in output


def test_seed_demo_leaves_a_demo_listing_that_has_moved_on_alone() -> None:
    seed()
    gecco = Listing.objects.get(title="GECCO seasonal red-fruit harvest, Huelva")
    with unscoped("test setup"):
        official = Membership.objects.get(organisation=gecco.owner, role="official").user
    listing_transition(
        actor=Actor(user=official, organisation=gecco.owner, role="official"), listing=gecco, action="close"
    )
    seed()
    assert Listing.objects.filter(title=gecco.title).count() == 1
    assert Listing.objects.get(pk=gecco.pk).status == "closed"


def test_another_demo_government_sees_the_published_demo_listings_through_the_api() -> None:
    seed()
    published = {title for title, (_slug, status, _vis) in DEMO_STATUSES.items() if status == "published"}
    germany = demo_client("de-labour", "official")
    seen = {item["title"] for item in germany.get("/api/v1/listings/", {"page_size": 100}).json()["results"]}
    # Everything published (the Philippine offer is for partner country DE), nothing in moderation or draft.
    assert seen == published | {"Hospitality skills partnership: cooks, waiters and hotel receptionists"}
    italy = demo_client("it-labour", "official")
    seen = {item["title"] for item in italy.get("/api/v1/listings/", {"status": "published"}).json()["results"]}
    assert seen == published - {"Registered nurses and nursing associates for Germany"}
    moderator = demo_client("ilma", "moderator")
    queue = moderator.get("/api/v1/listings/", {"status": "submitted"}).json()["results"]
    assert [item["title"] for item in queue] == ["Construction labourers and bricklayers for circular contracts"]
    public = {item["title"] for item in APIClient().get("/api/v1/public/listings/").json()["results"]}
    assert public == {
        "GECCO seasonal red-fruit harvest, Huelva",
        "Triple Win: nurses and care assistants from the Philippines",
    }
