"""Approving a published listing's pending revision: what it writes, in few statements.

The approval writes the search vector with the listing's own UPDATE (text, translations
and the occupations' titles), leaves lines it does not change as they are, and reads the
pending revision with the listing under its lock. These tests hold it to what the
separate vector UPDATE wrote before (``old_index``, kept here as the oracle), to what a
reader finds, and to one decision per revision when two moderators approve at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections, transaction

from accounts.tenancy import Actor, unscoped
from opportunities.models import EscoOccupation, Listing, ListingRevision, ListingTransition, Occupation
from opportunities.search import both_forms, normalise
from opportunities.translations import translation_dicts
from tests.conftest import token_client
from tests.opportunities.conftest import create_listing, publish, seasonal_scheme, transition

# The fault suite's fixtures: the reference data put back after a transactional test's flush.
from tests.reliability.conftest import _reference_data, reference_snapshot, restore_reference_data  # noqa: F401

URL = "/api/v1/listings/"


@pytest.fixture(autouse=True, scope="module")
def _reference_data_kept(reference_snapshot: dict[str, bytes], django_db_blocker: Any) -> Iterator[None]:  # noqa: F811
    """The transactional tests below end with a flush that takes the reference data the migrations
    loaded: it is put back before each of them (``_reference_data``) and after the last, for the
    tests that run after them on the same database (as the fault suite's, tests/reliability)."""
    yield
    with django_db_blocker.unblock():
        restore_reference_data(reference_snapshot)


SPANISH = {
    "language": "es",
    "title": "Cosecha de fruta roja en Trentino",
    "summary": "Contratos de temporada con alojamiento.",
    "description": "Recolección de manzanas y arándanos.",
}
FRENCH = {
    "language": "fr",
    "title": "Récolte de fruits rouges au Trentin",
    "summary": "Contrats saisonniers avec logement.",
    "description": "Cueillette des pommes et des myrtilles.",
}


# --- The oracle: the vector as the separate UPDATE after the lines wrote it (before issue 15) ---

_CONFIGS = ("english", "french", "spanish", "simple")


def _multilingual(param: str, weight: str) -> str:
    parts = " || ".join(f"to_tsvector('{config}', %({param})s)" for config in _CONFIGS)
    return f"setweight({parts}, '{weight}')"


_OLD_INDEX_SQL = f"""
UPDATE opportunities_listing SET search_vector =
    {_multilingual("title", "A")} || {_multilingual("summary", "B")}
    || {_multilingual("description", "C")} || {_multilingual("occupations", "D")}
WHERE id = %(id)s
"""  # noqa: S608


def old_index(listing: Listing) -> None:
    codes = list(listing.occupation_lines.values_list("occupation_id", flat=True))
    occupations = Occupation.objects.filter(code__in=codes)
    titles = [both_forms(getattr(o, f"title_{lang}")) for o in occupations for lang in ("en", "fr", "es")]
    titles += [
        normalise(t) for t in EscoOccupation.objects.filter(occupation_id__in=codes).values_list("title_en", flat=True)
    ]
    translations = translation_dicts(listing)
    texts = {
        name: " | ".join(
            both_forms(value) for value in [getattr(listing, name), *(t.get(name) or "" for t in translations)] if value
        )
        for name in ("title", "summary", "description")
    }
    with connection.cursor() as cursor:
        cursor.execute(_OLD_INDEX_SQL, {"id": listing.pk, **texts, "occupations": " | ".join(titles)})


def stored_vector(listing: Listing) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_vector::text FROM opportunities_listing WHERE id = %s", [listing.pk])
        return str(cursor.fetchone()[0])


def assert_vector_is_the_old_paths(listing: Listing) -> None:
    written = stored_vector(listing)
    assert written and "'trentino'" in written
    with unscoped("the test recomputes the vector the old way"):
        old_index(Listing.objects.get(pk=listing.pk))
    assert stored_vector(listing) == written


# --- Fixtures --------------------------------------------------------------------------------------


def scheme(**overrides: Any) -> dict[str, Any]:
    return seasonal_scheme(
        title="Red-fruit harvest in Trentino",
        summary="Seasonal contracts with housing.",
        description="Apple and blueberry picking.",
        text_language="en",
        **overrides,
    )


@pytest.fixture
def italian(italy: Any, alice: Any) -> Actor:
    return Actor(user=alice, organisation=italy, role="admin")


@pytest.fixture
def published(italian: Actor, moderator: Actor) -> Listing:
    listing = create_listing(italian, scheme(translations=[SPANISH], visibility="public"))
    return publish(listing, italian, moderator)


def propose(alice: Any, italy: Any, listing: Listing, body: dict[str, Any]) -> None:
    response = token_client(alice, italy).patch(f"{URL}{listing.pk}/", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["pending_revision"] is not None


def lines(listing: Listing) -> list[tuple[int, str, int]]:
    return list(listing.occupation_lines.order_by("position").values_list("id", "occupation_id", "quantity"))


# --- The vector ------------------------------------------------------------------------------------

REVISIONS = {
    "the title only": {"title": "Red-fruit and cherry harvest in Trentino"},
    "the lines and the translations": {
        "occupation_lines": [
            {"isco_code": "9211", "quantity": 40},
            {"isco_code": "6112", "quantity": 10},
            {"isco_code": "9211", "quantity": 5, "qualification_notes": "Tractor licence"},
        ],
        "translations": [FRENCH, SPANISH],
    },
    "the translations gone": {"translations": []},
}


@pytest.mark.django_db
@pytest.mark.parametrize("revision", REVISIONS.values(), ids=REVISIONS.keys())
def test_the_vector_an_approval_writes_is_the_one_the_separate_update_wrote(
    alice: Any, italy: Any, mona: Any, agency: Any, published: Listing, revision: dict[str, Any]
) -> None:
    propose(alice, italy, published, revision)
    assert token_client(mona, agency).post(f"{URL}{published.pk}/approve/").status_code == 200
    assert_vector_is_the_old_paths(published)


@pytest.mark.django_db
def test_a_new_listing_and_an_edited_draft_have_the_vector_the_separate_update_wrote(
    italian: Actor, alice: Any, italy: Any
) -> None:
    draft = create_listing(italian, scheme(translations=[SPANISH, FRENCH]))
    assert_vector_is_the_old_paths(draft)
    edited = token_client(alice, italy).patch(
        f"{URL}{draft.pk}/", {"occupation_lines": [{"isco_code": "6112", "quantity": 3}]}, format="json"
    )
    assert edited.status_code == 200, edited.json()
    assert_vector_is_the_old_paths(draft)


@pytest.mark.django_db
def test_a_search_finds_an_approved_listing_by_its_translated_text(
    alice: Any, italy: Any, mona: Any, agency: Any, charlie: Any, morocco: Any, published: Listing
) -> None:
    propose(alice, italy, published, {"title": "Cherry harvest in Trentino"})
    assert token_client(mona, agency).post(f"{URL}{published.pk}/approve/").status_code == 200
    reader = token_client(charlie, morocco)

    def found(query: str) -> list[str]:
        return [row["id"] for row in reader.get(URL, {"q": query}).json()["results"]]

    assert found("arándanos") == [str(published.pk)]  # the Spanish translation's description
    assert found("cherry") == [str(published.pk)]  # the approved title
    assert found("fruit picker") == [str(published.pk)]  # an ESCO title of the unchanged line (9211)
    assert found("red-fruit") == []  # the title it replaced


# --- The lines ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_approval_leaves_unchanged_lines_as_they_are_and_replaces_changed_ones(
    alice: Any, italy: Any, mona: Any, agency: Any, published: Listing
) -> None:
    moderator = token_client(mona, agency)
    before = lines(published)
    propose(alice, italy, published, {"title": "Cherry harvest in Trentino"})
    assert moderator.post(f"{URL}{published.pk}/approve/").status_code == 200
    assert lines(published) == before  # the same rows: not deleted and inserted again

    propose(alice, italy, published, {"occupation_lines": [{"isco_code": "6112", "quantity": 7}]})
    approved = moderator.post(f"{URL}{published.pk}/approve/")
    assert approved.status_code == 200
    assert [(line["isco_code"], line["quantity"]) for line in approved.json()["occupation_lines"]] == [("6112", 7)]
    assert [(code, quantity) for _id, code, quantity in lines(published)] == [("6112", 7)]
    assert approved.json()["total_quantity"] == 7


# --- One decision per revision ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["approve", "reject"])
def test_a_revision_is_decided_once_when_an_approval_waits_for_another_decision(
    alice: Any, italy: Any, mona: Any, agency: Any, published: Listing, first: str
) -> None:
    """While one moderator's decision holds the listing's lock, another's approval waits; it
    then finds the revision decided (a 409), whether the first decision changed the listing
    (an approval) or only the revision (a rejection)."""
    from tests.factories import member

    max_ = Actor(
        user=member(agency, "moderator", email="max@ilma.example", full_name="Max Moderator"),
        organisation=agency,
        role="moderator",
    )
    propose(alice, italy, published, {"title": "Cherry harvest in Trentino"})
    statuses: list[int] = []

    def approve() -> None:
        try:
            statuses.append(token_client(mona, agency).post(f"{URL}{published.pk}/approve/").status_code)
        finally:
            connections.close_all()

    waiting = threading.Thread(target=approve, daemon=True)
    with transaction.atomic():
        transition(published, max_, first, reason="" if first == "approve" else "Not this season.")
        waiting.start()
        _wait_until_waiting_for_a_lock(1)
    waiting.join(timeout=60)
    assert statuses == [409]
    with unscoped("the test counts the decisions"):
        assert list(ListingRevision.objects.values_list("status", flat=True)) == [
            {"approve": "approved", "reject": "rejected"}[first]
        ]
        assert ListingTransition.objects.filter(listing=published, action__startswith="revision_").count() == 1
        title = Listing.objects.get(pk=published.pk).title
    assert title == ("Cherry harvest in Trentino" if first == "approve" else "Red-fruit harvest in Trentino")


@pytest.mark.django_db(transaction=True)
def test_of_two_edits_of_a_draft_at_once_the_later_one_wins_lines_included(
    alice: Any, italy: Any, italian: Actor
) -> None:
    """The later edit waited for the lock while the earlier one changed the lines; it compares
    its lines with the ones the earlier edit left (read again once the lock is held), not with
    the ones its statement's snapshot saw, so putting the original lines back is written."""
    draft = create_listing(italian, scheme())
    original = [{"isco_code": "9211", "quantity": 950, "languages": [{"language": "es", "level": "A1"}]}]
    statuses: list[int] = []

    def edit_back() -> None:
        try:
            body = {"title": "Red-fruit harvest in Trentino, as first written", "occupation_lines": original}
            statuses.append(token_client(alice, italy).patch(f"{URL}{draft.pk}/", body, format="json").status_code)
        finally:
            connections.close_all()

    later = threading.Thread(target=edit_back, daemon=True)
    with transaction.atomic():
        earlier = {"occupation_lines": [{"isco_code": "6112", "quantity": 3}]}
        assert token_client(alice, italy).patch(f"{URL}{draft.pk}/", earlier, format="json").status_code == 200
        later.start()
        _wait_until_waiting_for_a_lock(1)
    later.join(timeout=60)
    assert statuses == [200]
    with unscoped("the test reads what was saved"):
        saved = Listing.objects.get(pk=draft.pk)
        assert [(code, quantity) for _id, code, quantity in lines(saved)] == [("9211", 950)]
        assert saved.total_quantity == 950
    assert_vector_is_the_old_paths(draft)


def _wait_until_waiting_for_a_lock(count: int) -> None:
    """Until ``count`` other sessions of this database wait for a row lock (at most 30 s)."""
    for _attempt in range(300):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else the first read holds for the transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
        time.sleep(0.1)
    raise AssertionError(f"{count} sessions never waited for the listing's lock")
