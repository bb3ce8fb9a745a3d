"""generate_load_data: the same seed writes the same world, with the derived columns the services write."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.db import connection

from accounts.tenancy import unscoped
from exchange.models import MigrationProfile, Subscription
from opportunities.models import Listing
from opportunities.services import _index

SIZES = {"organisations": 6, "listings": 12, "subscriptions": 20, "profiles": 3, "seed": 7, "verbosity": 0}


def _world() -> list[tuple[Any, ...]]:
    with unscoped("the synthetic world"):
        return list(Listing.objects.order_by("pk").values_list("pk", "title", "isco_prefixes", "partner_countries"))


def test_the_same_seed_writes_the_same_world(db):
    call_command("generate_load_data", flush=True, **SIZES)
    first = _world()
    call_command("generate_load_data", flush=True, **SIZES)
    assert _world() == first
    assert len(first) == 12
    with unscoped("the synthetic world"):
        assert Subscription.objects.count() == 20
        assert MigrationProfile.objects.count() == 3


def test_the_derived_columns_are_the_services_own(db):
    call_command("generate_load_data", flush=True, **SIZES)
    with unscoped("the synthetic world"):
        for listing in Listing.objects.select_related("owner").prefetch_related("occupation_lines"):
            codes = [line.occupation_id for line in listing.occupation_lines.all()]
            assert listing.owner_country == str(listing.owner.country)
            assert listing.total_quantity == sum(line.quantity for line in listing.occupation_lines.all())
            assert listing.isco_prefixes == sorted({c[:n] for c in codes for n in range(1, len(c) + 1)})
            with connection.cursor() as cursor:
                cursor.execute("SELECT search_vector::text FROM opportunities_listing WHERE id = %s", [listing.pk])
                written = cursor.fetchone()[0]
                _index(listing)  # what the services compute for the same listing
                cursor.execute("SELECT search_vector::text FROM opportunities_listing WHERE id = %s", [listing.pk])
                assert cursor.fetchone()[0] == written
