"""The SQL candidate selection returns exactly what a plain Python filter returns."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from exchange.matching.services import candidates, candidates_in_python
from opportunities.models import Listing
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

COUNTRIES = ["IT", "DE", "MA", "PH", "MD"]
CODES = ["9211", "9212", "6111", "6210", "2221", "222", "7112", "93", "5"]
STATUSES = ["published", "published", "published", "draft", "closed"]
BASE = datetime.date(2027, 1, 1)


@st.composite
def listing_specs(draw: st.DrawFn) -> dict:
    start = draw(st.integers(0, 300))
    length = draw(st.integers(0, 200))
    codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=3, unique=True))
    partners_only = draw(st.booleans())  # visible to the partner countries only (and matched with them only)
    return {
        "country": draw(st.sampled_from(COUNTRIES)),
        "direction": draw(st.sampled_from(["demand", "supply"])),
        "status": draw(st.sampled_from(STATUSES)),
        "partners": draw(
            st.lists(st.sampled_from(COUNTRIES), min_size=1 if partners_only else 0, max_size=3, unique=True)
        ),
        "visibility": "partners" if partners_only else draw(st.sampled_from(["members", "public"])),
        "starts_on": BASE + datetime.timedelta(days=start),
        "ends_on": BASE + datetime.timedelta(days=start + length),
        "codes": codes,
    }


class Rollback(Exception):
    pass


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(specs=st.lists(listing_specs(), min_size=2, max_size=12))
def test_sql_candidates_equal_the_python_rules(specs, db):
    try:
        with transaction.atomic():
            owners = {
                c: OrganisationFactory(country=c, slug=f"gov-{c.lower()}", is_origin=True, is_destination=True)
                for c in COUNTRIES
            }
            listings = Listing.objects.bulk_create(
                Listing(
                    owner=owners[spec["country"]],
                    owner_country=spec["country"],
                    direction=spec["direction"],
                    status=spec["status"],
                    title="generated",
                    scheme_type="other",
                    partner_countries=[p for p in spec["partners"] if p != spec["country"]] or spec["partners"],
                    visibility=spec["visibility"],
                    starts_on=spec["starts_on"],
                    ends_on=spec["ends_on"],
                    application_deadline=spec["starts_on"],
                    isco_prefixes=sorted({code[:n] for code in spec["codes"] for n in range(1, len(code) + 1)}),
                )
                for spec in specs
            )
            found = 0
            for listing in listings:
                in_sql = set(candidates(listing).values_list("pk", flat=True))
                in_python = {other.pk for other in candidates_in_python(listing, listings)}
                assert in_sql == in_python
                found += len(in_sql)
            target(float(found))  # steer the search towards examples with many candidates
            raise Rollback
    except Rollback:
        pass
