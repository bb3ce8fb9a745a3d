"""Personal data (issue 16): the privacy notice, a person's export, and erasure.

Bob, an official of Italy, has a history: a listing he drafted (then withdrew), a
moderation transition and an outcome entry whose free text names him, a message he
wrote, a verification decision that names him, audit rows where he is the actor and
rows that name him (his membership). Alice is Italy's only administrator.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import access
from accounts.models import (
    ApiToken,
    AuditEvent,
    Membership,
    Organisation,
    OrganisationReview,
    SignInBackoff,
    User,
)
from accounts.privacy import account_erase, holdings_of, pseudonym_of
from accounts.services import audit_record
from accounts.tenancy import Actor
from config.errors import StateConflict
from exchange.models import Match, Message, OutcomeEntry, Subscription
from opportunities.models import Listing, ListingRevision, ListingTransition
from tests.conftest import as_assertion, signed_in, token_client
from tests.factories import PASSWORD, member
from tests.opportunities.conftest import create_listing, seasonal_scheme, worker_offer

pytestmark = pytest.mark.django_db

BOB_EMAIL = "bob@lavoro.gov.example"
BOB_NAME = "Bob Bianchi"
ALICE_EMAIL = "alice@lavoro.gov.example"
ALICE_NAME = "Alice Rossi"

# The history kept after an erasure: every text column of each is scanned.
HISTORY = (AuditEvent, ListingTransition, ListingRevision, OrganisationReview, OutcomeEntry, Message)


@pytest.fixture
def history(italy: Organisation, morocco: Organisation, alice: User, bob: User, charlie: User) -> dict[str, Any]:
    """Bob's traces across the history tables, and Alice's (which must stay hers)."""
    bob_actor = Actor(user=bob, organisation=italy, role="official")
    alice_actor = Actor(user=alice, organisation=italy, role="admin")
    listing = create_listing(bob_actor, seasonal_scheme(title="Bob's harvest scheme"))
    offer = create_listing(Actor(user=charlie, organisation=morocco, role="admin"), worker_offer())
    alices = create_listing(alice_actor, seasonal_scheme(title="Alice's scheme"))
    with as_assertion():
        Listing.objects.filter(pk=listing.pk).update(status="withdrawn")
        ListingTransition.objects.create(
            listing=listing,
            from_status="draft",
            to_status="withdrawn",
            action="withdraw",
            actor=bob,
            organisation=italy,
            reason=f"Withdrawn by {BOB_NAME} ({BOB_EMAIL})",
        )
        match = Match.objects.create(
            demand=listing,
            supply=offer,
            demand_owner=italy,
            supply_owner=morocco,
            score=0.8,
            computed_at=timezone.now(),
        )
        Message.objects.create(
            match=match, organisation=italy, author=bob, body=f"Regards, {BOB_NAME} — write to {BOB_EMAIL}"
        )
        Message.objects.create(match=match, organisation=morocco, author=charlie, body="Thank you, Charlie")
        OutcomeEntry.objects.create(
            listing=listing,
            origin_country="MA",
            period="2025",
            stage="arrived",
            sex="F",
            count=12,
            organisation=italy,
            reported_by=bob,
            reported_by_email=BOB_EMAIL,
            reason=f"Counted by {BOB_NAME}",
        )
        OrganisationReview.objects.create(
            organisation=italy,
            action="verify",
            from_status="pending",
            to_status="verified",
            reason=f"Documents sent by {BOB_NAME}, checked by {ALICE_NAME}",
        )
    with transaction.atomic():
        audit_record(actor=bob_actor, action="listing.note", obj=listing, changes={"by": BOB_EMAIL})
        audit_record(actor=alice_actor, action="listing.note", obj=alices, changes={"about": ALICE_NAME})
    return {"listing": listing, "alices": alices, "match": match}


def rows_naming(model: Any, *terms: str) -> int:
    """Rows of ``model``'s table where any column, as text, holds one of ``terms``."""
    table = connection.ops.quote_name(model._meta.db_table)
    clauses = " OR ".join(["strpos(t::text, %s) > 0"] * len(terms))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} t WHERE {clauses}", terms)  # noqa: S608
        return int(cursor.fetchone()[0])


def erasure_rows() -> list[int]:
    with as_assertion():
        return list(AuditEvent.objects.filter(action="user.erased").values_list("pk", flat=True))


# --- The notice --------------------------------------------------------------------------------


def test_the_privacy_notice_is_public_and_names_the_contact_and_the_retention(settings: Any) -> None:
    settings.PRIVACY_CONTACT_EMAIL = "dpo@corridor.example"
    settings.DELIVERY_RETENTION_DAYS = 90
    settings.INBOX_RETENTION_DAYS = 400
    page = Client().get("/privacy/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "dpo@corridor.example" in text
    assert "Deleted 90 days after it was sent" in text and "inbox items after 400 days" in text
    assert 'href="/privacy/"' in Client().get("/help/").content.decode()  # the footer


def test_the_profile_page_links_the_notice_the_download_and_the_erasure(bob: User) -> None:
    text = signed_in(bob).get(reverse("accounts:profile")).content.decode()
    for url in ("/privacy/", reverse("accounts:data"), reverse("accounts:erase")):
        assert f'href="{url}' in text


# --- Export ------------------------------------------------------------------------------------


def test_the_export_holds_bobs_data_and_nothing_of_anyone_elses(
    history: dict[str, Any], bob: User, alice: User, italy: Organisation
) -> None:
    token, secret = None, None
    with transaction.atomic():
        from accounts.services import token_issue

        token, secret = token_issue(user=bob, organisation=italy, name="Bob's script")
    response = signed_in(bob).get(reverse("accounts:data"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    data = json.loads(text)

    assert data["profile"]["email"] == BOB_EMAIL and data["profile"]["full_name"] == BOB_NAME
    assert [m["organisation__name"] for m in data["memberships"]] == [italy.name]
    assert [t["name"] for t in data["api_tokens"]] == ["Bob's script"]
    assert secret not in text and token.key_hash not in text
    assert {row["title"] for row in data["listings"]} == {"Bob's harvest scheme"}
    assert [m["body"] for m in data["messages"]] == [f"Regards, {BOB_NAME} — write to {BOB_EMAIL}"]
    assert [e["count"] for e in data["outcome_entries"]] == [12]
    assert "listing.note" in {e["action"] for e in data["audit_events"]}
    assert len(data["sessions"]) == 1 and set(data["sessions"][0]) == {"signed_in_at", "last_seen_at", "expires_at"}
    assert all(session.session_key not in text for session in Session.objects.all())
    # Nothing of Alice's, or Charlie's, though they share the organisation and the match.
    for other in (ALICE_EMAIL, ALICE_NAME, "Alice's scheme", "charlie@emploi.gov.example", "Thank you, Charlie"):
        assert other not in text
    with as_assertion():
        assert AuditEvent.objects.filter(action="user.data_exported", actor=bob).count() == 1


def test_the_api_gives_the_same_export_to_the_caller_only(
    history: dict[str, Any], bob: User, italy: Organisation
) -> None:
    response = token_client(bob, italy).get("/api/v1/me/data/")
    assert response.status_code == 200
    data = response.json()
    assert data["profile"]["email"] == BOB_EMAIL
    assert ALICE_EMAIL not in response.content.decode()
    assert APIClient().get("/api/v1/me/data/").status_code == 401


def test_a_member_may_export_and_erase_only_themselves(alice: User, bob: User) -> None:
    assert access.can_export_personal_data(requested_by=bob, subject=bob)
    refused = access.can_export_personal_data(requested_by=alice, subject=bob)
    assert not refused and not refused.conflict
    refused = access.can_erase_account(subject=bob, holdings=holdings_of(bob), requested_by=alice)
    assert not refused and not refused.conflict and "your own account" in str(refused.reason)


def test_the_export_costs_the_same_queries_however_much_the_person_holds(
    history: dict[str, Any], bob: User, italy: Organisation, django_assert_max_num_queries: Any
) -> None:
    client = signed_in(bob)
    client.get(reverse("accounts:data"))  # warm
    with django_assert_max_num_queries(26) as few:
        assert client.get(reverse("accounts:data")).status_code == 200
    bob_actor = Actor(user=bob, organisation=italy, role="official")
    for n in range(4):
        create_listing(bob_actor, seasonal_scheme(title=f"Another scheme {n}"))
    with django_assert_max_num_queries(26) as many:
        client.get(reverse("accounts:data"))
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Erasure -----------------------------------------------------------------------------------


def test_erasure_keeps_every_history_row_with_no_personal_data_left_in_it(
    history: dict[str, Any], bob: User, alice: User
) -> None:
    pseudonym = pseudonym_of(bob)
    client = signed_in(bob)
    with as_assertion():
        before = {model: model.objects.count() for model in HISTORY}
        naming_before = {model: rows_naming(model, BOB_EMAIL, BOB_NAME) for model in HISTORY}
        bobs_rows = AuditEvent.objects.filter(actor_id=bob.pk).count()
    assert all(naming_before[model] for model in (AuditEvent, ListingTransition, OutcomeEntry, Message))

    response = client.post(reverse("accounts:erase"), {"password": PASSWORD})

    assert response.status_code == 302
    with as_assertion():
        assert not User.objects.filter(pk=bob.pk).exists()
        for model in HISTORY:
            assert rows_naming(model, BOB_EMAIL, BOB_NAME) == 0, model
            assert model.objects.exclude(pk__in=erasure_rows()).count() == before[model], model
        # The rows he acted in keep his (now meaningless) id and name the pseudonym.
        assert set(
            AuditEvent.objects.filter(actor_id=bob.pk)
            .exclude(action="user.erased")
            .values_list("actor_email", flat=True)
        ) == {pseudonym}
        assert AuditEvent.objects.filter(actor_id=bob.pk).exclude(action="user.erased").count() == bobs_rows
        assert OutcomeEntry.objects.get().reported_by_email == pseudonym
        assert (
            Message.objects.get(organisation__slug="it-labour").body == f"Regards, {pseudonym} — write to {pseudonym}"
        )
        # Alice's data is untouched, including in a row that also named Bob.
        assert OrganisationReview.objects.get().reason == f"Documents sent by {pseudonym}, checked by {ALICE_NAME}"
        assert AuditEvent.objects.filter(actor=alice, changes__about=ALICE_NAME).exists()
        # The erasure's own row names the pseudonym only.
        erased = AuditEvent.objects.get(action="user.erased")
        assert erased.object_id == pseudonym == erased.actor_email == erased.object_repr
        assert BOB_EMAIL not in json.dumps(erased.changes)
        assert not Membership.objects.filter(user_id=bob.pk).exists()
        assert not ApiToken.objects.filter(user_id=bob.pk).exists()


def test_after_erasure_the_person_cannot_sign_in_and_their_session_and_tokens_are_dead(
    alice: User, bob: User, italy: Organisation
) -> None:
    api = token_client(bob, italy)
    other_browser = signed_in(bob)
    assert other_browser.get(reverse("accounts:profile")).status_code == 200
    signed_in(bob).post(reverse("accounts:erase"), {"password": PASSWORD})

    assert api.get("/api/v1/me/").status_code == 401
    assert other_browser.get(reverse("accounts:profile")).status_code == 302  # to the sign-in page
    page = Client().post(reverse("accounts:login"), {"email": BOB_EMAIL, "password": PASSWORD})
    assert page.status_code == 200 and "_auth_user_id" not in page.wsgi_request.session


def test_a_wrong_password_erases_nothing(alice: User, bob: User) -> None:
    response = signed_in(bob).post(reverse("accounts:erase"), {"password": "not my password"})
    assert response.status_code == 400
    assert "That is not your password." in response.content.decode()
    assert User.objects.filter(pk=bob.pk).exists()


def test_wrong_passwords_on_the_erasure_page_count_towards_the_sign_in_back_off(alice: User, bob: User) -> None:
    client = signed_in(bob)
    client.post(reverse("accounts:erase"), {"password": "a guess"})
    with as_assertion():
        assert SignInBackoff.objects.get(email=BOB_EMAIL).failures == 1
        # As the back-off does past its threshold: the next attempts must wait.
        SignInBackoff.objects.filter(email=BOB_EMAIL).update(blocked_until=timezone.now() + timedelta(hours=1))
    # Inside the delay even the right password is refused, unchecked, with the same words.
    response = client.post(reverse("accounts:erase"), {"password": PASSWORD})
    assert response.status_code == 400 and "That is not your password." in response.content.decode()
    assert User.objects.filter(pk=bob.pk).exists()


def test_the_last_administrator_is_refused_with_the_reason(alice: User, italy: Organisation) -> None:
    client = signed_in(alice)
    page = client.get(reverse("accounts:erase"))
    assert "You are the last administrator of Ministry of Labour and Social Policies" in page.content.decode()
    response = client.post(reverse("accounts:erase"), {"password": PASSWORD}, follow=True)
    assert "last administrator" in response.content.decode()
    assert User.objects.filter(pk=alice.pk).exists()
    # A second administrator, who becomes the focal point, lifts the refusal.
    second = member(italy, "admin", email="second@lavoro.gov.example")
    assert "focal point" in str(
        access.can_erase_account(subject=alice, holdings=holdings_of(alice), requested_by=alice).reason
    )
    Organisation.objects.filter(pk=italy.pk).update(focal_point=second)
    assert account_erase(user=alice, requested_by=alice).pseudonym == pseudonym_of(alice)


def test_the_focal_point_and_an_owner_of_live_things_are_refused(alice: User, bob: User, italy: Organisation) -> None:
    Organisation.objects.filter(pk=italy.pk).update(focal_point=bob)
    with as_assertion():
        Subscription.objects.create(organisation=italy, name="Bob's alert", created_by=bob)
    create_listing(Actor(user=bob, organisation=italy, role="official"), seasonal_scheme(title="Bob's draft"))
    with pytest.raises(StateConflict) as refused:
        account_erase(user=bob, requested_by=bob)
    message = str(refused.value)
    assert "focal point of Ministry of Labour and Social Policies" in message
    assert "Bob's draft" in message and "Bob's alert" in message
    assert User.objects.filter(pk=bob.pk).exists()


def test_the_operators_command_erases_and_refuses_with_the_same_reasons(
    history: dict[str, Any], alice: User, bob: User, capsys: Any
) -> None:
    with pytest.raises(CommandError, match="last administrator"):
        call_command("eraseuser", ALICE_EMAIL, interactive=False)
    with pytest.raises(CommandError, match="No account"):
        call_command("eraseuser", "nobody@example.org", interactive=False)
    call_command("eraseuser", BOB_EMAIL.upper(), interactive=False)
    assert capsys.readouterr().out.strip().splitlines()[-1] == pseudonym_of(bob)
    assert not User.objects.filter(pk=bob.pk).exists()
    with as_assertion():
        assert rows_naming(AuditEvent, BOB_EMAIL, BOB_NAME) == 0
        erased = AuditEvent.objects.get(action="user.erased")
        assert erased.actor_id is None and erased.changes["by"] == "operator"


# --- The append-only triggers still refuse everything else ------------------------------------


def _refused(sql: str, params: Any, *, erasing: User | None = None) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if erasing is not None:
                cursor.execute("SELECT set_config('corridor.erasing_user', %s, true)", [str(erasing.pk)])
            cursor.execute(sql, params)
    except DatabaseError as exc:
        return "append-only" in str(exc)
    return False


def test_the_audit_log_still_refuses_an_ordinary_update_or_delete(history: dict[str, Any], bob: User) -> None:
    with as_assertion():
        row = AuditEvent.objects.filter(actor=bob).first()
    assert row is not None
    assert _refused("UPDATE accounts_auditevent SET action = 'forged' WHERE id = %s", [row.pk])
    assert _refused("UPDATE accounts_auditevent SET actor_email = 'someone@else' WHERE id = %s", [row.pk])
    assert _refused("DELETE FROM accounts_auditevent WHERE id = %s", [row.pk])
    assert _refused("DELETE FROM accounts_auditevent WHERE id = %s", [row.pk], erasing=bob)
    # Even while erasing Bob: only his pseudonym may replace him, and nothing else may change.
    assert _refused(
        "UPDATE accounts_auditevent SET actor_email = 'erased-user-000000000000' WHERE id = %s", [row.pk], erasing=bob
    )
    assert _refused(
        "UPDATE accounts_auditevent SET actor_email = %s, action = 'forged' WHERE id = %s",
        [pseudonym_of(bob), row.pk],
        erasing=bob,
    )
    assert _refused("UPDATE exchange_outcomeentry SET count = 1", [])
    assert _refused("UPDATE exchange_outcomeentry SET count = 1", [], erasing=bob)
    assert _refused("DELETE FROM exchange_outcomeentry", [], erasing=bob)
    # The anonymising update itself goes through: each personal column scrubbed, nothing else.
    terms = {"email": BOB_EMAIL, "name": BOB_NAME, "pseudonym": pseudonym_of(bob), "id": row.pk}
    anonymise = (
        "UPDATE accounts_auditevent SET"
        " actor_email = corridor_erasure_scrub(actor_email, %(email)s, %(name)s, %(pseudonym)s),"
        " object_repr = corridor_erasure_scrub(object_repr, %(email)s, %(name)s, %(pseudonym)s),"
        " changes = corridor_erasure_scrub(changes::text, %(email)s, %(name)s, %(pseudonym)s)::jsonb"
        " WHERE id = %(id)s"
    )
    assert _refused(anonymise, terms)  # not without naming the person being erased
    assert not _refused(anonymise, terms, erasing=bob)
    with as_assertion():
        assert AuditEvent.objects.get(pk=row.pk).actor_email == pseudonym_of(bob)


APP_ROLE = "corridor_app_privacy_test"


def test_the_erasure_runs_under_the_documented_production_grants(history: dict[str, Any], bob: User) -> None:
    """docs/security.md: the site's role may update only the personal columns of the audit
    log and the outcomes ledger, never delete; the triggers check what it writes there."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {APP_ROLE}")
        cursor.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
        for table, columns in (
            ("accounts_auditevent", "actor_email, object_repr, changes"),
            ("exchange_outcomeentry", "reported_by_email, reason"),
        ):
            cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {APP_ROLE}")
            cursor.execute(f"GRANT UPDATE ({columns}) ON {table} TO {APP_ROLE}")
        cursor.execute(f"SET ROLE {APP_ROLE}")
    try:
        for sql, refusal in (
            ("UPDATE accounts_auditevent SET action = 'forged'", "permission denied"),
            ("UPDATE accounts_auditevent SET actor_email = 'forged'", "append-only"),
            ("DELETE FROM exchange_outcomeentry", "permission denied"),
        ):
            with pytest.raises(DatabaseError, match=refusal), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
        account_erase(user=bob, requested_by=None)
        with as_assertion():
            assert rows_naming(AuditEvent, BOB_EMAIL, BOB_NAME) == 0
            assert rows_naming(OutcomeEntry, BOB_EMAIL, BOB_NAME) == 0
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert not User.objects.filter(pk=bob.pk).exists()
