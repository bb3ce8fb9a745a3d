"""Offboarding (issue 16): an administrator removes an official, and nothing of the
organisation is left in the hands of someone who has gone.

Bob, an official of Italy, owns one of everything ``accounts.offboarding.OWNED`` names:
a listing he created and is the contact of, another he is only the contact of, a
subscription whose e-mail alerts go to him, a partnership he leads, a migration profile,
and Italy's focal point. Alice (the admin) removes him and picks Carla to take over.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db import connection, models
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiToken, AuditEvent, Membership, Organisation, User
from accounts.offboarding import KEPT, OWNED
from accounts.services import invitation_create, organisation_update, token_issue
from accounts.tenancy import Actor, tenant_scope, unscoped
from exchange.models import Channel, MigrationProfile, Partnership, Subscription
from exchange.notifications.services import subscription_create
from exchange.partnerships.services import partnership_create
from exchange.profiles.services import profile_create
from opportunities.models import Listing
from tests.conftest import signed_in, token_client
from tests.factories import PASSWORD, member
from tests.opportunities.conftest import create_listing, seasonal_scheme

pytestmark = pytest.mark.django_db

MEMBERS = "/accounts/organisation/members/"
LOGIN = "/accounts/login/"
BAD_CREDENTIALS = "Enter a correct e-mail address and password."


def membership_of(user: User, organisation: Organisation) -> Membership:
    with unscoped("assertion"):
        return Membership.objects.get(user=user, organisation=organisation)


def member_url(organisation: Organisation, user: User, transfer_to: User | str | None = None) -> str:
    url = f"/api/v1/organisations/{organisation.pk}/members/{membership_of(user, organisation).pk}/"
    if transfer_to is not None:
        url += f"?transfer_to={getattr(transfer_to, 'pk', transfer_to)}"
    return url


def audited(organisation: Organisation, action: str) -> list[AuditEvent]:
    with unscoped("assertion"):
        return list(AuditEvent.objects.filter(organisation=organisation, action=action))


@pytest.fixture
def carla(italy: Organisation) -> User:
    return member(italy, "official", email="carla@lavoro.gov.example", full_name="Carla Verdi")


@pytest.fixture
def vito(italy: Organisation) -> User:
    return member(italy, "viewer", email="vito@lavoro.gov.example", full_name="Vito Viewer")


@pytest.fixture
def bobs_things(italy: Organisation, morocco: Organisation, alice: User, bob: User) -> dict[str, Any]:
    """One of everything an official can own in Italy, all Bob's."""
    bob_actor = Actor(user=bob, organisation=italy, role="official")
    alice_actor = Actor(user=alice, organisation=italy, role="admin")
    own = create_listing(bob_actor, seasonal_scheme(title="Tomato harvest 2027", contact=str(bob.pk)))
    contact_only = create_listing(alice_actor, seasonal_scheme(title="Olive harvest 2027", contact=str(bob.pk)))
    with tenant_scope(bob_actor):
        subscription = subscription_create(
            actor=bob_actor,
            name="Seasonal agriculture",
            channels=[{"type": "email", "members": [str(bob.pk), str(alice.pk)]}],
        )
        partnership = partnership_create(
            actor=bob_actor, name="Italy-Morocco seasonal work", kind="mobility_partnership", members=[morocco.pk]
        )
        profile = profile_create(actor=bob_actor, data={"country": "IT", "year": 2025, "visibility": "members"})
    with tenant_scope(alice_actor):
        organisation_update(organisation=italy, actor=alice_actor, focal_point=bob)
    return {
        "listing": own,
        "contact_only": contact_only,
        "subscription": subscription,
        "partnership": partnership,
        "profile": profile,
    }


def owned_by(user: User, organisation: Organisation) -> dict[str, int]:
    """How many rows of each kind in ``OWNED`` name ``user`` in ``organisation``."""
    with unscoped("assertion"):
        return {o.key: o.rows(organisation, user).count() for o in OWNED if o.rows(organisation, user).exists()}


# --- The table of what is owned is complete ---------------------------------------------------


def user_foreign_keys() -> list[tuple[str, str]]:
    return [
        (model._meta.label, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, models.ForeignKey) and field.related_model is User
    ]


def test_every_reference_to_a_user_is_either_transferred_or_kept_for_a_reason() -> None:
    owned = {(o.model, o.field) for o in OWNED}
    unclassified = [fk for fk in user_foreign_keys() if fk not in owned and fk not in KEPT]
    assert not unclassified, f"Add these to accounts.offboarding.OWNED or KEPT: {unclassified}"
    # No stale entries either: each names a field that exists.
    assert not (set(KEPT) - set(user_foreign_keys()))
    for o in OWNED:
        assert o.model_class._meta.get_field(o.field.split("__")[0])


# --- The confirmation page ---------------------------------------------------------------------


def test_the_confirmation_page_shows_what_moves_and_to_whom(
    italy: Organisation, alice: User, bob: User, carla: User, vito: User, bobs_things: dict[str, Any]
) -> None:
    token_issue(user=bob, organisation=italy, name="Bob's script")
    client = signed_in(alice)
    url = f"{MEMBERS}{membership_of(bob, italy).pk}/remove/"

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    # Pinned: the page's usual 5 (session, user, memberships, badge...) and the member,
    # then one UNION ALL for everything owned whatever its kinds, the active tokens, the
    # other memberships and the transfer targets.
    assert len(queries) <= 11, [q["sql"] for q in queries.captured_queries]

    assert "Remove Bob Bianchi (bob@lavoro.gov.example) from Ministry of Labour and Social Policies?" in page
    assert "They own 8 things in this organisation." in page
    for label, count, title in [
        ("Focal point of the organisation", 1, "Ministry of Labour and Social Policies"),
        ("Listings naming them as the contact", 2, "Olive harvest 2027; Tomato harvest 2027"),
        ("Listings they are responsible for", 1, "Tomato harvest 2027"),
        ("Subscriptions", 1, "Seasonal agriculture"),
        ("E-mail alerts sent to them", 1, "Seasonal agriculture"),
        ("Partnerships they lead for the organisation", 1, "Italy-Morocco seasonal work"),
        ("Migration profiles", 1, "IT 2025 draft"),
    ]:
        assert f'<th scope="row">{label}</th>\n      <td>{count}</td>\n      <td>{title}</td>' in page, label
    assert "Their 1 API token for this organisation stops working." in page
    assert "This is their last organisation on Corridor" in page
    # The choice: officials and admins of Italy other than Bob; never a viewer, never Bob.
    assert f'<option value="{carla.pk}">Carla Verdi (carla@lavoro.gov.example)</option>' in page
    assert f'<option value="{alice.pk}">Alice Rossi (alice@lavoro.gov.example)</option>' in page
    assert f'value="{vito.pk}"' not in page and f'<option value="{bob.pk}"' not in page
    assert "Transfer and remove member" in page


def test_someone_who_owns_nothing_is_removed_without_a_transfer(italy: Organisation, alice: User, carla: User) -> None:
    client = signed_in(alice)
    url = f"{MEMBERS}{membership_of(carla, italy).pk}/remove/"
    page = client.get(url).content.decode()
    assert "They own nothing in this organisation" in page and 'name="transfer_to"' not in page

    response = client.post(url, follow=True)
    assert "Carla Verdi is no longer a member. Their API tokens and sessions have ended." in response.content.decode()
    with unscoped("assertion"):
        assert not Membership.objects.filter(user=carla).exists()


# --- Removing through the page -----------------------------------------------------------------


def test_the_admin_transfers_everything_to_the_member_picked(
    italy: Organisation, alice: User, bob: User, carla: User, bobs_things: dict[str, Any]
) -> None:
    client = signed_in(alice)
    url = f"{MEMBERS}{membership_of(bob, italy).pk}/remove/"
    response = client.post(url, {"transfer_to": str(carla.pk)}, follow=True)
    text = response.content.decode()
    assert response.redirect_chain[-1][0] == MEMBERS
    assert "Bob Bianchi is no longer a member. 8 things they owned now belong to Carla Verdi." in text
    assert "It was their last organisation, so their account is closed" in text

    # Nothing in Italy is left owned by Bob; Carla has it all.
    assert owned_by(bob, italy) == {}
    # The same, walked over every foreign key to a user (Bob belonged to Italy only): none
    # points at him but the records KEPT as history, and no e-mail alert names him.
    with unscoped("assertion"):
        still = {
            fk: apps.get_model(fk[0])._default_manager.filter(**{fk[1]: bob}).count()
            for fk in user_foreign_keys()
            if fk not in KEPT
        }
        assert not Channel.objects.filter(members__contains=[bob.pk]).exists()
    assert {fk: n for fk, n in still.items() if n} == {}
    with unscoped("assertion"):
        italy.refresh_from_db()
        assert italy.focal_point == carla
        assert Listing.objects.get(pk=bobs_things["listing"].pk).created_by == carla
        assert Listing.objects.get(pk=bobs_things["listing"].pk).contact == carla
        contact_only = Listing.objects.get(pk=bobs_things["contact_only"].pk)
        assert contact_only.contact == carla and contact_only.created_by == alice  # only what was Bob's
        assert Subscription.objects.get(pk=bobs_things["subscription"].pk).created_by == carla
        channel = Channel.objects.get(subscription=bobs_things["subscription"])
        assert channel.members == [carla.pk, alice.pk]
        assert Partnership.objects.get(pk=bobs_things["partnership"].pk).created_by == carla
        assert MigrationProfile.objects.get(pk=bobs_things["profile"].pk).created_by == carla
        assert not Membership.objects.filter(user=bob, organisation=italy).exists()

    # Each move is audited with what moved and to whom (ids, not names).
    moves = {e.object_type: e.changes for e in audited(italy, "ownership.transferred")}
    assert set(moves) == {
        "accounts.organisation",
        "opportunities.listing",
        "exchange.subscription",
        "exchange.channel",
        "exchange.partnership",
        "exchange.migrationprofile",
    }
    assert moves["exchange.partnership"] == {
        "field": "created_by",
        "from": str(bob.pk),
        "to": str(carla.pk),
        "ids": [str(bobs_things["partnership"].pk)],
    }
    [removed] = audited(italy, "membership.removed")
    assert removed.changes["transfer_to"] == str(carla.pk) and removed.actor == alice
    assert len(audited(italy, "user.sessions_ended")) == 1
    assert len(audited(italy, "user.deactivated")) == 1


def test_moving_an_email_alert_names_the_new_member_once(
    italy: Organisation, alice: User, bob: User, bobs_things: dict[str, Any]
) -> None:
    """Alice already receives the alert Bob received: she is named once, not twice."""
    response = token_client(alice, italy).delete(member_url(italy, bob, alice))
    assert response.status_code == 200
    with unscoped("assertion"):
        assert Channel.objects.get(subscription=bobs_things["subscription"]).members == [alice.pk]


# --- What ends: tokens, sessions, the account -----------------------------------------------


def test_the_departed_members_tokens_are_dead(italy: Organisation, alice: User, bob: User, carla: User) -> None:
    bob_api = token_client(bob, italy)
    assert bob_api.get("/api/v1/me/").status_code == 200

    assert token_client(alice, italy).delete(member_url(italy, bob)).status_code == 200

    response = bob_api.get("/api/v1/me/")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Token")
    with unscoped("assertion"):
        assert not ApiToken.objects.filter(user=bob, revoked_at__isnull=True).exists()
    assert len(audited(italy, "token.revoked")) == 1


def test_every_session_of_the_departed_member_ends(
    italy: Organisation, morocco: Organisation, alice: User, bob: User
) -> None:
    """Bob is signed in on two devices and still belongs to Morocco: both sessions end anyway."""
    from accounts.services import membership_add

    membership_add(organisation=morocco, user=bob, role="official")
    laptop, phone = signed_in(bob), signed_in(bob)
    old_cookie = laptop.cookies["sessionid"].value
    assert laptop.get("/accounts/profile/").status_code == 200
    assert phone.get("/accounts/profile/").status_code == 200

    assert token_client(alice, italy).delete(member_url(italy, bob)).status_code == 200

    for device in (laptop, phone):
        response = device.get("/accounts/profile/")
        assert response.status_code == 302 and response.headers["Location"].startswith(LOGIN)
    # The old cookie in a fresh browser is worth nothing either.
    thief = Client()
    thief.cookies["sessionid"] = old_cookie
    assert thief.get("/accounts/profile/").status_code == 302
    # Still a member of Morocco: the account stays open and he can sign in again.
    bob.refresh_from_db()
    assert bob.is_active
    again = Client()
    assert again.post(LOGIN, {"email": bob.email, "password": PASSWORD}).status_code == 302
    assert again.get("/accounts/profile/").status_code == 200


def test_removed_from_their_last_organisation_they_cannot_sign_in(
    client: Client, italy: Organisation, alice: User, bob: User
) -> None:
    assert token_client(alice, italy).delete(member_url(italy, bob)).json()["account_deactivated"] is True
    bob.refresh_from_db()
    assert not bob.is_active

    right_password = client.post(LOGIN, {"email": bob.email, "password": PASSWORD})
    unknown = Client().post(LOGIN, {"email": "nobody@lavoro.gov.example", "password": PASSWORD})
    # The same answer as for an account that does not exist: nothing tells them apart.
    assert right_password.status_code == unknown.status_code == 200
    assert BAD_CREDENTIALS in right_password.content.decode()
    assert "_auth_user_id" not in client.session
    page = right_password.content.decode()
    for word in ("inactive", "deactivated", "closed", "removed", "disabled"):
        assert word not in page.lower()


def test_a_closed_account_gets_no_password_reset_and_the_page_does_not_say_so(
    client: Client, italy: Organisation, alice: User, bob: User
) -> None:
    from django.core import mail
    from django.test import TestCase

    token_client(alice, italy).delete(member_url(italy, bob))
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):  # the e-mail outbox publishes after commit
        response = client.post("/accounts/password-reset/", {"email": bob.email}, follow=True)
        unknown = Client().post("/accounts/password-reset/", {"email": "nobody@lavoro.gov.example"}, follow=True)
    assert response.redirect_chain[-1][0] == unknown.redirect_chain[-1][0] == "/accounts/password-reset/sent/"
    assert mail.outbox == []
    # Alice, still a member, does get hers: the silence above is the closed account's.
    with TestCase.captureOnCommitCallbacks(execute=True):
        Client().post("/accounts/password-reset/", {"email": alice.email})
    assert [m.to for m in mail.outbox] == [[alice.email]]


def test_an_invitation_opens_a_closed_account_again(italy: Organisation, alice: User, bob: User) -> None:
    token_client(alice, italy).delete(member_url(italy, bob))
    _invitation, secret = invitation_create(
        actor=Actor(user=alice, organisation=italy, role="admin"), email=bob.email, role="viewer"
    )
    link = f"/accounts/invitations/{secret}/"
    client = Client()
    assert 'name="password1"' in client.get(link).content.decode()  # not "sign in": he cannot
    new_password = "a new and long passphrase 2027"
    response = client.post(link, {"full_name": "Bob Bianchi", "password1": new_password, "password2": new_password})
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.is_active and membership_of(bob, italy).role == "viewer"
    assert len(audited(italy, "user.reactivated")) == 1


# --- The API: what moved, and the refusals ---------------------------------------------------


def test_the_api_answers_with_what_moved(
    italy: Organisation, alice: User, bob: User, carla: User, bobs_things: dict[str, Any]
) -> None:
    token_issue(user=bob, organisation=italy, name="Bob's script")
    bobs = membership_of(bob, italy)
    response = token_client(alice, italy).delete(member_url(italy, bob, carla))
    assert response.status_code == 200
    body = response.json()
    assert body["removed"] == {"id": str(bobs.pk), "user": str(bob.pk), "role": "official"}
    assert body["transfer_to"] == str(carla.pk)
    assert body["tokens_revoked"] == 1 and body["sessions_ended"] is True and body["account_deactivated"] is True
    moved = {m["kind"]: m for m in body["moved"]}
    assert moved["listing.contact"]["count"] == 2
    assert [i["title"] for i in moved["listing.contact"]["items"]] == ["Olive harvest 2027", "Tomato harvest 2027"]
    assert moved["partnership.created_by"]["items"] == [
        {"id": str(bobs_things["partnership"].pk), "title": "Italy-Morocco seasonal work"}
    ]
    assert set(moved) == {o.key for o in OWNED} - {"listingrevision.data__contact"}  # no pending change here
    assert "bob@" not in response.content.decode() and "Bianchi" not in response.content.decode()


def assert_nothing_changed(italy: Organisation, bob: User, before: dict[str, int]) -> None:
    with unscoped("assertion"):
        assert Membership.objects.filter(user=bob, organisation=italy).exists()
        assert ApiToken.objects.filter(user=bob, revoked_at__isnull=True).exists()
    assert owned_by(bob, italy) == before
    bob.refresh_from_db()
    assert bob.is_active and bob.session_generation == 0
    assert not audited(italy, "membership.removed") and not audited(italy, "ownership.transferred")


@pytest.mark.parametrize(
    "target",
    [
        None,  # he owns something: someone must take it over
        "bob",  # not the departing member himself
        "vito",  # a viewer could not act on what he would receive
        "charlie",  # a member of another organisation
        "00000000-0000-0000-0000-000000000000",  # nobody
        "not-an-id",
    ],
)
def test_a_missing_or_wrong_transfer_target_is_a_400_naming_transfer_to(
    target: str | None,
    italy: Organisation,
    alice: User,
    bob: User,
    carla: User,
    vito: User,
    charlie: User,
    bobs_things: dict[str, Any],
) -> None:
    people = {"bob": bob, "vito": vito, "charlie": charlie}
    token_issue(user=bob, organisation=italy, name="Bob's script")
    before = owned_by(bob, italy)
    response = token_client(alice, italy).delete(member_url(italy, bob, people.get(target or "", target)))
    assert response.status_code == 400
    assert list(response.json()) == ["transfer_to"]
    assert_nothing_changed(italy, bob, before)


def test_without_a_target_the_message_says_how_much_must_move(
    italy: Organisation, alice: User, bob: User, bobs_things: dict[str, Any]
) -> None:
    response = token_client(alice, italy).delete(member_url(italy, bob))
    assert response.json() == {
        "transfer_to": ["Bob Bianchi owns 8 things in this organisation: choose the member who takes them over."]
    }


def test_the_page_shows_a_wrong_target_next_to_the_field(
    italy: Organisation, alice: User, bob: User, vito: User, bobs_things: dict[str, Any]
) -> None:
    client = signed_in(alice)
    url = f"{MEMBERS}{membership_of(bob, italy).pk}/remove/"
    response = client.post(url, {"transfer_to": str(vito.pk)})
    assert response.status_code == 400
    assert "Choose another active member of this organisation who is an official or an administrator." in (
        response.content.decode()
    )
    with unscoped("assertion"):
        assert Membership.objects.filter(user=bob, organisation=italy).exists()


def test_the_last_administrator_cannot_be_removed(italy: Organisation, alice: User, bob: User) -> None:
    alice_api = token_client(alice, italy)
    response = alice_api.delete(member_url(italy, alice, bob))
    assert response.status_code == 409
    assert response.json()["detail"] == "An organisation must keep at least one administrator."
    alice.refresh_from_db()
    assert alice.is_active and membership_of(alice, italy).role == "admin"
    assert alice_api.get("/api/v1/me/").status_code == 200
    # The page says the same, and offers no button.
    page = signed_in(alice).get(f"{MEMBERS}{membership_of(alice, italy).pk}/remove/")
    assert page.status_code == 409
    assert "An organisation must keep at least one administrator." in page.content.decode()
    assert "Remove member" not in page.content.decode()


def test_an_official_cannot_remove_anyone(italy: Organisation, alice: User, bob: User, carla: User) -> None:
    response = token_client(bob, italy).delete(member_url(italy, carla, bob))
    assert response.status_code == 403
    assert membership_of(carla, italy)


def test_another_organisations_member_is_a_404(
    italy: Organisation, morocco: Organisation, alice: User, charlie: User
) -> None:
    alice_api = token_client(alice, italy)
    charlies = membership_of(charlie, morocco)
    assert alice_api.delete(f"/api/v1/organisations/{italy.pk}/members/{charlies.pk}/").status_code == 404
    assert alice_api.delete(f"/api/v1/organisations/{morocco.pk}/members/{charlies.pk}/").status_code == 404
    missing = "00000000-0000-0000-0000-000000000000"
    assert alice_api.delete(f"/api/v1/organisations/{italy.pk}/members/{missing}/").status_code == 404
    assert signed_in(alice).post(f"{MEMBERS}{charlies.pk}/remove/").status_code == 404
    assert membership_of(charlie, morocco) and charlie.is_active


def test_an_admin_who_removes_themselves_is_signed_out(
    italy: Organisation, alice: User, bob: User, carla: User
) -> None:
    from accounts.services import membership_change_role

    with tenant_scope(Actor(user=alice, organisation=italy, role="admin")):
        membership_change_role(
            membership=membership_of(carla, italy),
            role="admin",
            actor=Actor(user=alice, organisation=italy, role="admin"),
        )
    client = signed_in(alice)
    response = client.post(f"{MEMBERS}{membership_of(alice, italy).pk}/remove/", {"transfer_to": str(carla.pk)})
    assert response.status_code == 302 and response.headers["Location"] == LOGIN
    assert client.get("/accounts/profile/").status_code == 302


# Committed for real, so that two connections race. ``serialized_rollback`` as for every
# transactional test here: its flush then leaves the content types to the next test's reload.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_administrators_removing_each_other_at_once_leave_one(italy: Organisation, alice: User) -> None:
    """The organisation's row serialises removals: one succeeds, the other is the 409."""
    import threading

    from django.db import connections

    from accounts.offboarding import member_offboard
    from config.errors import StateConflict

    carla = member(italy, "admin", email="carla@lavoro.gov.example", full_name="Carla Verdi")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def remove(actor_user: User, departing: User) -> None:
        actor = Actor(user=actor_user, organisation=italy, role="admin")
        try:
            with tenant_scope(actor):
                membership = Membership.objects.get(user=departing)
                barrier.wait()
                member_offboard(actor=actor, membership=membership, transfer_to=actor_user)
            outcomes.append("removed")
        except StateConflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=remove, args=(alice, carla)),
        threading.Thread(target=remove, args=(carla, alice)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "removed"]
    with unscoped("assertion"):
        assert Membership.objects.filter(organisation=italy, role="admin").count() == 1


def test_a_pending_change_naming_them_as_contact_names_the_new_member_once_approved(
    italy: Organisation, alice: User, bob: User, carla: User, moderator: Actor
) -> None:
    """A published listing's pending revision carries its contact: approved after Bob has
    gone, it makes Carla the contact, not Bob (and the approval does not fail on him)."""
    from tests.opportunities.conftest import publish, transition
    from tests.opportunities.test_web_moderation import propose

    admin = Actor(user=alice, organisation=italy, role="admin")
    listing = publish(create_listing(admin, seasonal_scheme(title="Olive harvest 2027")), admin, moderator)
    revision = propose(listing, Actor(user=bob, organisation=italy, role="official"), contact=str(bob.pk))
    assert revision.data["contact"] == str(bob.pk)

    page = signed_in(alice).get(f"{MEMBERS}{membership_of(bob, italy).pk}/remove/").content.decode()
    assert "Pending listing changes naming them as the contact" in page
    assert token_client(alice, italy).delete(member_url(italy, bob, carla)).status_code == 200

    transition(listing, moderator, "approve")
    with unscoped("assertion"):
        assert Listing.objects.get(pk=listing.pk).contact == carla
