"""Notification payloads are thin: ids, titles and links, never a member's e-mail or name.

One seeded world emits every event type the platform writes (through the real
services, hooks run as after commit); then every stored ``Event.data`` and the
webhook body of each is scanned for every user's e-mail address and name.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from accounts.models import Organisation, User
from accounts.tenancy import Actor, tenant_scope
from exchange.dialogue.services import match_decide, match_express_interest, match_post_message
from exchange.models import ChannelType, Event, Match, Subscription
from exchange.notifications.events import closing_soon, event_send_test
from exchange.notifications.webhooks import body_for
from exchange.partnerships.agreements import agreement_review_reminders_send, agreement_save
from exchange.partnerships.services import partnership_confirm, partnership_create
from opportunities.services import consent_decide
from tests.conftest import as_assertion
from tests.exchange.conftest import offer, published, run_on_commit, scheme
from tests.exchange.factories import ChannelFactory, SubscriptionFactory, WebhookChannelFactory
from tests.exchange.test_suggestions import evidence
from tests.factories import member
from tests.opportunities.conftest import create_listing, transition

pytestmark = pytest.mark.django_db

# Every type of event the platform writes (exchange/notifications/events.py, the
# suggestions, the agreement reminder). A new type must be emitted here too. Free text
# that officials write (a moderator's reason, a decision's reason) is theirs to word;
# what is pinned here is that the platform itself never adds a person to a payload,
# although the listing names a contact person and every step has a user behind it.
EVENT_TYPES = {
    "listing.published",
    "listing.moderated",
    "listing.closing_soon",
    "match.created",
    "interest.expressed",
    "message.posted",
    "match.accepted",
    "match.declined",
    "suggestion.created",
    "agreement.review_due",
    "consent.requested",
    "consent.decided",
    "test",
}


def _actor(org: Organisation, user: User, role: str = "admin") -> Actor:
    return Actor(user=user, organisation=org, role=role)


def _subscribe(org: Organisation) -> Subscription:
    """An unfiltered alert with an inbox and a webhook: it receives everything the organisation may."""
    with as_assertion():
        subscription = SubscriptionFactory(organisation=org, name=f"Everything for {org.slug}")
        ChannelFactory(subscription=subscription, type=ChannelType.INBOX)
        WebhookChannelFactory(subscription=subscription)
    return subscription


@pytest.fixture
def world(
    italy: Organisation,
    morocco: Organisation,
    germany: Organisation,
    philippines: Organisation,
    alice: User,
    bob: User,
    charlie: User,
    moderator: Actor,
) -> dict[str, Any]:
    greta = member(germany, "admin", email="greta.schmidt@arbeitsagentur.example", full_name="Greta Schmidt")
    paolo = member(philippines, "admin", email="paolo.reyes@dmw.gov.example", full_name="Paolo Reyes")
    subscriptions = {org.slug: _subscribe(org) for org in (italy, morocco, germany, philippines)}
    it, ma = _actor(italy, alice), _actor(morocco, charlie)
    bob_actor = _actor(italy, bob, "official")

    # listing.published, listing.moderated (approved and changes requested), match.created
    sent_back = create_listing(it, scheme(title="Orchard scheme", contact=str(bob.pk)))
    transition(sent_back, it, "submit")
    run_on_commit(transition, sent_back, moderator, "request_changes", reason="Add the wage floor.")
    demand = published(bob_actor, moderator, scheme(title="Seasonal harvest scheme"))
    accepted_offer = published(ma, moderator, offer(title="Farm workers, first group"))
    declined_offer = published(ma, moderator, offer(title="Farm workers, second group"))
    with as_assertion():
        accepted = Match.objects.get(demand=demand, supply=accepted_offer)
        declined = Match.objects.get(demand=demand, supply=declined_offer)

    # interest.expressed, message.posted, match.accepted, match.declined
    for match in (accepted, declined):
        run_on_commit(match_express_interest, actor=ma, match=match, message="We can send 500.")
    run_on_commit(match_post_message, actor=bob_actor, match=accepted, message="Agreed on our side.")
    run_on_commit(match_decide, actor=it, match=accepted, accept=True, reason="Signed at the joint meeting.")
    run_on_commit(match_decide, actor=it, match=declined, accept=False, reason="The second group is not needed.")

    # listing.closing_soon: a week before the deadline, to those who expressed interest
    closing_soon(today=demand.application_deadline - datetime.timedelta(days=7))

    # suggestion.created: a German shortage meets a Philippine surplus
    evidence(_actor(germany, greta), [("shortage", "2221", "high")])
    evidence(_actor(philippines, paolo), [("surplus", "2221", "medium")])

    # agreement.review_due
    with tenant_scope(it):
        partnership = partnership_create(
            actor=it, name="Italy–Morocco partnership", kind="mobility_partnership", members=[morocco.pk]
        )
    with tenant_scope(ma):
        partnership_confirm(actor=ma, partnership=partnership)
    review = datetime.date.today() + datetime.timedelta(days=30)  # noqa: DTZ011 - a date, not a moment
    with tenant_scope(it):
        agreement_save(actor=it, partnership=partnership, summary="Summary", review_on=review)
    agreement_review_reminders_send()

    # consent.requested (to the Philippines) and consent.decided (to Germany): a scheme that
    # recruits only with the origin government's agreement
    consent_scheme = published(
        _actor(germany, greta),
        moderator,
        scheme(title="Triple Win nurses", partner_countries=["PH"], requires_origin_consent=True),
    )
    run_on_commit(
        consent_decide,
        actor=_actor(philippines, paolo),
        listing=consent_scheme,
        country="PH",
        accept=True,
        reason="Within our agreement.",
    )

    # test
    event_send_test(subscription=subscriptions[italy.slug])
    with as_assertion():
        return {"users": list(User.objects.all()), "events": list(Event.objects.all())}


def test_every_event_type_is_emitted_in_the_seeded_world(world: dict[str, Any]) -> None:
    assert {event.type for event in world["events"]} == EVENT_TYPES


def test_no_payload_or_webhook_body_carries_a_members_email_or_name(world: dict[str, Any]) -> None:
    personal = {u.email.lower() for u in world["users"]} | {u.full_name.lower() for u in world["users"] if u.full_name}
    assert {"alice@lavoro.gov.example", "bob bianchi", "charlie alaoui", "greta schmidt"} <= personal
    for event in world["events"]:
        texts = {
            "data": json.dumps(event.data, ensure_ascii=False).lower(),
            "webhook": json.loads(body_for(event)).__repr__().lower(),
        }
        for where, text in texts.items():
            leaked = sorted(value for value in personal if value in text)
            assert not leaked, f"{event.type} {where} carries {leaked}"


def test_every_payload_carries_an_id_a_title_and_a_link(world: dict[str, Any]) -> None:
    for event in world["events"]:
        ids = [key for key in event.data if key.endswith("_id")]
        assert ids, event.type
        assert event.data.get("title"), event.type
        assert str(event.data.get("url", "")).startswith("http"), event.type
