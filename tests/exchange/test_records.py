"""Official records: the printable page of a listing, a partnership and an agreed match.

Each shows the authoritative fields, the decision and its date, and a SHA-256 hash of
a canonical JSON that the page prints too, so anyone can recompute it. Readers are
those of the object's page; the hash is the same for every one of them.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from accounts.tenancy import Actor, tenant_scope
from exchange.dialogue.services import match_decide, match_express_interest
from exchange.models import MatchState
from opportunities.web.records import canonical_json, content_hash
from tests.conftest import signed_in
from tests.exchange.test_partnerships import (
    a_match,
    confirmed,  # noqa: F401 - a fixture
    detail,
    in_force_public,
    partnership,  # noqa: F401 - a fixture
    rosa,  # noqa: F401 - a fixture
    spain,  # noqa: F401 - a fixture
)
from tests.opportunities.conftest import create_listing, publish, seasonal_scheme, transition, worker_offer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def record_of(client: Client, url: str) -> tuple[str, str, str]:
    """(page, printed hash, printed canonical JSON) of a record page that answered 200."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    page = response.content.decode()
    digest = re.search(r"sha256:([0-9a-f]{64})", page)
    canonical = re.search(r'<pre class="record__canonical">(.*?)</pre>', page, re.S)
    assert digest and canonical
    return page, digest.group(1), html.unescape(canonical.group(1))


@pytest.fixture
def italy_actor(italy: Organisation, alice: User) -> Actor:
    return Actor(user=alice, organisation=italy, role="admin")


@pytest.fixture
def morocco_actor(morocco: Organisation, charlie: User) -> Actor:
    return Actor(user=charlie, organisation=morocco, role="admin")


def test_the_hash_is_the_sha256_of_sorted_compact_utf8_json() -> None:
    fields = {"title": "Récolte", "b": [2, 1], "a": None}
    assert canonical_json(fields) == '{"a":null,"b":[2,1],"title":"Récolte"}'
    assert content_hash(fields) == hashlib.sha256('{"a":null,"b":[2,1],"title":"Récolte"}'.encode()).hexdigest()


def test_a_published_listing_prints_with_its_decision_date_and_a_hash_anyone_can_recompute(
    italy_actor: Actor, moderator: Actor, alice: User, charlie: User
) -> None:
    scheme = publish(create_listing(italy_actor, seasonal_scheme()), italy_actor, moderator)
    page, digest, canonical = record_of(signed_in(alice), f"/listings/{scheme.pk}/print/")
    assert scheme.title in page
    assert "Published after moderation" in page
    assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == digest
    fields = json.loads(canonical)
    assert fields["id"] == str(scheme.pk) and fields["decision"]["status"] == "published"
    # Another reader (Morocco reads Italy's published scheme) gets the very same record.
    _page, other_digest, _canonical = record_of(signed_in(charlie), f"/listings/{scheme.pk}/print/")
    assert other_digest == digest


def test_the_record_uses_the_print_stylesheet_and_no_inline_style(
    italy_actor: Actor, moderator: Actor, alice: User
) -> None:
    scheme = publish(create_listing(italy_actor, seasonal_scheme()), italy_actor, moderator)
    page, _digest, _canonical = record_of(signed_in(alice), f"/listings/{scheme.pk}/print/")
    assert re.search(r'<link rel="stylesheet" href="[^"]*css/print[^"]*\.css">', page)
    assert "style=" not in page and "<style" not in page


def test_a_draft_has_no_record_for_another_government(italy_actor: Actor, charlie: User, alice: User) -> None:
    draft = create_listing(italy_actor, seasonal_scheme(title="SECRET draft"))
    assert signed_in(charlie).get(f"/listings/{draft.pk}/print/").status_code == 404
    page, _digest, _canonical = record_of(signed_in(alice), f"/listings/{draft.pk}/print/")
    assert "Not published" in page


def test_the_reason_of_a_republication_is_shown_to_the_owner_but_not_printed_for_other_readers(
    italy_actor: Actor, moderator: Actor, alice: User, charlie: User
) -> None:
    scheme = create_listing(italy_actor, seasonal_scheme())
    transition(scheme, italy_actor, "submit")
    transition(scheme, moderator, "request_changes", reason="MODERATOR-REASON: add the wage floor")
    transition(scheme, italy_actor, "submit")
    transition(scheme, moderator, "approve")
    owner_page = signed_in(alice).get(f"/listings/{scheme.pk}/print/").content.decode()
    other_page = signed_in(charlie).get(f"/listings/{scheme.pk}/print/").content.decode()
    assert "MODERATOR-REASON" not in other_page
    assert "MODERATOR-REASON" not in owner_page  # the published decision's own reason is empty
    assert "Published after moderation" in other_page


def test_a_public_partnership_prints_its_agreement_summary_for_every_reader_and_the_same_hash(
    confirmed: dict[str, Any],  # noqa: F811 - a fixture
    alice_api: APIClient,
    alice: User,
    rosa: User,  # noqa: F811 - a fixture
) -> None:
    alice_api.put(
        detail(confirmed, "agreement/"),
        {"summary": "PUBLIC-SUMMARY", "text": "SIGNED-TEXT", "review_on": "2027-06-01"},
        format="json",
    )
    url = f"/partnerships/{confirmed['id']}/print/"
    assert signed_in(rosa).get(url).status_code == 404  # not public yet
    in_force_public(alice_api, confirmed)
    member_page, member_digest, _canonical = record_of(signed_in(alice), url)
    public_page, public_digest, canonical = record_of(signed_in(rosa), url)
    assert member_digest == public_digest
    assert "PUBLIC-SUMMARY" in public_page and "SIGNED-TEXT" not in public_page and "SIGNED-TEXT" not in member_page
    assert json.loads(canonical)["agreement"]["review_on"] == "2027-06-01"
    assert "In force" in public_page and "1 June 2024" in public_page


def test_an_agreed_match_prints_for_its_two_governments_only(
    italy_actor: Actor,
    morocco_actor: Actor,
    moderator: Actor,
    alice: User,
    charlie: User,
    rosa: User,  # noqa: F811
) -> None:
    scheme = publish(create_listing(italy_actor, seasonal_scheme()), italy_actor, moderator)
    offer = publish(create_listing(morocco_actor, worker_offer()), morocco_actor, moderator)
    match = a_match(scheme, offer, state=MatchState.SUGGESTED)
    url = f"/matches/{match.pk}/print/"
    assert signed_in(alice).get(url).status_code == 404  # a suggestion is no agreement
    with tenant_scope(morocco_actor):
        match_express_interest(actor=morocco_actor, match=match, message="We can send 500 workers.")
    with tenant_scope(italy_actor):
        match_decide(actor=italy_actor, match=match, accept=True, reason="Agreed at the joint meeting")
    page, digest, canonical = record_of(signed_in(alice), url)
    assert "Agreed" in page and "Agreed at the joint meeting" in page
    assert json.loads(canonical)["decision"]["at"]
    assert record_of(signed_in(charlie), url)[1] == digest
    assert signed_in(rosa).get(url).status_code == 404
