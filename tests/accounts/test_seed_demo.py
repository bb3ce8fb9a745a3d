"""seed_demo: real-world ministries, an agency, two people each; run it twice and nothing changes."""

from __future__ import annotations

import re
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Q
from django.test import RequestFactory
from django_scopes import ScopeError
from django_scopes.state import state
from rest_framework.test import APIClient

from accounts.management.commands.seed_demo import DEMO_ORGANISATIONS, DEMO_PASSWORD
from accounts.models import AuditEvent, Membership, Organisation, User
from accounts.tenancy import Actor, unscoped
from exchange.models import MigrationProfile, Observation, OutcomeEntry, ProfileSkill
from exchange.profiles.demo import DEMO_PROFILES
from exchange.profiles.inputs import ObservationInput
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
            "profiles": sorted(
                MigrationProfile.objects.values_list("country", "year", "version", "status", "updated_at")
            ),
            "observations": Observation.objects.count(),
            "skills": ProfileSkill.objects.count(),
            "outcomes": OutcomeEntry.objects.count(),
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


def test_seed_demo_organisations_are_verified_but_one_waits_for_the_agency() -> None:
    seed()
    pending = list(Organisation.objects.filter(verification_status="pending").values_list("slug", flat=True))
    assert pending == ["gh-employment"]
    verified = Organisation.objects.exclude(slug="gh-employment")
    assert verified.count() == len(DEMO_ORGANISATIONS) - 1
    assert all(o.verification_status == "verified" and o.verified_at for o in verified)


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


def test_seed_demo_triple_win_recruits_only_with_the_origin_governments_consent() -> None:
    seed()
    triple_win = Listing.objects.get(owner__slug="de-employment-agency")
    with unscoped("assertion"):
        states = dict(triple_win.origin_consents.values_list("country", "status"))
    assert triple_win.requires_origin_consent and triple_win.government_agreement
    assert states == {"PH": "accepted", "MA": "pending"}
    # The Philippines agreed: it reads the scheme. Morocco has not answered: it does not, and its
    # consent page has the request to decide.
    assert demo_client("ph-migrant-workers", "official").get(f"/api/v1/listings/{triple_win.pk}/").status_code == 200
    morocco = demo_client("ma-employment", "official")
    assert morocco.get(f"/api/v1/listings/{triple_win.pk}/").status_code == 404
    asked = morocco.get("/api/v1/consents/").json()["results"]
    assert [(c["listing"]["id"], c["country"], c["status"]) for c in asked] == [(str(triple_win.pk), "MA", "pending")]


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


# --- Migration profiles ----------------------------------------------------------------

DEMO_COUNTRIES = {"IT", "DE", "ES", "MD", "PH", "SN", "MA"}


def test_seed_demo_publishes_two_years_of_profiles_for_each_demo_country() -> None:
    output = seed()
    assert {spec.country for spec in DEMO_PROFILES} == DEMO_COUNTRIES
    published = MigrationProfile.objects.filter(status="published").select_related("owner")
    assert sorted(published.values_list("country", "year")) == sorted(
        (country, year) for country in DEMO_COUNTRIES for year in (2023, 2024)
    )
    for profile in published:
        assert profile.owner.country == profile.country and profile.owner.kind == "government"
        for part in ("migration_data", "development_impact", "labour_market", "management_capacity"):
            assert getattr(profile, part) and getattr(profile, f"{part}_language") in {"en", "fr", "es"}, profile
        figures = profile.observations.all()
        # Sex-disaggregated, in all four parts, over several years: the charts have series to draw.
        assert figures.filter(sex="F").exists() and figures.filter(sex="M").exists(), profile
        assert set(figures.values_list("indicator__part", flat=True)) == {1, 2, 3, 4}, profile
        assert {2015, 2020, 2023} <= set(figures.values_list("time_period", flat=True)), profile
        assert figures.values("indicator").distinct().count() >= 15, profile
    assert {p.migration_data_language for p in published.filter(country="SN")} == {"fr"}
    assert {p.development_impact_language for p in published.filter(country="ES")} == {"es"}
    # Senegal's 2025 is still a draft: its government's alone.
    draft = MigrationProfile.objects.get(status="draft")
    assert (draft.country, draft.year) == ("SN", 2025)
    assert "Demo migration profiles: 15 (15 new): 1 draft, 14 published." in output


def test_another_demo_government_reads_the_published_demo_profiles_and_their_figures_through_the_api() -> None:
    seed()
    germany = demo_client("de-labour", "official")
    senegal_seen_by_germany = germany.get("/api/v1/profiles/", {"country": "SN"}).json()["results"]
    assert sorted((item["year"], item["status"]) for item in senegal_seen_by_germany) == [
        (2023, "published"),
        (2024, "published"),
    ]
    senegal = demo_client("sn-labour", "official")
    own = senegal.get("/api/v1/profiles/", {"country": "SN"}).json()["results"]
    assert sorted((item["year"], item["status"]) for item in own) == [
        (2023, "published"),
        (2024, "published"),
        (2025, "draft"),
    ]
    philippines_2024 = next(
        item
        for item in germany.get("/api/v1/profiles/", {"country": "PH", "year": 2024}).json()["results"]
        if item["status"] == "published"
    )
    figures = germany.get(f"/api/v1/profiles/{philippines_2024['id']}/observations/", {"page_size": 500}).json()
    rows = figures["results"] if isinstance(figures, dict) else figures
    remittances = {row["time_period"]: row for row in rows if row["indicator"] == "REMIT_IN_USD"}
    assert sorted(remittances) == [2015, 2020, 2023, 2024]
    assert remittances[2024]["source"].startswith("World Bank / KNOMAD")


def test_every_demo_figure_passes_the_observation_validation_and_names_its_source() -> None:
    seed()
    rows = Observation.objects.select_related("profile", "indicator")
    assert rows.count() > 1000
    totals: dict[tuple[object, ...], dict[str, Decimal]] = {}
    for row in rows:
        body = {
            "indicator": row.indicator_id,
            "sex": row.sex,
            "age": row.age,
            "time_period": row.time_period,
            "value": str(row.value),
            "unit": row.indicator.unit,
            "source": row.source,
            "comment": row.comment,
        }
        # Validated as a change to itself: every rule, including women and men against the total.
        check = ObservationInput(row, data=body, profile=row.profile)
        assert check.is_valid(), (str(row.profile), str(row), check.errors)
        assert row.source.strip(), row
        assert row.comment == f"Illustrative: shaped like {row.source}, not copied from it.", row
        assert row.profile.year - 30 <= row.time_period <= row.profile.year
        if row.indicator.unit in {"persons", "usd", "usd_millions"}:
            totals.setdefault((row.profile_id, row.indicator_id, row.age, row.time_period), {})[row.sex] = row.value
    # And directly: where women and men are given for a count or an amount, they add up to at most the total.
    split = [figures for figures in totals.values() if {"F", "M"} <= set(figures)]
    assert len(split) > 100
    assert all(figures["F"] + figures["M"] <= figures["T"] for figures in split)


def _skill(country: str, kind: str, isco: str) -> ProfileSkill:
    return ProfileSkill.objects.select_related("profile").get(
        profile__country=country, profile__year=2024, profile__status="published", kind=kind, occupation_id=isco
    )


def _open_pair(destination: str, origin: str, isco: str) -> bool:
    """An open listing pair already connecting the two countries in that ISCO unit group."""
    demand = Listing.objects.filter(
        direction="demand", status="published", owner__country=destination, occupation_lines__occupation_id=isco
    ).filter(Q(partner_countries=[]) | Q(partner_countries__contains=[origin]))
    supply = Listing.objects.filter(
        direction="supply", status="published", owner__country=origin, occupation_lines__occupation_id=isco
    ).filter(Q(partner_countries=[]) | Q(partner_countries__contains=[destination]))
    return demand.exists() and supply.exists()


def test_the_demo_profiles_hold_the_shortages_and_surpluses_that_make_suggestions() -> None:
    seed()
    # German nursing shortage x Philippine nurse surplus; Italian harvest shortage x Moldovan farm workers.
    for destination, origin, isco in [("DE", "PH", "2221"), ("DE", "PH", "3221"), ("IT", "MD", "9211")]:
        shortage, surplus = _skill(destination, "shortage", isco), _skill(origin, "surplus", isco)
        assert shortage.severity == surplus.severity == "high"
        assert shortage.source and surplus.source and shortage.comment.startswith("Illustrative: ")
    assert "Engpassanalyse 2024" in _skill("DE", "shortage", "3221").source
    assert "ANOFM" in _skill("MD", "surplus", "9211").source
    # Triple Win and the Philippine offer already connect Germany and the Philippines in 2221, so the
    # suggestions come from 3221 (nursing associates) and 9211 (crop farm labourers), which no open pair covers.
    with unscoped("assertion over every demo listing"):
        assert _open_pair("DE", "PH", "2221")
        assert not _open_pair("DE", "PH", "3221")
        assert not _open_pair("IT", "MD", "9211")
    # Shortages in the countries of destination, surpluses (and diaspora skills) in those of origin.
    kinds = dict(ProfileSkill.objects.values_list("profile__country", "kind").distinct().order_by("kind"))
    by_country = {
        country: set(ProfileSkill.objects.filter(profile__country=country).values_list("kind", flat=True))
        for country in kinds
    }
    assert all(by_country[country] == {"shortage"} for country in ("IT", "DE", "ES"))
    assert all(by_country[country] == {"surplus", "diaspora"} for country in ("MD", "PH", "SN", "MA"))


def test_the_demo_yields_the_nursing_and_harvest_suggestions() -> None:
    from exchange.models import Suggestion

    seed()
    with unscoped("assertion over every suggestion"):
        pairs = set(Suggestion.objects.values_list("destination_country", "origin_country", "occupation_id"))
    assert {("DE", "PH", "3221"), ("IT", "MD", "9211")} <= pairs


# --- Outcomes ledger -------------------------------------------------------------------


def test_seed_demo_records_outcomes_with_a_correction_a_missed_gender_target_and_returns() -> None:
    output = seed()
    with unscoped("assertion"):
        entries = OutcomeEntry.objects.select_related("listing")
        assert {e.listing.title.split(":")[0].split(" ")[0] for e in entries} == {"GECCO", "Circular", "Triple"}
        correction = entries.get(corrects__isnull=False)
        assert correction.reason and correction.corrects.count == 13200 and correction.count == 13150
    spain = demo_client("es-inclusion", "official")
    gecco = spain.get("/api/v1/listings/", {"q": "GECCO"}).json()["results"][0]["id"]
    figures = spain.get(f"/api/v1/listings/{gecco}/outcomes/summary/").json()
    assert figures["by_origin"]["MA"]["return_rate"] == 90.6  # 14,000 of 15,450 arrived (after the correction)
    assert figures["by_origin"]["MA"]["women_share"]["selected"]["met"] is True
    italy = demo_client("it-labour", "official")
    construction = italy.get("/api/v1/listings/", {"q": "construction"}).json()["results"][0]["id"]
    summary = italy.get(f"/api/v1/listings/{construction}/outcomes/summary/").json()
    assert summary["total"]["women_share"]["selected"] == {"target": 15.0, "actual": 8.4, "met": False}  # 42 of 500
    assert "Demo outcome entries:" in output


def test_seed_demo_run_twice_records_no_outcome_again() -> None:
    seed()
    with unscoped("assertion"):
        before = OutcomeEntry.objects.count()
    assert "Demo outcome entries: 0 new." in seed()
    with unscoped("assertion"):
        assert OutcomeEntry.objects.count() == before


def test_two_demo_listings_carry_their_text_in_other_languages() -> None:
    seed()
    gecco = Listing.objects.get(title="GECCO seasonal red-fruit harvest, Huelva")
    morocco = Listing.objects.get(owner__slug="ma-anapec")
    assert list(gecco.translations.values_list("language", flat=True)) == ["es", "fr"]
    assert list(morocco.translations.values_list("language", flat=True)) == ["ar", "fr"]
    # They are searched too: a Spanish reader's words find the GECCO scheme.
    assert Listing.objects.filter(pk=gecco.pk, search_vector="campaña").exists()
