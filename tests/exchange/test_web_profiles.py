"""Migration profile pages: Moldova publishes its profile, Germany reads it with its charts,
Moldova edits it part by part through the services, and outsiders meet 404s."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from accounts.tenancy import Actor, tenant_scope, unscoped
from exchange.models import Indicator, MigrationProfile, Observation, ProfileSkill, ProfileStatus
from exchange.profiles.selectors import indicator_series
from exchange.profiles.services import observation_save, profile_create, profile_publish, profile_update
from tests.conftest import signed_in
from tests.factories import member

pytestmark = pytest.mark.django_db

# The shell (session, user, memberships, unread count), then two for the page: the profile
# with its skills rows and their ISCO and ISIC groups (inlined), its figures with their indicators.
DETAIL_QUERIES = 6
# The shell, the countries for the filter, the count and the page of profiles with their owners.
LIST_QUERIES = 7
# The shell, the profile with its skills (inlined) and its figures, the catalogue and the languages.
EDITOR_QUERIES = 8


def text(response: Any) -> str:
    return response.content.decode()


def add(actor: Actor, profile: MigrationProfile, code: str, period: int, value: Any, sex: str = "T") -> Observation:
    return observation_save(
        actor=actor,
        profile=profile,
        data={
            "indicator": Indicator.objects.get(code=code),
            "sex": sex,
            "time_period": period,
            "value": Decimal(str(value)),
            "source": f"{code} source",
        },
    )


def moldova_profile(actor: Actor, *, year: int = 2024, publish: bool = True, extra: int = 0) -> MigrationProfile:
    profile = profile_create(
        actor=actor,
        data={
            "country": "MD",
            "year": year,
            "visibility": "members",
            "migration_data": "Un sfert din populație trăiește în străinătate.",
            "migration_data_language": "ro",
        },
    )
    add(actor, profile, "MIG_STOCK_OUT", year - 2, 1000000)
    add(actor, profile, "MIG_STOCK_OUT", year - 1, 1050000)
    add(actor, profile, "MIG_STOCK_OUT", year - 1, 560000, sex="F")
    add(actor, profile, "MIG_STOCK_OUT", year - 1, 490000, sex="M")
    add(actor, profile, "NET_MIGRATION", year - 1, -3500)
    add(actor, profile, "REMIT_IN_USD", year - 2, 1900.5)
    add(actor, profile, "REMIT_IN_USD", year - 1, 2000.25)
    for code in ("HDI", "SDG_10_7_2", "BLMA_IN_FORCE", "VACANCY_RATE")[:extra]:
        add(actor, profile, code, year - 1, 1)
    ProfileSkill.objects.create(
        profile=profile,
        kind="surplus",
        occupation_id="7115",
        severity="high",
        source="National Employment Agency",
        time_period=year - 1,
    )
    return profile_publish(actor=actor, profile=profile) if publish else profile


@pytest.fixture
def published(moldova_actor: Actor) -> MigrationProfile:
    return moldova_profile(moldova_actor)


@pytest.fixture
def draft(moldova_actor: Actor) -> MigrationProfile:
    return moldova_profile(moldova_actor, year=2025, publish=False)


@pytest.fixture
def charlie_web(charlie: Any) -> Any:
    return signed_in(charlie)


# --- Reading --------------------------------------------------------------------------------


def test_a_reader_sees_each_part_with_a_chart_and_table_per_indicator(greta_web, published):
    page = text(greta_web.get(f"/profiles/{published.pk}/"))
    assert "Migration profile of Moldova, 2024" in page
    for title in ("Migration data", "Impact on development", "Labour market", "Migration management capacity"):
        assert title in page
    assert 'lang="ro"' in page and "Un sfert din populație" in page
    # One chart per indicator with figures, each beside its table.
    assert page.count('role="img"') == 3 and page.count("data-chart-table=") == 3
    assert 'data-chart="bar"' in page  # the emigrant stock, broken down by sex
    assert 'data-chart="line"' in page  # remittances over time
    assert 'data-value="-3500.0000"' in page  # net migration, signed
    # Part 3 lists the skills rows read through the profile.
    assert "7115" in page and "National Employment Agency" in page and "High" in page
    assert "Carpenters and joiners" in page  # the row's ISCO group, read with the profile
    # A reader does not own it: no edit or publish button.
    assert "Edit this part" not in page and f"/profiles/{published.pk}/publish/" not in page


def test_each_chart_agrees_with_its_table(greta_web, published):
    page = text(greta_web.get(f"/profiles/{published.pk}/"))
    for figure in re.findall(r'<figure class="chart".*?</figure>', page, re.S):
        plotted = sorted(Decimal(v) for v in re.findall(r'class="point" data-value="([^"]+)"', figure))
        tabled = sorted(Decimal(v) for v in re.findall(r'<td class="num" data-value="([^"]+)"', figure))
        assert plotted and plotted == tabled


def test_the_detail_costs_the_same_queries_whatever_the_number_of_indicators(
    greta_web, moldova_actor, django_assert_num_queries
):
    few = moldova_profile(moldova_actor, year=2023)
    many = moldova_profile(moldova_actor, year=2024, extra=4)
    greta_web.get(f"/profiles/{few.pk}/")  # warm the session
    with django_assert_num_queries(DETAIL_QUERIES):
        assert greta_web.get(f"/profiles/{few.pk}/").status_code == 200
    with django_assert_num_queries(DETAIL_QUERIES):
        assert greta_web.get(f"/profiles/{many.pk}/").status_code == 200


def test_a_draft_is_a_404_to_other_governments_on_every_page(greta_web, charlie_web, draft):
    for client in (greta_web, charlie_web):
        for path in ("", "parts/1/edit/", "publish/", "versions/", "diff/"):
            assert client.get(f"/profiles/{draft.pk}/{path}").status_code == 404, path
        assert client.post(f"/profiles/{draft.pk}/parts/1/edit/", {"action": "narrative"}).status_code == 404
        assert "Un sfert" not in text(client.get("/profiles/compare/years/?country=MD&indicator=MIG_STOCK_OUT"))


def test_signed_out_visitors_are_sent_to_sign_in(client, published):
    response = client.get(f"/profiles/{published.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_list_filters_by_country_and_year(greta_web, mihai_web, published, draft):
    listed = text(mihai_web.get("/profiles/?country=MD"))
    assert f"/profiles/{published.pk}/" in listed and f"/profiles/{draft.pk}/" in listed
    assert f"/profiles/{draft.pk}/" not in text(mihai_web.get("/profiles/?year=2024"))
    others = text(greta_web.get("/profiles/"))
    assert f"/profiles/{published.pk}/" in others and f"/profiles/{draft.pk}/" not in others
    assert "Start a profile" in others  # Germany may start its own
    assert f"/profiles/{published.pk}/" not in text(greta_web.get("/profiles/?country=IT"))


# --- Writing --------------------------------------------------------------------------------


def test_a_government_starts_its_own_profile_and_a_second_one_for_the_year_is_refused(mihai_web, moldova, draft):
    response = mihai_web.post("/profiles/new/", {"year": "2026", "visibility": "public"})
    assert response.status_code == 302
    with unscoped("assertion"):
        created = MigrationProfile.objects.get(country="MD", year=2026)
    assert created.status == ProfileStatus.DRAFT and created.owner == moldova
    again = mihai_web.post("/profiles/new/", {"year": "2025", "visibility": "public"})
    assert again.status_code == 400 and "has a profile for this year already" in text(again)
    bad = mihai_web.post("/profiles/new/", {"year": "1900", "visibility": "public"})
    assert bad.status_code == 400 and 'id="id_year_error"' in text(bad)


def test_a_viewer_or_an_agency_cannot_start_a_profile(moldova, agency):
    viewer = signed_in(member(moldova, "viewer", email="viewer@md.example"))
    assert viewer.get("/profiles/new/").status_code == 403
    assert signed_in(member(agency, "moderator", email="staff@agency.example")).get("/profiles/new/").status_code == 403


def test_the_owner_edits_a_narrative_and_adds_changes_and_removes_figures(mihai_web, draft):
    url = f"/profiles/{draft.pk}/parts/2/edit/"
    page = mihai_web.get(url)
    assert page.status_code == 200 and "Add a figure" in text(page)
    saved = mihai_web.post(url, {"action": "narrative", "text": "Remittances are a fifth of GDP.", "language": "en"})
    assert saved.status_code == 302
    draft.refresh_from_db()
    assert draft.development_impact == "Remittances are a fifth of GDP." and draft.development_impact_language == "en"

    figure = {"action": "figure", "indicator": "REMIT_IN_GDP", "sex": "T", "age": "_T", "time_period": "2023"}
    added = mihai_web.post(url, {**figure, "value": "15.5", "source": "World Bank"})
    assert added.status_code == 302
    row = draft.observations.get(indicator_id="REMIT_IN_GDP")
    assert row.value == Decimal("15.5")
    changed = mihai_web.post(url, {**figure, "figure": str(row.pk), "value": "16", "source": "World Bank"})
    assert changed.status_code == 302
    row.refresh_from_db()
    assert row.value == 16
    editing = text(mihai_web.get(f"{url}?figure={row.pk}"))
    assert "Change the figure" in editing and 'value="16"' in editing
    removed = mihai_web.post(url, {"action": "delete", "figure": str(row.pk)})
    assert removed.status_code == 302 and not draft.observations.filter(indicator_id="REMIT_IN_GDP").exists()


def test_the_services_rules_are_shown_against_the_field(mihai_web, draft):
    url = f"/profiles/{draft.pk}/parts/2/edit/"
    figure = {"action": "figure", "indicator": "REMIT_IN_GDP", "sex": "T", "age": "_T", "source": "World Bank"}
    too_much = mihai_web.post(url, {**figure, "time_period": "2023", "value": "140"})
    assert too_much.status_code == 400
    page = text(too_much)
    assert re.search(r'id="id_value_error".*REMIT_IN_GDP is a percentage: between 0 and 100', page, re.S)
    future = text(mihai_web.post(url, {**figure, "time_period": "2999", "value": "10"}))
    assert re.search(r'id="id_time_period_error".*has not come yet', future, re.S)
    by_sex = text(mihai_web.post(url, {**figure, "sex": "F", "time_period": "2023", "value": "10"}))
    assert re.search(r'id="id_sex_error".*REMIT_IN_GDP has no breakdown by sex', by_sex, re.S)
    bad_language = mihai_web.post(url, {"action": "narrative", "text": "x", "language": "zz"})
    assert bad_language.status_code == 400 and 'id="id_language_error"' in text(bad_language)
    assert not draft.observations.filter(indicator_id="REMIT_IN_GDP").exists()


def test_editing_a_published_profile_opens_its_next_version(mihai_web, published):
    url = f"/profiles/{published.pk}/parts/1/edit/"
    page = text(mihai_web.get(url))
    assert "opens the next version" in page and "Add a figure" not in page
    response = mihai_web.post(url, {"action": "narrative", "text": "Revised.", "language": "en"})
    with unscoped("assertion"):
        following = MigrationProfile.objects.get(previous=published)
    assert response["Location"] == f"/profiles/{following.pk}/parts/1/edit/"
    assert following.status == ProfileStatus.DRAFT and following.migration_data == "Revised."
    assert following.observations.count() == published.observations.count()
    # Figures of the published one are refused with the rule's message (a redirect, nothing changed).
    refused = mihai_web.post(url, {"action": "delete", "figure": str(published.observations.first().pk)}, follow=True)
    assert "do not change" in text(refused)


def test_a_reader_may_not_edit_or_publish(greta_web, published):
    assert greta_web.get(f"/profiles/{published.pk}/parts/1/edit/").status_code == 403
    assert greta_web.post(f"/profiles/{published.pk}/publish/").status_code == 403
    assert greta_web.get(f"/profiles/{published.pk}/parts/9/edit/").status_code == 404


def test_publishing_asks_first_then_publishes_and_supersedes(mihai_web, moldova_actor, published):
    with tenant_scope(moldova_actor):
        following = profile_update(actor=moldova_actor, profile=published, data={"labour_market": "New"})
    detail = text(mihai_web.get(f"/profiles/{following.pk}/"))
    assert f"/profiles/{following.pk}/publish/" in detail
    confirm = mihai_web.get(f"/profiles/{following.pk}/publish/")
    assert confirm.status_code == 200 and "Publish the 2024 profile of Moldova, version 2?" in text(confirm)
    assert mihai_web.post(f"/profiles/{following.pk}/publish/").status_code == 302
    following.refresh_from_db()
    published.refresh_from_db()
    assert following.status == ProfileStatus.PUBLISHED and published.status == ProfileStatus.SUPERSEDED
    again = mihai_web.post(f"/profiles/{following.pk}/publish/", follow=True)
    assert "Only a draft can be published." in text(again)


# --- History, differences and comparisons -----------------------------------------------------


def test_the_history_and_the_diff_show_what_changed(mihai_web, greta_web, moldova_actor, published):
    with tenant_scope(moldova_actor):
        following = profile_update(actor=moldova_actor, profile=published, data={"migration_data": "Revised text."})
        stock = following.observations.get(indicator_id="NET_MIGRATION")
        observation_save(actor=moldova_actor, profile=following, data={"value": Decimal("-4000")}, observation=stock)
        following.observations.get(indicator_id="REMIT_IN_USD", time_period=2022).delete()
        add(moldova_actor, following, "HDI", 2023, "0.767")
    versions = text(mihai_web.get(f"/profiles/{following.pk}/versions/"))
    assert "Version 2" in versions and "Version 1" in versions
    diff = text(mihai_web.get(f"/profiles/{following.pk}/diff/"))
    assert "What changed from version 1 to version 2" in diff
    assert "<del" in diff and "Un sfert" in diff and "Revised text." in diff
    assert re.search(r'data-change="changed".*?Net migration.*?-3,500.*?-4,000', diff, re.S)
    assert 'data-change="removed"' in diff and 'data-change="added"' in diff
    # Germany reads the history of what was published, never the draft.
    assert f"/profiles/{following.pk}/" not in text(greta_web.get(f"/profiles/{published.pk}/versions/"))
    assert greta_web.get(f"/profiles/{published.pk}/diff/?a={published.pk}&b={following.pk}").status_code == 404
    assert greta_web.get(f"/profiles/{published.pk}/diff/?a=not-a-uuid&b={published.pk}").status_code == 404
    assert "first version" in text(greta_web.get(f"/profiles/{published.pk}/diff/"))


def test_compare_years_charts_an_indicator_across_published_profiles(greta_web, moldova_actor):
    with tenant_scope(moldova_actor):
        moldova_profile(moldova_actor, year=2023)
        moldova_profile(moldova_actor, year=2024)
        moldova_profile(moldova_actor, year=2025, publish=False)  # a draft: not Germany's to see
    page = text(greta_web.get("/profiles/compare/years/?country=MD&indicator=REMIT_IN_USD"))
    assert 'role="img"' in page and "From the published profiles of: 2023, 2024." in page
    plotted = re.findall(r'class="point" data-value="([^"]+)"', page)
    assert len(plotted) == 3  # 2021, 2022, 2023: the 2024 profile's figure wins for 2022
    empty = text(greta_web.get("/profiles/compare/years/?country=MD&indicator=HDI"))
    assert "No published profile you can read has figures" in empty


def test_compare_countries_shows_two_profiles_side_by_side(greta_web, moldova_actor, germany_actor):
    with tenant_scope(moldova_actor):
        moldova_profile(moldova_actor)
    with tenant_scope(germany_actor):
        german = profile_create(actor=germany_actor, data={"country": "DE", "year": 2024, "visibility": "members"})
        add(germany_actor, german, "NET_MIGRATION", 2023, 663000)
        profile_publish(actor=germany_actor, profile=german)
    page = text(greta_web.get("/profiles/compare/countries/?a=MD&b=DE&year=2024"))
    assert "Moldova" in page and "Germany" in page
    assert re.search(r"Net migration.*?-3,500.*?663,000", page, re.S)
    assert "Emigrant stock" in page and "Women" in page
    missing = text(greta_web.get("/profiles/compare/countries/?a=MD&b=IT&year=2024"))
    assert "No published profile of Italy for 2024" in missing


def test_the_series_selector_reads_only_what_the_actor_may(moldova_actor, germany_actor):
    with tenant_scope(moldova_actor):
        moldova_profile(moldova_actor, year=2024)
        moldova_profile(moldova_actor, year=2025, publish=False)
    with tenant_scope(germany_actor):
        rows = list(indicator_series(actor=germany_actor, country="MD", indicator="MIG_STOCK_OUT"))
        women = list(indicator_series(actor=germany_actor, country="MD", indicator="MIG_STOCK_OUT", sex="F"))
    assert {row.profile.year for row in rows} == {2024} and len(rows) == 4
    assert [row.value for row in women] == [560000]


def test_pages_render_in_arabic_right_to_left(mihai, published):
    client = signed_in(mihai)
    page = text(client.get(f"/profiles/{published.pk}/", HTTP_ACCEPT_LANGUAGE="ar"))
    assert 'dir="rtl"' in page and 'role="img"' in page


def test_the_list_and_the_editor_cost_a_fixed_number_of_queries(
    greta_web, mihai_web, moldova_actor, django_assert_num_queries
):
    first = moldova_profile(moldova_actor, year=2022)
    greta_web.get("/profiles/")
    with django_assert_num_queries(LIST_QUERIES):
        greta_web.get("/profiles/")
    moldova_profile(moldova_actor, year=2023)
    moldova_profile(moldova_actor, year=2024, extra=4)
    with django_assert_num_queries(LIST_QUERIES):
        greta_web.get("/profiles/")
    mihai_web.get(f"/profiles/{first.pk}/parts/1/edit/")
    with django_assert_num_queries(EDITOR_QUERIES):
        assert mihai_web.get(f"/profiles/{first.pk}/parts/1/edit/").status_code == 200


def test_anyone_reads_a_public_profile_and_nothing_else(client, greta_web, moldova_actor):
    with tenant_scope(moldova_actor):
        public = moldova_profile(moldova_actor, year=2023, publish=False)
        profile_update(actor=moldova_actor, profile=public, data={"visibility": "public"})
        profile_publish(actor=moldova_actor, profile=public)
        members = moldova_profile(moldova_actor, year=2024)
        draft = moldova_profile(moldova_actor, year=2025, publish=False)
    listed = text(client.get("/public/profiles/"))
    assert f"/public/profiles/{public.pk}/" in listed and f"{members.pk}" not in listed and f"{draft.pk}" not in listed
    page = client.get(f"/public/profiles/{public.pk}/")
    assert page.status_code == 200 and text(page).count('role="img"') == 3
    assert "/profiles/compare/" not in text(page) and "All versions" not in text(page)
    for other in (members, draft):
        assert client.get(f"/public/profiles/{other.pk}/").status_code == 404
        assert greta_web.get(f"/public/profiles/{other.pk}/").status_code == 404  # the public page is for the public
