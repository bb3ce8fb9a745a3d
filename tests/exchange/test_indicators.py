"""The indicator catalogue of the extended migration profiles (reference data, public)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from exchange.models import Indicator

pytestmark = pytest.mark.django_db

URL = "/api/v1/reference/indicators/"
CATALOGUE = Path(settings.BASE_DIR) / "exchange" / "profiles" / "data" / "indicators.csv"
DOCS = Path(settings.BASE_DIR) / "docs" / "profiles.md"


def test_anyone_reads_the_whole_catalogue_part_by_part():
    body = APIClient().get(URL).json()
    assert len(body) >= 25
    assert [item["part"] for item in body] == sorted(item["part"] for item in body)
    assert {item["part"] for item in body} == {1, 2, 3, 4}
    for item in body:
        assert item["unit"] in ("persons", "percent", "usd", "usd_millions", "ratio", "years", "index")
        assert set(item["disaggregations"]) <= {"sex", "age"}
        assert item["source"] and item["name_en"] and item["name_fr"] and item["name_es"]


def test_it_mirrors_the_sources_statisticians_use():
    by_code = {item["code"]: item for item in APIClient().get(URL).json()}
    assert (
        by_code["MIG_STOCK_IN"]["source"].startswith("UN DESA") and "sex" in by_code["MIG_STOCK_IN"]["disaggregations"]
    )
    assert (
        by_code["REMIT_IN_GDP"]["source_code"] == "BX.TRF.PWKR.DT.GD.ZS"
        and by_code["REMIT_IN_GDP"]["unit"] == "percent"
    )
    assert by_code["REMIT_IN_USD"]["unit"] == "usd_millions"
    assert by_code["UNEMP_RATE_FOREIGN"]["source"].startswith("ILOSTAT")
    assert by_code["REFUGEES_HOSTED"]["source"].startswith("UNHCR")
    assert by_code["RECRUIT_COST"]["source_code"] == "10.7.1"
    assert by_code["REMIT_COST"]["source_code"] == "10.c.1"


@pytest.mark.parametrize(
    ("language", "name"), [("fr", "Solde migratoire"), ("es", "Migración neta"), ("en", "Net migration")]
)
def test_names_follow_the_request_language(language, name):
    body = APIClient().get(URL, {"part": 1}, HTTP_ACCEPT_LANGUAGE=language).json()
    assert next(item for item in body if item["code"] == "NET_MIGRATION")["name"] == name
    assert {item["part"] for item in body} == {1}


@pytest.mark.parametrize("part", ["0", "5", "two"])
def test_a_part_outside_one_to_four_is_a_400_naming_the_filter(part):
    response = APIClient().get(URL, {"part": part})
    assert response.status_code == 400
    assert "part" in response.json()


def test_the_database_refuses_an_unknown_unit_part_or_disaggregation():
    base = {"name_en": "x", "name_fr": "x", "name_es": "x", "source": "x"}
    for fields in (
        {"part": 5, "unit": "persons"},
        {"part": 1, "unit": "tonnes"},
        {"part": 1, "unit": "index", "disaggregations": ["region"]},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Indicator.objects.create(code="BAD", **base, **fields)


def test_every_indicator_of_the_catalogue_is_documented_with_its_source():
    with CATALOGUE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    docs = DOCS.read_text(encoding="utf-8")
    missing = [row["code"] for row in rows if f"`{row['code']}`" not in docs]
    assert missing == []
    assert Indicator.objects.count() == len(rows)
