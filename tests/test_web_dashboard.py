"""The listings section of the dashboard: a government's listings by state and what awaits it;
an agency moderator's queue with ages."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.tenancy import Actor, tenant_scope
from opportunities.models import Listing
from opportunities.services import listing_transition
from tests.factories import OrganisationFactory, member
from tests.opportunities.conftest import create_listing, publish, seasonal_scheme, worker_offer

pytestmark = pytest.mark.django_db

DASHBOARD = "/dashboard/"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def cards(html: str) -> dict[str, int]:
    """{"Draft": 2, ...} from the listings section's cards."""
    found = re.findall(
        r'<li class="card"><a href="/listings/\?status=(\w+)&amp;mine=on"><span class="big">(\d+)</span>', html
    )
    return {state: int(n) for state, n in found}


@pytest.fixture
def italy_actor(italy: Organisation, bob: User) -> Actor:
    return Actor(user=bob, organisation=italy, role="official")


@pytest.fixture
def morocco_actor(morocco: Organisation, charlie: User) -> Actor:
    return Actor(user=charlie, organisation=morocco, role="admin")


@pytest.fixture
def italy_listings(italy_actor: Actor, morocco_actor: Actor, moderator: Actor) -> dict[str, Listing]:
    draft_one = create_listing(italy_actor, seasonal_scheme(title="Olive harvest draft"))
    draft_two = create_listing(italy_actor, seasonal_scheme(title="Tomato harvest draft"))
    submitted = create_listing(italy_actor, seasonal_scheme(title="Apple harvest, Trentino"))
    listing_transition(actor=italy_actor, listing=submitted, action="submit")
    sent_back = create_listing(italy_actor, seasonal_scheme(title="Grape harvest, Piedmont"))
    listing_transition(actor=italy_actor, listing=sent_back, action="submit")
    listing_transition(
        actor=moderator,
        listing=sent_back,
        action="request_changes",
        reason="State the housing costs deducted from wages.",
    )
    published = publish(
        create_listing(italy_actor, seasonal_scheme(title="Citrus harvest, Sicily")), italy_actor, moderator
    )
    rejected = create_listing(italy_actor, seasonal_scheme(title="Rejected scheme"))
    listing_transition(actor=italy_actor, listing=rejected, action="submit")
    listing_transition(actor=moderator, listing=rejected, action="reject", reason="Duplicate.")
    # Another government's listings, in every state that Italy also has: never counted for Italy.
    create_listing(morocco_actor, worker_offer(title="Moroccan draft"))
    other = create_listing(morocco_actor, worker_offer(title="Moroccan offer sent back"))
    listing_transition(actor=morocco_actor, listing=other, action="submit")
    listing_transition(actor=moderator, listing=other, action="request_changes", reason="Moroccan reason.")
    publish(create_listing(morocco_actor, worker_offer(title="Moroccan published")), morocco_actor, moderator)
    return {
        "draft_one": draft_one,
        "draft_two": draft_two,
        "submitted": submitted,
        "sent_back": sent_back,
        "published": published,
        "rejected": rejected,
    }


def test_a_government_sees_its_listings_by_state(italy_listings, bob):
    response = signed_in(bob).get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    assert cards(html) == {
        "draft": 2,
        "submitted": 1,
        "changes_requested": 1,
        "published": 1,
        "rejected": 1,
    }
    assert "Your organisation&#x27;s listings" in html or "Your organisation's listings" in html
    # Each card opens the listing list on that state, for this organisation only.
    drafts = signed_in(bob).get("/listings/?status=draft&mine=on").content.decode()
    assert "Olive harvest draft" in drafts and "Tomato harvest draft" in drafts and "Moroccan draft" not in drafts


def test_another_tenants_listings_are_not_counted(italy_listings, charlie):
    html = signed_in(charlie).get(DASHBOARD).content.decode()
    assert cards(html) == {"draft": 1, "submitted": 0, "changes_requested": 1, "published": 1}
    assert "Grape harvest, Piedmont" not in html and "State the housing costs" not in html
    assert "Moroccan reason." in html


def test_items_awaiting_action_show_the_moderators_reason_and_drafts(italy_listings, bob):
    html = signed_in(bob).get(DASHBOARD).content.decode()
    awaiting = html[html.index("Awaiting your action") :]
    assert "Grape harvest, Piedmont" in awaiting
    assert "State the housing costs deducted from wages." in awaiting
    assert "Olive harvest draft" in awaiting and "Tomato harvest draft" in awaiting
    # Sent back first, then drafts; what is with the moderator or published is not awaiting Italy.
    assert awaiting.index("Grape harvest, Piedmont") < awaiting.index("Olive harvest draft")
    assert "Apple harvest, Trentino" not in awaiting and "Citrus harvest, Sicily" not in awaiting
    assert "Moroccan" not in awaiting


def test_a_revision_sent_back_awaits_the_owner_too(italy_listings, bob, italy_actor, moderator):
    from tests.opportunities.test_web_moderation import propose

    published = italy_listings["published"]
    propose(published, italy_actor, annual_cap=1500)
    with tenant_scope(moderator):
        listing_transition(actor=moderator, listing=published, action="request_changes", reason="Cap above the quota.")
    html = signed_in(bob).get(DASHBOARD).content.decode()
    awaiting = html[html.index("Awaiting your action") :]
    assert "Citrus harvest, Sicily" in awaiting and "Cap above the quota." in awaiting


def test_a_viewer_sees_counts_but_nothing_to_act_on(italy_listings, italy):
    viewer = member(italy, "viewer", email="viewer@lavoro.gov.example")
    html = signed_in(viewer).get(DASHBOARD).content.decode()
    assert cards(html)["draft"] == 2
    assert "Awaiting your action" not in html


def test_an_empty_government_sees_zeroes(db):
    spain = OrganisationFactory(name="Ministerio", slug="es-min", country="ES", is_destination=True)
    official = member(spain, "official", email="nadie@inclusion.gob.example")
    html = signed_in(official).get(DASHBOARD).content.decode()
    assert cards(html) == {"draft": 0, "submitted": 0, "changes_requested": 0, "published": 0}
    assert "Nothing is waiting for you" in html


def test_an_agency_moderator_sees_the_queue_with_ages(italy_listings, italy_actor, mona):
    for n, title in enumerate(["Oldest scheme", "Second scheme", "Third scheme", "Fourth scheme", "Fifth scheme"]):
        listing = create_listing(italy_actor, seasonal_scheme(title=title))
        with tenant_scope(italy_actor):
            listing_transition(actor=italy_actor, listing=listing, action="submit")
        Listing.objects.filter(pk=listing.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=6 - n))
    html = signed_in(mona).get(DASHBOARD).content.decode()
    section = html[html.index("Moderation queue") :]
    assert '<span class="big">6</span>' in section  # five above and "Apple harvest, Trentino"
    assert '<span class="big">6\xa0days</span>' in section  # the oldest item's wait
    assert "waiting 6\xa0days" in section and "waiting 2\xa0days" in section
    for title in ["Oldest scheme", "Second scheme", "Third scheme", "Fourth scheme", "Fifth scheme"]:
        assert title in section
    assert "Apple harvest, Trentino" not in section  # the newest, sixth: not among the five oldest
    assert section.index("Oldest scheme") < section.index("Fifth scheme")
    oldest = Listing.objects.get(title="Oldest scheme")
    assert f'href="/moderation/{oldest.pk}/"' in section
    assert 'href="/moderation/"' in section
    assert "Your organisation" not in html  # no government cards for an agency


def test_an_agency_moderator_with_an_empty_queue(mona):
    html = signed_in(mona).get(DASHBOARD).content.decode()
    assert '<span class="big">0</span>' in html and "Nothing is waiting for a decision." in html


def test_the_listing_section_makes_few_queries(italy_listings, bob, mona, django_assert_max_num_queries):
    from config.web import web_actor
    from opportunities.web.dashboard import section

    for user, most in ((bob, 2), (mona, 2)):
        request = type("Request", (), {})()
        client = signed_in(user)
        request.user, request.session = user, client.session
        request.actor = web_actor(request)
        with django_assert_max_num_queries(most):
            assert section(request) is not None
