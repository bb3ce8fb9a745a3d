"""The listing detail and the token lookup run statements compiled once (config.statements):
what each reader gets stays what the access rule and the token say, request after request."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Organisation
from accounts.services import token_revoke
from accounts.tenancy import Actor, tenant_scope, unscoped
from config.statements import Statement, precompiled
from opportunities import access
from opportunities.models import Listing
from opportunities.selectors import listing_list, listing_rows
from tests.conftest import token_client
from tests.factories import OrganisationFactory, member
from tests.opportunities.conftest import create_listing, publish, seasonal_scheme, transition

URL = "/api/v1/listings/"


@pytest.fixture
def senegal(db: Any) -> Organisation:
    return OrganisationFactory(name="Ministry of Labour of Senegal", slug="sn-labour", country="SN", is_origin=True)


def _detail(client: Any, listing: Listing) -> Any:
    return client.get(f"{URL}{listing.pk}/")


def test_a_partners_listing_read_by_one_government_stays_hidden_from_a_government_it_does_not_name(
    italy, morocco, senegal, alice, charlie, moderator
):
    italian = Actor(user=alice, organisation=italy, role="admin")
    # Open to Morocco only: Morocco's read compiles the statement, Senegal's must not share it.
    listing = publish(
        create_listing(
            italian,
            seasonal_scheme(
                visibility="partners", partner_countries=["MA"], allocations=[{"country": "MA", "places": 900}]
            ),
        ),
        italian,
        moderator,
    )
    moroccan = token_client(charlie, morocco)
    senegalese = token_client(member(senegal, "official"), senegal)
    for _ in range(2):
        assert _detail(moroccan, listing).status_code == 200
        assert _detail(senegalese, listing).status_code == 404
    assert _detail(token_client(alice, italy), listing).status_code == 200


def test_a_draft_is_the_owners_alone_until_published_and_then_every_member_reads_it(
    italy, morocco, alice, charlie, moderator
):
    italian = Actor(user=alice, organisation=italy, role="admin")
    draft = create_listing(italian, seasonal_scheme(title="Tomato harvest, Foggia"))
    owner, outsider = token_client(alice, italy), token_client(charlie, morocco)
    assert _detail(owner, draft).json()["title"] == "Tomato harvest, Foggia"
    assert _detail(outsider, draft).status_code == 404

    # A change shows at once: the statement is kept, never its rows.
    assert owner.patch(f"{URL}{draft.pk}/", {"title": "Tomato harvest, Apulia"}, format="json").status_code == 200
    assert _detail(owner, draft).json()["title"] == "Tomato harvest, Apulia"
    publish(draft, italian, moderator)
    assert _detail(outsider, draft).json()["title"] == "Tomato harvest, Apulia"
    transition(draft, italian, "withdraw", reason="Places filled through another channel")
    assert _detail(outsider, draft).json()["status"] == "withdrawn"


def test_an_organisation_deactivated_after_its_reads_reads_only_public_listings(
    italy, morocco, alice, charlie, moderator
):
    italian = Actor(user=alice, organisation=italy, role="admin")
    members_only = publish(create_listing(italian, seasonal_scheme()), italian, moderator)
    public = publish(create_listing(italian, seasonal_scheme(visibility="public")), italian, moderator)
    outsider = token_client(charlie, morocco)
    assert _detail(outsider, members_only).status_code == 200
    Organisation.objects.filter(pk=morocco.pk).update(is_active=False)
    morocco.refresh_from_db()
    actor = Actor(user=charlie, organisation=morocco, role="admin")
    with tenant_scope(actor):
        rows = precompiled(
            ("listing detail", *access.listing_read_key(actor)),
            lambda: listing_rows(listing_list(actor=actor)).filter(pk=members_only.pk).order_by(),
            slot=members_only.pk,
        )
        assert rows.run(members_only.pk) == []
        assert [row["id"] for row in rows.run(public.pk)] == [public.pk]


def test_a_revoked_token_is_refused_and_each_token_acts_for_its_own_organisation(italy, morocco, alice, charlie):
    italian = Actor(user=alice, organisation=italy, role="admin")
    draft = create_listing(italian, seasonal_scheme())
    owner, outsider = token_client(alice, italy), token_client(charlie, morocco)
    assert _detail(owner, draft).status_code == 200
    assert _detail(outsider, draft).status_code == 404
    with unscoped("assertion"):
        token = alice.api_tokens.get()
    with tenant_scope(italian):
        token_revoke(token=token, actor=italian)
    assert _detail(owner, draft).status_code == 401


def test_the_detail_and_the_token_cost_what_they_did(italy, alice):
    italian = Actor(user=alice, organisation=italy, role="admin")
    draft = create_listing(italian, seasonal_scheme())
    client = token_client(alice, italy)
    _detail(client, draft)  # compiles, and marks the token used
    with CaptureQueriesContext(connection) as queries:
        assert _detail(client, draft).status_code == 200
    assert len(queries) == 2  # the token with its membership, the listing with its lines and translations


def _sql(actor: Actor, pk: Any) -> tuple[str, tuple[Any, ...]]:
    with tenant_scope(actor):
        queryset = listing_rows(listing_list(actor=actor)).filter(pk=pk).order_by()
        sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    return sql, tuple(params)


def test_readers_the_rule_does_not_tell_apart_get_the_same_sql(italy, morocco, agency, alice, bob, charlie, mona):
    """The key (access.listing_read_key) holds everything the rule reads: two readers with the same
    key get the same SQL from Django, so one compiled statement may serve both."""
    readers = [
        Actor(user=alice, organisation=italy, role="admin"),
        Actor(user=member(italy, "admin"), organisation=italy, role="admin"),
        Actor(user=bob, organisation=italy, role="official"),
        Actor(user=charlie, organisation=morocco, role="admin"),
        Actor(user=mona, organisation=agency, role="moderator"),
        Actor(user=member(agency, "moderator"), organisation=agency, role="moderator"),
        Actor(user=member(agency, "admin"), organisation=agency, role="admin"),
        Actor.anonymous(),
    ]
    pk = Listing._meta.pk.to_python("00000000-0000-4000-8000-0000000000aa")
    by_key: dict[Any, set[Any]] = {}
    for actor in readers:
        by_key.setdefault(access.listing_read_key(actor), set()).add(_sql(actor, pk))
    assert all(len(sqls) == 1 for sqls in by_key.values())
    assert len(by_key) == 6  # two pairs share a key; every other reader has its own


def test_a_statement_must_take_its_slot_once(italy):
    with pytest.raises(ValueError, match="0 times"):
        Statement(Organisation.objects.filter(slug="it-labour"), slot="nowhere")
    with pytest.raises(ValueError, match="2 times"):
        Statement(Organisation.objects.filter(slug="x", name="x"), slot="x")
    statement = Statement(Organisation.objects.filter(slug="slot"), slot="slot")
    assert statement.run("it-labour") == [italy]
    assert statement.run("nobody") == []
