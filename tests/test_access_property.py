"""One visibility rule, whichever way it is asked: a property test over random data.

For random organisations (governments of a few countries, agencies, some
inactive) and random listings (every status and visibility, random partner
countries), whoever may read a listing is exactly:

* who ``listing_readers`` names, and who ``listing_readable_by`` says yes to;
* who is told of its publication (every organisation has a saved search for everything);
* who it is matched against (a candidate's owner reads it, and its owner reads the candidate).

The same holds for matches: the organisations that see a match are its readers and
are the ones told of it.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import ROLES_BY_KIND, Organisation, OrganisationKind, User
from accounts.tenancy import Actor, unscoped
from exchange.access import match_readable_by, match_readers, match_visible_to
from exchange.matching.services import candidates, candidates_in_python
from exchange.models import Channel, ChannelType, Delivery, Match, Subscription
from exchange.notifications.events import matches_created, on_listing_event
from opportunities.access import listing_readable_by, listing_readers, listing_visible_to
from opportunities.models import Listing, ListingStatus, Visibility

pytestmark = pytest.mark.django_db

COUNTRIES = ["IT", "DE", "MA", "PH", "MD"]
BASE = datetime.date(2027, 1, 1)


class Rollback(Exception):
    pass


organisation_specs = st.fixed_dictionaries(
    {
        "kind": st.sampled_from([OrganisationKind.GOVERNMENT] * 3 + [OrganisationKind.AGENCY]),
        "country": st.sampled_from(COUNTRIES),
        "active": st.sampled_from([True, True, True, False]),
    }
)
listing_specs = st.fixed_dictionaries(
    {
        "owner": st.integers(0, 100),
        "direction": st.sampled_from(["demand", "supply"]),
        "status": st.sampled_from([*ListingStatus.values, ListingStatus.PUBLISHED, ListingStatus.PUBLISHED]),
        "visibility": st.sampled_from(Visibility.values),
        "partners": st.lists(st.sampled_from(COUNTRIES), max_size=3, unique=True),
    }
)


def _organisations(specs: list[dict]) -> list[Organisation]:
    orgs = []
    for n, spec in enumerate(specs):
        agency = spec["kind"] == OrganisationKind.AGENCY
        orgs.append(
            Organisation.objects.create(
                name=f"Organisation {n}",
                slug=f"org-{n}",
                kind=spec["kind"],
                country="" if agency else spec["country"],
                is_origin=not agency,
                is_destination=not agency,
                is_active=spec["active"],
            )
        )
        subscription = Subscription.objects.create(organisation=orgs[-1], name="Everything")
        Channel.objects.create(subscription=subscription, organisation=orgs[-1], type=ChannelType.INBOX)
    return orgs


def _listings(specs: list[dict], governments: list[Organisation]) -> list[Listing]:
    return Listing.objects.bulk_create(
        Listing(
            owner=(owner := governments[spec["owner"] % len(governments)]),
            owner_country=str(owner.country),
            direction=spec["direction"],
            status=spec["status"],
            visibility=spec["visibility"],
            title="generated",
            scheme_type="other",
            partner_countries=_partners(spec, str(owner.country)),
            starts_on=BASE,
            ends_on=BASE + datetime.timedelta(days=200),
            application_deadline=BASE,
            isco_prefixes=["9", "92", "921", "9211"],
        )
        for spec in specs
    )


def listing_published_recipients(listing: Listing) -> set:
    """The organisations the outbox writes a ``listing.published`` delivery for."""
    on_listing_event(listing, "published", "")
    deliveries = Delivery.objects.filter(event__type="listing.published", event__data__listing_id=str(listing.pk))
    return set(deliveries.values_list("organisation_id", flat=True))


def match_created_recipients(matches: object) -> dict:
    """Per match, the organisations the outbox writes a ``match.created`` delivery for."""
    matches_created(matches.select_related("demand", "supply"))
    told: dict = {}
    for match_id, organisation_id in Delivery.objects.filter(event__type="match.created").values_list(
        "event__data__match_id", "organisation_id"
    ):
        told.setdefault(match_id, set()).add(organisation_id)
    return told


def _partners(spec: dict, owner_country: str) -> list[str]:
    partners = [p for p in spec["partners"] if p != owner_country]
    if not partners and spec["visibility"] == Visibility.PARTNERS:  # the model requires some
        partners = ["PH" if owner_country == "MA" else "MA"]
    return partners


def _actors(organisation: Organisation) -> list[Actor]:
    user = User(email=f"someone@{organisation.slug}.example")
    return [Actor(user=user, organisation=organisation, role=role) for role in ROLES_BY_KIND[organisation.kind]]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    org_specs=st.lists(organisation_specs, min_size=2, max_size=7),
    specs=st.lists(listing_specs, min_size=1, max_size=8),
)
def test_who_reads_a_listing_is_who_hears_of_it_and_who_is_matched_with_it(org_specs, specs, db):
    try:
        with unscoped("a property test over every tenant's data"), transaction.atomic():
            # At least one active government, to own the listings.
            orgs = _organisations([{"kind": OrganisationKind.GOVERNMENT, "country": "IT", "active": True}, *org_specs])
            governments = [o for o in orgs if o.kind == OrganisationKind.GOVERNMENT]
            listings = _listings(specs, governments)
            everyone = Organisation.objects.all()
            for listing in listings:
                readers = set(listing_readers(listing))
                for org in everyone:
                    reads = any(
                        listing_visible_to(actor=actor).filter(pk=listing.pk).exists() for actor in _actors(org)
                    )
                    assert (org in readers) == (reads and org.is_active) == listing_readable_by(listing, org)
                if listing.status == ListingStatus.PUBLISHED:
                    assert listing_published_recipients(listing) == {o.pk for o in readers} - {listing.owner_id}
                    for other in candidates(listing).select_related("owner"):
                        assert listing.owner in set(listing_readers(other)) and other.owner in readers
                    found = set(candidates(listing).values_list("pk", flat=True))
                    assert found == {m.pk for m in candidates_in_python(listing, listings)}
            raise Rollback
    except Rollback:
        pass


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(org_specs=st.lists(organisation_specs, min_size=3, max_size=6), pairs=st.integers(1, 6))
def test_who_sees_a_match_is_who_hears_of_it(org_specs, pairs, db):
    try:
        with unscoped("a property test over every tenant's data"), transaction.atomic():
            orgs = _organisations(org_specs)
            governments = [o for o in orgs if o.kind == OrganisationKind.GOVERNMENT]
            if len(governments) < 2:
                raise Rollback
            demand = _listings(
                [{"owner": 0, "direction": "demand", "status": "published", "visibility": "members", "partners": []}],
                governments[:1],
            )[0]
            supplies = _listings(
                [
                    {"owner": n, "direction": "supply", "status": "published", "visibility": "members", "partners": []}
                    for n in range(pairs)
                ],
                governments[1:],
            )
            matches = Match.objects.bulk_create(
                Match(
                    demand=demand,
                    supply=s,
                    demand_owner_id=demand.owner_id,
                    supply_owner_id=s.owner_id,
                    score=0.5,
                    computed_at=demand.created_at,
                )
                for s in supplies
                if s.owner_id != demand.owner_id
            )
            told = match_created_recipients(Match.objects.filter(pk__in=[m.pk for m in matches]))
            for match in matches:
                readers = set(match_readers(match))
                for org in Organisation.objects.all():
                    sees = any(match_visible_to(actor=a).filter(pk=match.pk).exists() for a in _actors(org))
                    assert (org in readers) == (sees and org.is_active) == match_readable_by(match, org)
                assert told.get(str(match.pk), set()) == {o.pk for o in readers}
            raise Rollback
    except Rollback:
        pass
