"""generate_load_data: the same seed writes the same world (ledger included), with the derived columns and
the rules the services keep."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.db import connection

from accounts.tenancy import Actor, unscoped
from exchange.access import can_record_outcomes
from exchange.models import MigrationProfile, OutcomeEntry, Subscription
from exchange.outcomes.inputs import LedgerBook, OutcomeEntryInput
from exchange.outcomes.totals import totals_drift
from opportunities.models import PUBLISHED_OR_HISTORY, Listing
from opportunities.services import _index
from tests.factories import UserFactory

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


LEDGER = {**SIZES, "organisations": 40, "listings": 60, "outcomes": 1200}


def _ledger() -> list[tuple[Any, ...]]:
    with unscoped("the synthetic ledger"):
        return list(
            OutcomeEntry.objects.order_by("pk").values_list(
                "pk", "listing_id", "origin_country", "occupation_id", "period", "stage", "sex", "count",
                "corrects_id", "reason", "organisation_id", "reported_by_email",
            )
        )  # fmt: skip


def test_the_same_seed_writes_the_same_ledger(db):
    call_command("generate_load_data", flush=True, **LEDGER)
    first = _ledger()
    call_command("generate_load_data", flush=True, **LEDGER)
    assert _ledger() == first
    assert len(first) == 1200
    assert any(row[8] for row in first), "some entries are corrections"
    assert {row[6] for row in first} == {"F", "M", "X"}


def test_the_ledger_keeps_the_services_rules_and_sums(db):
    """Each scheme's entries, replayed in the order written, pass the checks ``outcome_record`` makes:
    origin admitted, line, period, the pipeline order (``LedgerBook``), corrections, the writer."""
    call_command("generate_load_data", flush=True, **LEDGER)
    assert totals_drift() == []
    with unscoped("the synthetic ledger"):
        entries = list(OutcomeEntry.objects.select_related("organisation").order_by("listing_id", "created_at", "pk"))
        listings = {listing.pk: listing for listing in Listing.objects.filter(pk__in={e.listing_id for e in entries})}
    owners = {listing.owner_id for listing in listings.values()}
    assert len(listings) > 5 and {e.organisation.pk for e in entries} > owners, "both governments report"
    reporter = UserFactory()
    by_id = {entry.pk: entry for entry in entries}
    books: dict[Any, LedgerBook] = {}
    for entry in entries:
        listing = listings[entry.listing_id]
        assert listing.direction == "demand" and listing.status in PUBLISHED_OR_HISTORY
        data = {
            "origin_country": str(entry.origin_country),
            "isco_code": entry.occupation_id or "",
            "period": entry.period,
            "stage": entry.stage,
            "sex": entry.sex,
            "count": entry.count,
        }
        body = OutcomeEntryInput(data=data, listing=listing, book=LedgerBook(listing))
        assert body.is_valid(), body.errors  # the fields, on an empty ledger (the ledger's rules below)
        book = books.setdefault(listing.pk, LedgerBook(listing))
        replaced = by_id[entry.corrects_id] if entry.corrects_id else None
        if replaced is not None:
            assert str(replaced.pk) not in book.corrected and replaced.listing_id == listing.pk
            assert replaced.origin_country == entry.origin_country and entry.reason
        values = {**data, "occupation": entry.occupation_id}
        assert book.problems(values, replaced) == {}, entry
        book.accept(values, replaced)
        writer = Actor(user=reporter, organisation=entry.organisation, role="official")
        assert can_record_outcomes(writer, listing, str(entry.origin_country)), entry
        assert entry.reported_by_email == f"{entry.organisation.slug}@corridor.invalid"
