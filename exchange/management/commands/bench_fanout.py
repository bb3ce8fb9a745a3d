"""``manage.py bench_fanout``: the cost of announcing one published listing to N saved searches.

For each size it writes synthetic subscriptions (``exchange.loadgen``), then, on
the same data and interleaved round by round, times two ways of writing the
``listing.published`` event and its deliveries:

* **set-based**: what the approval runs
  (``exchange.notifications.events.on_listing_event``): the recipients, their
  channels and the delivery rows in one ``INSERT … SELECT``;
* **naive loop**: every subscription read into Python, filtered by the same rules
  (``subscription_wants``, a query per keyword search), a query per wanted
  subscription for its channels and an ``INSERT`` per delivery.

Each round runs in a savepoint that is rolled back, and the whole benchmark in a
transaction that is rolled back: nothing is left in the database and nothing is
sent. Figures are medians over ``--rounds``; compare the ratio, not the
milliseconds, across machines.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from accounts.models import Organisation, OrganisationKind, Role, User, VerificationStatus
from accounts.services import membership_add
from accounts.tenancy import Actor, unscoped
from exchange.loadgen import OWNER_COUNTRY, synthetic_subscriptions
from exchange.models import ChannelState, Delivery, Event, Subscription
from exchange.notifications.events import _listing_data, _sections, on_listing_event, subscription_wants
from opportunities.inputs import ListingWriteSerializer
from opportunities.models import Listing
from opportunities.services import listing_create, listing_transition

COUNTRIES = ("MA", "SN", "MD", "PH", "DE", "ES", "TN", "GH", "IN", "NP", "BD", "KE", "UA", "GT", "VN")


class Rollback(Exception):
    """Raised to roll a savepoint or the whole benchmark back."""


class Command(BaseCommand):
    help = "Time the listing.published fan-out (set-based vs a naive loop) at each --subscriptions size."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--subscriptions", type=int, nargs="+", default=[10_000, 100_000], help="Sizes, e.g. 10000 100000."
        )
        parser.add_argument("--organisations", type=int, default=300, help="Organisations the searches belong to.")
        parser.add_argument("--rounds", type=int, default=3, help="Interleaved rounds per size (median reported).")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(
            f"{'subscriptions':>13} {'recipients':>10} {'deliveries':>10} "
            f"| {'set-based':>20} | {'naive loop':>20} | ratio"
        )
        self.stdout.write(f"{'':>13} {'':>10} {'':>10} | {'statements':>10} {'ms':>9} | {'statements':>10} {'ms':>9} |")
        try:
            with unscoped("a benchmark over synthetic data of every organisation"), transaction.atomic():
                listing = _listing()
                organisations = _organisations(options["organisations"])
                written = 0
                for size in sorted(options["subscriptions"]):
                    written += synthetic_subscriptions(organisations, size - written, seed=options["seed"] + size)
                    self._size(listing, size, options["rounds"])
                raise Rollback
        except Rollback:
            pass

    def _size(self, listing: Listing, size: int, rounds: int) -> None:
        runs: dict[str, list[tuple[int, float, int, int]]] = {"set": [], "naive": []}
        for _ in range(rounds):
            runs["set"].append(_measure(listing, lambda: on_listing_event(listing, "published", "")))
            runs["naive"].append(_measure(listing, lambda: _naive(listing)))
        (set_q, _, recipients, deliveries), (naive_q, _, naive_recipients, _d) = runs["set"][0], runs["naive"][0]
        if recipients != naive_recipients:
            raise AssertionError(f"set-based reached {recipients} subscriptions, the naive loop {naive_recipients}")
        set_ms = statistics.median(ms for _q, ms, _r, _d in runs["set"])
        naive_ms = statistics.median(ms for _q, ms, _r, _d in runs["naive"])
        self.stdout.write(
            f"{size:>13,} {recipients:>10,} {deliveries:>10,} | {set_q:>10} {set_ms:>9.1f} | "
            f"{naive_q:>10,} {naive_ms:>9.1f} | {naive_ms / set_ms:5.1f}×"
        )


def _measure(listing: Listing, work: Callable[[], None]) -> tuple[int, float, int, int]:
    """Statements, milliseconds, recipients and deliveries of one fan-out, then rolled back."""
    statements = 0

    def count(execute: Callable[..., Any], *args: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(*args)

    try:
        with transaction.atomic():
            with connection.execute_wrapper(count):
                started = time.perf_counter()
                work()
                elapsed = (time.perf_counter() - started) * 1000
            deliveries = Delivery.objects.filter(event__type="listing.published")
            result = (statements, elapsed, deliveries.values("subscription").distinct().count(), deliveries.count())
            raise Rollback
    except Rollback:
        return result


def _naive(listing: Listing) -> None:
    sections = _sections(listing.sectors)
    event = Event.objects.create(type="listing.published", data=_listing_data(listing))

    def keywords_found(words: str) -> bool:
        query = SearchQuery(words, config="english", search_type="websearch") | SearchQuery(
            words, config="simple", search_type="websearch"
        )
        return Listing.objects.filter(pk=listing.pk, search_vector=query).exists()

    for subscription in Subscription.objects.select_related("organisation").iterator(chunk_size=2000):
        if subscription_wants(subscription, listing, sections=sections, keywords_found=keywords_found):
            for channel in subscription.channels.exclude(state=ChannelState.DISABLED):
                Delivery.objects.create(
                    event=event, subscription=subscription, channel=channel, organisation_id=channel.organisation_id
                )


def _listing() -> Listing:
    owner = Organisation.objects.create(
        name="Benchmark ministry",
        slug="bench-owner",
        kind=OrganisationKind.GOVERNMENT,
        country=OWNER_COUNTRY,
        is_destination=True,
        verification_status=VerificationStatus.VERIFIED,  # it submits a listing: a vetted government
    )
    user = User.objects.create_user(email="bench@corridor.invalid", password=None, full_name="Benchmark")
    membership_add(organisation=owner, user=user, role=Role.OFFICIAL)
    actor = Actor(user=user, organisation=owner, role=Role.OFFICIAL)
    body = ListingWriteSerializer(
        data={
            "direction": "demand",
            "title": "Apple harvest, Trentino",
            "scheme_type": "seasonal",
            "visibility": "members",
            "starts_on": "2027-04-01",
            "ends_on": "2027-10-31",
            "application_deadline": "2027-02-28",
            "occupation_lines": [{"isco_code": "9211", "quantity": 400}],
        },
        context={"actor": actor},
    )
    body.is_valid(raise_exception=True)
    listing = listing_create(actor=actor, data=body.validated_data)
    # Published the way production publishes: submitted, then approved by an agency's moderator
    # (before any subscription exists, so the approval itself reaches nobody).
    agency = Organisation.objects.create(name="Benchmark agency", slug="bench-moderators", kind=OrganisationKind.AGENCY)
    mona = User.objects.create_user(email="moderator@corridor.invalid", password=None, full_name="Benchmark")
    membership_add(organisation=agency, user=mona, role=Role.MODERATOR)
    listing_transition(actor=actor, listing=listing, action="submit")
    return listing_transition(
        actor=Actor(user=mona, organisation=agency, role=Role.MODERATOR), listing=listing, action="approve"
    )


def _organisations(count: int) -> list[Organisation]:
    rows = [
        Organisation(
            name=f"Benchmark government {n}",
            slug=f"bench-{n}",
            kind=OrganisationKind.GOVERNMENT,
            country=COUNTRIES[n % len(COUNTRIES)],
            is_origin=True,
            verification_status=VerificationStatus.VERIFIED,
        )
        for n in range(count)
    ]
    rows.append(Organisation(name="Benchmark agency", slug="bench-agency", kind=OrganisationKind.AGENCY))
    return Organisation.objects.bulk_create(rows)
