"""The fan-out of one event to thousands of subscribers costs a constant number of statements.

Publishing a listing writes its event and every delivery in one statement whose
plan is one set-based join (no subquery re-run per row), and a matching run that
creates hundreds of matches announces them all in the same few statements.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Organisation
from accounts.tenancy import tenant_scope, unscoped
from exchange.loadgen import synthetic_subscriptions
from exchange.models import Channel, ChannelType, Delivery, Event, Match, Notification, Subscription
from exchange.notifications.events import (
    _sections,
    channels_for,
    fan_out_sql,
    matches_created,
    subscription_targets,
    subscription_wants,
    subscriptions_for_listing,
)
from opportunities.models import Listing
from opportunities.services import listing_transition
from tests.exchange.conftest import run_on_commit, scheme
from tests.factories import AgencyFactory, OrganisationFactory
from tests.opportunities.conftest import create_listing

pytestmark = pytest.mark.django_db

COUNTRIES = ["MA", "SN", "MD", "PH", "DE", "ES", "TN", "GH", "IN", "NP"]


def _organisations(count: int) -> list[Organisation]:
    orgs = [OrganisationFactory(slug=f"gov-{n}", country=COUNTRIES[n % len(COUNTRIES)]) for n in range(count - 2)]
    return [*orgs, AgencyFactory(), OrganisationFactory(slug="gov-inactive", country="MA", is_active=False)]


def _submitted(owner: Any, title: str) -> Listing:
    listing = create_listing(
        owner, scheme(title=title, visibility="members", occupation_lines=[{"isco_code": "9211", "quantity": 50}])
    )
    return run_on_commit(listing_transition, actor=owner, listing=listing, action="submit")


def _approve(listing: Listing, moderator: Any) -> int:
    """Approve; the number of statements of the approval itself (not the deliveries after commit)."""
    with tenant_scope(moderator), CaptureQueriesContext(connection) as queries:
        listing_transition(actor=moderator, listing=listing, action="approve")
    return len(queries.captured_queries)


def _keywords_found(listing: Listing) -> Any:
    """Web-search semantics for the words the test uses: every word present, ``-word`` absent."""
    text = f"{listing.title} {listing.summary}".lower()
    return lambda words: all(
        (word[1:] not in text) if word.startswith("-") else (word in text) for word in words.lower().split()
    )


def _recipients_in_python(listing: Listing) -> set[uuid.UUID]:
    listing.refresh_from_db()
    sections = _sections(listing.sectors)
    return {
        s.pk
        for s in Subscription.objects.select_related("organisation")
        if subscription_wants(s, listing, sections=sections, keywords_found=_keywords_found(listing))
    }


@unscoped("assertion")
def _check_recipients(listing: Listing, subscriptions: int) -> None:
    event = Event.objects.get(type="listing.published", data__listing_id=str(listing.pk))
    delivered = set(Delivery.objects.filter(event=event).values_list("subscription_id", flat=True))
    expected = _recipients_in_python(listing)
    assert subscriptions * 0.05 < len(expected) < subscriptions * 0.15  # about one in ten, as built
    assert delivered == expected
    # One delivery per subscriber and live channel.
    assert Delivery.objects.filter(event=event).count() == Channel.objects.filter(subscription__in=expected).count()


def test_publication_reaches_exactly_the_wanting_subscribers_in_the_same_statements_at_200_and_2000(
    italy_official, moderator
):
    first, second = (
        _submitted(italy_official, "Apple harvest, Trentino"),
        _submitted(italy_official, "Apple harvest, Alto Adige"),
    )
    orgs = _organisations(40)
    synthetic_subscriptions(orgs, 200, seed=1)  # unscoped itself, as load data
    at_200 = _approve(first, moderator)
    _check_recipients(first, 200)

    synthetic_subscriptions(orgs, 1800, seed=2)
    at_2000 = _approve(second, moderator)
    _check_recipients(second, 2000)
    assert at_200 == at_2000


def _plan_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", []) for n in _plan_nodes(child))]


def _explain(sql: str, params: Any) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return _plan_nodes(plan[0]["Plan"])


def test_the_channel_query_and_the_fan_out_run_no_subquery_per_row(italy_official):
    listing = _submitted(italy_official, "Apple harvest, Trentino")
    synthetic_subscriptions(_organisations(10), 300, seed=3)
    subscriptions = subscriptions_for_listing(listing)  # the outbox's own unscoped reads
    statements = [
        channels_for(subscriptions).query.sql_with_params(),
        fan_out_sql(
            type="listing.published",
            events=[(uuid.uuid4(), {"title": listing.title})],
            targets=subscription_targets(uuid.uuid4(), subscriptions),
            now=listing.created_at,
        ),
    ]
    for sql, params in statements:
        nodes = _explain(sql, params)
        per_row = [n for n in nodes if n.get("Parent Relationship") == "SubPlan"]
        assert per_row == [], per_row
        # The listing's vector is read once, as an InitPlan, not per subscription.
        assert any(n.get("Parent Relationship") == "InitPlan" for n in nodes)


def _listing_copies(template: Listing, owners: list[Organisation]) -> list[Listing]:
    copies = []
    for owner in owners:
        copy = Listing.objects.get(pk=template.pk)
        copy.pk, copy.owner, copy.owner_country = uuid.uuid4(), owner, owner.country
        copies.append(copy)
    return Listing.objects.bulk_create(copies)


@pytest.mark.parametrize("new_matches", [10, 500])
def test_announcing_new_matches_costs_the_same_statements_for_10_and_500(
    new_matches, italy, italy_official, moldova_actor
):
    from tests.exchange.conftest import offer

    demand = create_listing(italy_official, scheme())
    supply = create_listing(moldova_actor, offer())
    owners = [
        OrganisationFactory(slug=f"origin-{n}", country=COUNTRIES[n % 4], is_origin=True) for n in range(new_matches)
    ]
    with unscoped("test setup"):
        offers = _listing_copies(supply, owners)
        for org in [italy, *owners]:
            subscription = Subscription.objects.create(organisation=org, name="Everything")
            Channel.objects.create(subscription=subscription, organisation=org, type=ChannelType.INBOX)
        when = demand.created_at
        Match.objects.bulk_create(
            Match(
                demand=demand,
                supply=o,
                demand_owner_id=italy.pk,
                supply_owner_id=o.owner_id,
                score=0.5,
                computed_at=when,
            )
            for o in offers
        )
        matches = Match.objects.filter(demand=demand).select_related("demand", "supply")
    # As the matching task runs it: a system task across tenants.
    with unscoped("matching compares listings across tenants"), CaptureQueriesContext(connection) as queries:
        written = matches_created(matches)
    assert written == new_matches
    assert len(queries.captured_queries) == 2  # the matches with their listings; the fan-out
    with unscoped("assertion"):
        assert Event.objects.filter(type="match.created").count() == new_matches
        # Each match reaches both owners: Italy once per match, each origin once.
        assert Delivery.objects.filter(organisation=italy, event__type="match.created").count() == new_matches
        assert set(Delivery.objects.exclude(organisation=italy).values_list("organisation_id", flat=True)) == {
            o.pk for o in owners
        }


def test_a_large_fan_out_is_enqueued_in_chunks_and_each_inbox_item_made_once(italy_official, moderator, italy):
    listing = _submitted(italy_official, "Apple harvest, Trentino")
    orgs = [OrganisationFactory(slug=f"reader-{n}", country=COUNTRIES[n % len(COUNTRIES)]) for n in range(45)]
    with unscoped("test setup"):
        for org in orgs:
            subscription = Subscription.objects.create(organisation=org, name="Farm work", isco_prefixes=["92"])
            Channel.objects.create(subscription=subscription, organisation=org, type=ChannelType.INBOX)
    # 45 pending deliveries: more than ENQUEUE_INLINE, so one exchange.deliver_many splits them.
    run_on_commit(listing_transition, actor=moderator, listing=listing, action="approve")
    with unscoped("assertion"):
        published = Delivery.objects.filter(event__type="listing.published")
        assert published.count() == 45
        assert set(published.values_list("status", flat=True)) == {"sent"}
        assert Notification.objects.filter(event__type="listing.published").count() == 45
