"""The reference classifications: complete after ``migrate``, searchable, public and translated."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from opportunities.models import CefrLevel, EscoOccupation, Occupation, Sector
from opportunities.reference import (
    currency_exists,
    is_valid_cefr,
    is_valid_isco,
    isco_exists,
    isic_exists,
    language_exists,
)

# The reference rows come from the data migrations: every test reads the database.
pytestmark = pytest.mark.django_db

OCCUPATIONS = "/api/v1/reference/occupations/"
SECTORS = "/api/v1/reference/sectors/"


def codes(response: Any) -> list[str]:
    return [row["code"] for row in response.json()]


def search(client: APIClient, q: str, **extra: Any) -> list[str]:
    response = client.get(OCCUPATIONS, {"q": q}, **extra)
    assert response.status_code == 200, response.content
    return codes(response)


# --- Completeness after migrate --------------------------------------------------------


def test_it_loads_every_isco_group_at_each_level(db: Any) -> None:
    assert Occupation.objects.count() == 619
    counts = {level: Occupation.objects.filter(level=level).count() for level in (1, 2, 3, 4)}
    assert counts == {1: 10, 2: 43, 3: 130, 4: 436}


def test_it_keeps_leading_zeros_of_armed_forces_codes(db: Any) -> None:
    occupation = Occupation.objects.get(code="0110")
    assert occupation.parent_id == "011"
    assert occupation.skill_level == [4]
    assert Occupation.objects.get(code="0").skill_level == [1, 2, 4]


def test_it_loads_isic_sections_and_divisions(db: Any) -> None:
    assert Sector.objects.filter(level="section").count() == 21
    assert Sector.objects.filter(level="division").count() == 88
    assert Sector.objects.get(code="01").parent_id == "A"


def test_it_loads_every_esco_occupation_under_a_unit_group(db: Any) -> None:
    assert EscoOccupation.objects.count() == 3039
    assert not EscoOccupation.objects.exclude(occupation__level=4).exists()
    assert EscoOccupation.objects.get(title_en="bricklayer").occupation_id == "7112"


# --- Occupations list and search ------------------------------------------------------


def test_it_lists_all_occupations_to_anonymous_callers_without_pagination(anon_api: APIClient) -> None:
    response = anon_api.get(OCCUPATIONS)
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == 619
    assert rows[0] == {
        "code": "0",
        "level": 1,
        "parent_code": None,
        "title": "Armed forces occupations",
        "title_en": "Armed forces occupations",
        "title_fr": "Professions militaires",
        "title_es": "Ocupaciones militares",
        "skill_level": [1, 2, 4],
    }


def test_it_filters_occupations_by_level(anon_api: APIClient) -> None:
    assert len(anon_api.get(OCCUPATIONS, {"level": 1}).json()) == 10
    units = anon_api.get(OCCUPATIONS, {"level": 4}).json()
    assert len(units) == 436
    assert {row["level"] for row in units} == {4}


@pytest.mark.parametrize(
    ("query", "expected"),
    [("nurse", {"2221"}), ("bricklayer", {"7112"}), ("fruit picker", {"9211", "9214"})],
)
def test_it_finds_the_occupation_among_the_first_ten_results(
    anon_api: APIClient, query: str, expected: set[str]
) -> None:
    assert expected & set(search(anon_api, query)[:10])


def test_it_ranks_the_closest_occupation_first(anon_api: APIClient) -> None:
    assert search(anon_api, "bricklayer")[0] == "7112"
    assert search(anon_api, "nurse")[0] == "2221"


def test_it_finds_occupations_by_french_and_spanish_titles(anon_api: APIClient) -> None:
    assert "2221" in search(anon_api, "infirmière")[:5]
    assert "2221" in search(anon_api, "infirmiere")[:5]
    assert search(anon_api, "albañil")[0] == "7112"


def test_it_finds_occupations_as_the_user_types(anon_api: APIClient) -> None:
    assert "2221" in search(anon_api, "nurs")[:3]


def test_it_finds_codes_by_prefix(anon_api: APIClient) -> None:
    found = search(anon_api, "22")
    assert found[:3] == ["22", "221", "2211"]
    assert all(code.startswith("22") for code in found)


def test_it_combines_search_and_level(anon_api: APIClient) -> None:
    rows = anon_api.get(OCCUPATIONS, {"q": "nurse", "level": 4}).json()
    assert rows[0]["code"] == "2221"
    assert {row["level"] for row in rows} == {4}


def test_it_caps_search_results(anon_api: APIClient) -> None:
    assert 0 < len(search(anon_api, "worker")) <= 50


def test_it_returns_nothing_for_a_query_without_words(anon_api: APIClient) -> None:
    assert search(anon_api, "&|!:*") == []


def test_it_gives_titles_in_the_request_language(anon_api: APIClient) -> None:
    fr = anon_api.get(f"{OCCUPATIONS}2221/", HTTP_ACCEPT_LANGUAGE="fr").json()
    es = anon_api.get(f"{OCCUPATIONS}2221/", HTTP_ACCEPT_LANGUAGE="es").json()
    en = anon_api.get(f"{OCCUPATIONS}2221/").json()
    assert fr["title"] == "Cadres infirmiers"
    assert es["title"] == "Profesionales de enfermería"
    assert en["title"] == "Nursing professionals"
    assert fr["parents"][0] == {"code": "2", "title": "Professions intellectuelles et scientifiques"}


def test_it_searches_in_any_language_whatever_the_request_language(anon_api: APIClient) -> None:
    rows = anon_api.get(OCCUPATIONS, {"q": "nurse"}, HTTP_ACCEPT_LANGUAGE="es").json()
    assert rows[0]["title"] == "Profesionales de enfermería"


# --- Occupation detail -----------------------------------------------------------------


def test_it_shows_an_occupation_with_its_parents_and_children(anon_api: APIClient) -> None:
    response = anon_api.get(f"{OCCUPATIONS}222/")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == "222"
    assert body["parent_code"] == "22"
    assert body["parents"] == [
        {"code": "2", "title": "Professionals"},
        {"code": "22", "title": "Health professionals"},
    ]
    assert body["children"] == [
        {"code": "2221", "title": "Nursing professionals"},
        {"code": "2222", "title": "Midwifery professionals"},
    ]


def test_it_shows_a_major_group_without_parents(anon_api: APIClient) -> None:
    body = anon_api.get(f"{OCCUPATIONS}0/").json()
    assert body["parents"] == []
    assert [child["code"] for child in body["children"]] == ["01", "02", "03"]


def test_it_shows_a_unit_group_without_children(anon_api: APIClient) -> None:
    body = anon_api.get(f"{OCCUPATIONS}7112/").json()
    assert body["children"] == []
    assert [parent["code"] for parent in body["parents"]] == ["7", "71", "711"]


@pytest.mark.parametrize("code", ["9999", "5555", "abc"])
def test_it_returns_a_json_404_for_an_unknown_occupation(anon_api: APIClient, code: str) -> None:
    response = anon_api.get(f"{OCCUPATIONS}{code}/")
    assert response.status_code == 404
    assert "detail" in response.json()


# --- Bad filters --------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["5", "0", "x"])
def test_it_rejects_a_bad_occupation_level_naming_the_field(anon_api: APIClient, level: str) -> None:
    response = anon_api.get(OCCUPATIONS, {"level": level})
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["level"]
    assert "1, 2, 3 or 4" in body["level"][0]


def test_it_rejects_a_bad_sector_level_naming_the_field(anon_api: APIClient) -> None:
    response = anon_api.get(SECTORS, {"level": "class"})
    assert response.status_code == 400
    assert list(response.json()) == ["level"]
    assert "section" in response.json()["level"][0]


# --- Sectors, countries, languages, currencies, CEFR --------------------------------------


def test_it_lists_sections_each_followed_by_its_divisions(anon_api: APIClient) -> None:
    rows = anon_api.get(SECTORS).json()
    assert len(rows) == 109
    assert [row["code"] for row in rows[:5]] == ["A", "01", "02", "03", "B"]
    assert rows[1] == {
        "code": "01",
        "level": "division",
        "parent_code": "A",
        "title": "Crop and animal production, hunting and related service activities",
        "title_en": "Crop and animal production, hunting and related service activities",
    }


def test_it_filters_sectors_by_level(anon_api: APIClient) -> None:
    sections = anon_api.get(SECTORS, {"level": "section"}).json()
    divisions = anon_api.get(SECTORS, {"level": "division"}).json()
    assert [row["code"] for row in sections] == [chr(c) for c in range(ord("A"), ord("U") + 1)]
    assert len(divisions) == 88


def test_it_lists_countries_in_the_request_language(anon_api: APIClient) -> None:
    en = {row["code"]: row["name"] for row in anon_api.get("/api/v1/reference/countries/").json()}
    fr = {
        row["code"]: row["name"]
        for row in anon_api.get("/api/v1/reference/countries/", HTTP_ACCEPT_LANGUAGE="fr").json()
    }
    assert en["MD"] == "Moldova"
    assert fr["DE"] == "Allemagne"
    assert len(en) > 200


def test_it_lists_languages_in_the_request_language(anon_api: APIClient) -> None:
    response = anon_api.get("/api/v1/reference/languages/")
    assert response.status_code == 200
    names = {row["code"]: row["name"] for row in response.json()}
    assert names["de"] == "German"
    assert len(names) > 150
    es = {
        row["code"]: row["name"]
        for row in anon_api.get("/api/v1/reference/languages/", HTTP_ACCEPT_LANGUAGE="es").json()
    }
    assert es["de"] == "Alemán"


def test_it_lists_active_currencies_with_their_minor_units(anon_api: APIClient) -> None:
    rows = {row["code"]: row for row in anon_api.get("/api/v1/reference/currencies/").json()}
    assert rows["EUR"] == {"code": "EUR", "name": "Euro", "minor_units": 2}
    assert rows["JPY"]["minor_units"] == 0
    assert rows["KWD"]["minor_units"] == 3
    assert "MDL" in rows
    assert "XAU" not in rows


def test_it_lists_the_cefr_levels_in_order(anon_api: APIClient) -> None:
    rows = anon_api.get("/api/v1/reference/cefr-levels/").json()
    assert [row["code"] for row in rows] == ["A1", "A2", "B1", "B2", "C1", "C2"]


def test_it_documents_every_reference_endpoint_in_the_schema(anon_api: APIClient) -> None:
    response = anon_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("occupations/", "occupations/{code}/", "sectors/", "countries/", "languages/", "currencies/"):
        assert f"/api/v1/reference/{path}" in paths
    parameters = {p["name"] for p in paths["/api/v1/reference/occupations/"]["get"]["parameters"]}
    assert {"q", "level"} <= parameters


# --- Validators other apps use -----------------------------------------------------------


def test_it_validates_reference_codes(db: Any) -> None:
    assert is_valid_isco("0110") and not is_valid_isco("12345") and not is_valid_isco(2221)
    assert isco_exists("2221") and isco_exists("2221", level=4) and not isco_exists("222", level=4)
    assert not isco_exists("9999")
    assert isic_exists("A") and isic_exists("01", level="division") and not isic_exists("1")
    assert currency_exists("EUR") and not currency_exists("eur") and not currency_exists("XAU")
    assert language_exists("de") and not language_exists("xx")
    assert is_valid_cefr("B2") and not is_valid_cefr("D1")
    assert CefrLevel.B2.label
