"""One test walks every API route × method as Charlie, an outsider to Italy's private data.

Each detail route is pointed at one of Italy's private objects. Charlie must get a
404 (or a 403/405 where the route itself is closed to him), never a 500 and never
a body that leaks an Italian private value. A new route fails
``test_every_api_route_is_walked`` until it is given a target below.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Membership
from accounts.services import invitation_create, token_issue
from accounts.tenancy import Actor, tenant_scope, unscoped

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")


def walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, route)
        elif isinstance(p, URLPattern) and route.startswith("api/v1/"):
            yield p.name or "", route


def api_routes() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for name, route in walk(get_resolver().url_patterns):
        route = re.sub(r"(^|/)\^", r"\1", route).replace("$", "")
        if "\\.(?P<format>" in route or "<format>" in route:
            continue  # DRF's format-suffix twins of the same views
        seen.setdefault(route, name)
    return sorted((name, route) for route, name in seen.items())


# Per URL name: which of Italy's objects the placeholders point at.
Target = Callable[[dict[str, Any]], dict[str, str]]
TARGETS: dict[str, Target] = {
    # The corridor of Italy's private match with Moldova: Charlie (Morocco) counts none of it.
    "corridor": lambda o: {"origin": "MD", "destination": "IT"},
    **{
        f"organisation-{name}": lambda o: {"pk": str(o["italy"].id)}
        for name in ("detail", "verify", "suspend", "reinstate")
    },
    "member-list": lambda o: {"organisation_id": str(o["italy"].id)},
    "member-detail": lambda o: {"organisation_id": str(o["italy"].id), "pk": str(o["membership"].id)},
    "invitation-list": lambda o: {"organisation_id": str(o["italy"].id)},
    "invitation-detail": lambda o: {"organisation_id": str(o["italy"].id), "pk": str(o["invitation"].id)},
    "token-detail": lambda o: {"pk": str(o["token"].id)},
    "occupation-detail": lambda o: {"pk": "2221", "code": "2221"},
    "public-listing-detail": lambda o: {"pk": str(o["listing"].id)},
    "statistics-table": lambda o: {"name": "outcomes"},
    "statistics-table-csv": lambda o: {"name": "outcomes"},
    "open-data-csv": lambda o: {"dataset": "public-listings"},
    **{
        f"partnership-{name}": lambda o: {"pk": str(o["partnership"].id)}
        for name in ("detail", "confirm", "decline", "leave")
    },
    "partnership-document-list": lambda o: {"partnership_pk": str(o["partnership"].id)},
    "partnership-agreement": lambda o: {"partnership_pk": str(o["partnership"].id)},
    **{
        f"partnership-committee-{what}-list": lambda o: {"partnership_pk": str(o["partnership"].id)}
        for what in ("member", "meeting", "decision")
    },
    **{
        f"partnership-committee-{what}-detail": lambda o, what=what: {
            "partnership_pk": str(o["partnership"].id),
            "pk": str(o[f"committee_{what}"].id),
        }
        for what in ("member", "meeting", "decision")
    },
    **{
        f"partnership-document-{name}": lambda o: {
            "partnership_pk": str(o["partnership"].id),
            "pk": str(o["partnership_document"].id),
        }
        for name in ("detail", "download")
    },
    **{
        f"listing-{name}": lambda o: {"pk": str(o["listing"].id)}
        for name in (
            "detail",
            "history",
            "revisions",
            "submit",
            "approve",
            "request-changes",
            "reject",
            "withdraw",
            "close",
        )
    },
    "listing-matches": lambda o: {"listing_id": str(o["listing"].id)},
    # The consents of Italy's unpublished scheme: none that Charlie (Morocco) may read or decide.
    "listing-consents": lambda o: {"listing_id": str(o["listing"].id)},
    **{
        f"listing-consent-{name}": lambda o: {"listing_id": str(o["listing"].id), "country": "MA"}
        for name in ("accept", "refuse")
    },
    # The outcomes ledger of Italy's (unpublished, not Morocco's) scheme, and Italy's own import.
    **{
        f"listing-outcomes{name}": lambda o: {"listing_id": str(o["listing"].id)}
        for name in ("", "-summary", "-export", "-summary-csv", "-import")
    },
    "outcome-import-detail": lambda o: {"pk": str(o["outcome_import"].id)},
    **{f"profile-{name}": lambda o: {"pk": str(o["profile"].id)} for name in ("detail", "publish", "versions")},
    "profile-observation-list": lambda o: {"profile_pk": str(o["profile"].id)},
    **{f"profile-{name}": lambda o: {"pk": str(o["profile"].id)} for name in ("export", "import-create")},
    "profile-import-detail": lambda o: {"pk": str(o["profile_import"].id)},
    "profile-observation-detail": lambda o: {"profile_pk": str(o["profile"].id), "pk": str(o["figure"].id)},
    "profile-skill-list": lambda o: {"profile_pk": str(o["profile"].id)},
    **{f"suggestion-{name}": lambda o: {"pk": str(o["suggestion"].id)} for name in ("detail", "dismiss", "act-on")},
    "profile-skill-detail": lambda o: {"profile_pk": str(o["profile"].id), "pk": str(o["skill"].id)},
    **{
        f"match-{name}": lambda o: {"pk": str(o["match"].id)}
        for name in ("detail", "interest", "messages", "accept", "decline")
    },
    **{
        f"subscription-{name}": lambda o: {"pk": str(o["subscription"].id)}
        for name in ("detail", "rotate-secret", "test")
    },
    **{f"notification-{name}": lambda o: {"pk": str(o["notification"].id)} for name in ("detail", "read")},
    **{f"delivery-{name}": lambda o: {"pk": str(o["delivery"].id)} for name in ("detail", "replay")},
}


def fill(route: str, kwargs: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        return kwargs[match.group("name")]

    route = re.sub(r"\(\?P<(?P<name>\w+)>[^)]*\)", sub, route)
    return "/" + re.sub(r"<(?:\w+:)?(?P<name>\w+)>", sub, route)


def _private_partnership(actor: Actor, settings: Any, tmp_path: Any) -> tuple[Any, Any]:
    """Italy's partnership with Spain (not Morocco), negotiating, with one document."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from exchange.partnerships.services import partnership_create, partnership_document_upload
    from tests.factories import OrganisationFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    spain = OrganisationFactory(name="Ministry of Inclusion", slug="es-inclusion", country="ES")
    with tenant_scope(actor):
        partnership = partnership_create(
            actor=actor, name="confidential-partnership", kind="mobility_partnership", members=[spain.pk]
        )
    with tenant_scope(actor):
        document = partnership_document_upload(
            actor=actor,
            partnership=partnership,
            file=SimpleUploadedFile("confidential-annex.pdf", b"%PDF-1.7\nconfidential"),
            document_type="annex",
        )
    return partnership, document


def _private_committee(actor: Actor, partnership: Any) -> dict[str, Any]:
    """The agreement and one row of each kind of the committee of Italy's private partnership."""
    import datetime

    from exchange.partnerships.agreements import (
        agreement_save,
        committee_decision_add,
        committee_meeting_add,
        committee_member_add,
    )

    day = datetime.date(2025, 3, 1)
    with tenant_scope(actor):
        agreement_save(actor=actor, partnership=partnership, summary="confidential-summary", text="confidential-text")
        return {
            "committee_member": committee_member_add(
                actor=actor, partnership=partnership, name="confidential-official", organisation=actor.org.pk
            ),
            "committee_meeting": committee_meeting_add(
                actor=actor, partnership=partnership, held_on=day, title="confidential-meeting"
            ),
            "committee_decision": committee_decision_add(
                actor=actor, partnership=partnership, decided_on=day, text="confidential-decision"
            ),
        }


@pytest.fixture
def italian_secrets(italy, alice, bob, settings, tmp_path) -> dict[str, Any]:
    actor = Actor(user=alice, organisation=italy, role="admin")
    invitation, _ = invitation_create(actor=actor, email="secret.invitee@lavoro.gov.example", role="official")
    token, _ = token_issue(user=alice, organisation=italy, name="confidential-integration")
    membership = Membership.objects.get(organisation=italy, user=bob)
    from tests.opportunities.conftest import create_listing, seasonal_scheme

    listing = create_listing(actor, seasonal_scheme(title="confidential-draft-scheme"))
    partnership, document = _private_partnership(actor, settings, tmp_path)
    match = _private_match(listing)
    from exchange.profiles.services import profile_create

    profile = profile_create(
        actor=actor,
        data={"country": "IT", "year": 2025, "visibility": "public", "labour_market": "confidential-profile"},
    )
    from exchange.models import Indicator
    from exchange.profiles.services import observation_save

    figure = observation_save(
        actor=actor,
        profile=profile,
        data={
            "indicator": Indicator.objects.get(code="REMIT_IN_USD"),
            "time_period": 2024,
            "value": 7,
            "source": "confidential-source",
        },
    )
    from exchange.profiles.services import skill_save

    skill = skill_save(
        actor=actor,
        profile=profile,
        data={
            "kind": "shortage",
            "occupation_id": "2221",
            "severity": "high",
            "time_period": 2024,
            "source": "confidential-skill-source",
        },
    )
    from exchange.models import ProfileImport

    profile_import = ProfileImport.objects.create(
        organisation=italy, profile=profile, created_by=alice, filename="confidential-import.csv", content="x"
    )
    from exchange.models import OutcomeImport

    outcome_import = OutcomeImport.objects.create(
        organisation=italy, listing=listing, created_by=alice, filename="confidential-outcomes.csv", content="x"
    )
    return {
        **_private_subscription(italy),
        "profile": profile,
        "profile_import": profile_import,
        "outcome_import": outcome_import,
        "figure": figure,
        "skill": skill,
        "suggestion": _private_suggestion(),
        "match": match,
        "italy": italy,
        "invitation": invitation,
        "token": token,
        "membership": membership,
        "listing": listing,
        "partnership": partnership,
        "partnership_document": document,
        **_private_committee(actor, partnership),
    }


def _private_subscription(italy: Any) -> dict[str, Any]:
    """Italy's saved search with a webhook and a feed, one dead delivery and one inbox item."""
    from exchange.models import DeliveryStatus
    from tests.exchange.factories import (
        ChannelFactory,
        DeliveryFactory,
        EventFactory,
        FeedChannelFactory,
        NotificationFactory,
        SubscriptionFactory,
        WebhookChannelFactory,
    )

    subscription = SubscriptionFactory(organisation=italy, name="confidential-subscription", keywords="confidential")
    webhook = WebhookChannelFactory(subscription=subscription, url="https://confidential-hook.example/corridor")
    feed = FeedChannelFactory(subscription=subscription)
    event = EventFactory(data={"title": "confidential-event"})
    delivery = DeliveryFactory(
        channel=webhook, event=event, status=DeliveryStatus.DEAD, last_error="confidential-error"
    )
    inbox = ChannelFactory(subscription=subscription)
    notification = NotificationFactory(delivery=DeliveryFactory(channel=inbox, event=event))
    return {
        "subscription": subscription,
        "webhook": webhook,
        "feed": feed,
        "delivery": delivery,
        "notification": notification,
    }


def _private_match(demand: Any) -> Any:
    """A match between Italy's scheme and a Moldovan offer, with a thread: none of it Morocco's."""
    from django.utils import timezone

    from exchange.models import Match, Message
    from tests.factories import OrganisationFactory, member

    moldova = OrganisationFactory(name="Moldova", slug="md-secret", country="MD", is_origin=True, is_destination=False)
    supply_actor = Actor(user=member(moldova, "official"), organisation=moldova, role="official")
    from tests.opportunities.conftest import create_listing, worker_offer

    supply = create_listing(supply_actor, worker_offer(title="confidential-offer"))
    match = Match.objects.create(
        demand=demand,
        supply=supply,
        demand_owner=demand.owner,
        supply_owner=moldova,
        score=0.5,
        explanation={"summary": "confidential-explanation"},
        computed_at=timezone.now(),
        state="interest_expressed",
        interest_by=moldova,
    )
    Message.objects.create(match=match, organisation=moldova, body="confidential-message")
    return match


def _private_suggestion() -> Any:
    """A suggestion between Italy and Moldova: not Morocco's to read or decide on."""
    from exchange.models import Suggestion

    return Suggestion.objects.create(
        destination_country="IT",
        origin_country="MD",
        occupation_id="2221",
        evidence={"shortage": {"source": "confidential-suggestion-evidence"}},
        reason="confidential-suggestion-reason",
    )


def private_values(italian_secrets: dict[str, Any], alice: Any, bob: Any) -> list[str]:
    """Strings that only Italy (and its partners) may ever see."""
    return [
        alice.email,
        bob.email,
        "secret.invitee",
        "confidential-integration",
        "confidential-draft-scheme",
        str(italian_secrets["listing"].id),
        str(italian_secrets["membership"].id),
        str(italian_secrets["invitation"].id),
        str(italian_secrets["token"].id),
        "confidential-partnership",
        "confidential-offer",
        "confidential-explanation",
        "confidential-message",
        "confidential-profile",
        "confidential-source",
        "confidential-skill-source",
        "confidential-suggestion-evidence",
        "confidential-suggestion-reason",
        str(italian_secrets["suggestion"].id),
        str(italian_secrets["skill"].id),
        str(italian_secrets["profile"].id),
        str(italian_secrets["profile_import"].id),
        "confidential-import",
        str(italian_secrets["match"].id),
        "confidential-annex",
        "confidential-summary",
        "confidential-text",
        "confidential-official",
        "confidential-meeting",
        "confidential-decision",
        *(str(italian_secrets[f"committee_{what}"].id) for what in ("member", "meeting", "decision")),
        str(italian_secrets["partnership"].id),
        str(italian_secrets["partnership_document"].id),
        "confidential-subscription",
        "confidential-hook",
        "confidential-event",
        "confidential-error",
        italian_secrets["webhook"].secret,
        italian_secrets["feed"].feed_token,
        str(italian_secrets["subscription"].id),
        str(italian_secrets["delivery"].id),
        str(italian_secrets["notification"].id),
    ]


def test_every_api_route_is_walked():
    untargeted = [
        (name, route) for name, route in api_routes() if ("<" in route or "(?P" in route) and name not in TARGETS
    ]
    assert untargeted == [], "give these routes a target in TARGETS"


def test_an_outsider_meets_no_private_data_on_any_route(charlie_api, italian_secrets, alice, bob):
    leaks = private_values(italian_secrets, alice, bob)
    failures = []
    for name, route in api_routes():
        url = fill(route, TARGETS[name](italian_secrets)) if name in TARGETS else "/" + route
        for method in METHODS:
            response = getattr(charlie_api, method)(url, {}, format="json")
            raw = b"".join(response.streaming_content) if response.streaming else response.content
            body = raw.decode()
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {url} → {response.status_code}")
            elif response.status_code < 400 and any(secret in body for secret in leaks):
                failures.append(f"{method.upper()} {url} leaked private data ({response.status_code})")
            elif response.status_code >= 400 and not response["Content-Type"].startswith("application/json"):
                failures.append(f"{method.upper()} {url} answered {response.status_code} without JSON")
    assert failures == []
    assert_untouched(italian_secrets)


def assert_untouched(italian_secrets: dict[str, Any]) -> None:
    """Italy's private objects are as they were: nothing an outsider did changed them."""
    with unscoped("assertion"):
        italian_secrets["invitation"].refresh_from_db()
        italian_secrets["token"].refresh_from_db()
        assert italian_secrets["invitation"].status == "pending"
        assert italian_secrets["token"].revoked_at is None
        with unscoped("assertion"):
            assert Membership.objects.filter(pk=italian_secrets["membership"].pk, role="official").exists()
        italian_secrets["listing"].refresh_from_db()
        assert italian_secrets["listing"].status == "draft"
        partnership = italian_secrets["partnership"]
        partnership.refresh_from_db()
        assert partnership.name == "confidential-partnership"
        assert partnership.memberships.count() == 2 and partnership.documents.count() == 1
        assert partnership.agreement.text == "confidential-text"
        assert partnership.committee_members.count() == 1 and partnership.committee_decisions.count() == 1
        assert partnership.committee_meetings.count() == 1
        from exchange.models import Event

        subscription = italian_secrets["subscription"]
        subscription.refresh_from_db()
        with unscoped("assertion"):
            assert subscription.name == "confidential-subscription" and subscription.channels.count() == 3
        webhook = italian_secrets["webhook"]
        assert webhook.secret == type(webhook).objects.get(pk=webhook.pk).secret
        italian_secrets["delivery"].refresh_from_db()
        italian_secrets["notification"].refresh_from_db()
        assert italian_secrets["delivery"].status == "dead"
        assert italian_secrets["notification"].read_at is None
        assert not Event.objects.filter(type="test").exists()


@pytest.mark.parametrize("method", METHODS)
def test_private_routes_answer_404_to_an_outsider(method, charlie_api, italian_secrets):
    for name in (
        "member-detail",
        "invitation-detail",
        "token-detail",
        "member-list",
        "invitation-list",
        "listing-detail",
        "listing-history",
        "listing-submit",
        "listing-approve",
        "listing-matches",
        "match-detail",
        "match-messages",
        "match-accept",
        "suggestion-detail",
        "suggestion-dismiss",
        "suggestion-act-on",
        "partnership-detail",
        "partnership-confirm",
        "partnership-document-list",
        "partnership-document-detail",
        "partnership-document-download",
        "partnership-agreement",
        "partnership-committee-member-list",
        "partnership-committee-member-detail",
        "partnership-committee-meeting-detail",
        "partnership-committee-decision-detail",
        "subscription-detail",
        "subscription-rotate-secret",
        "subscription-test",
        "notification-detail",
        "notification-read",
        "delivery-detail",
        "delivery-replay",
        "profile-export",
        "profile-import-create",
        "profile-import-detail",
        "listing-outcomes",
        "listing-outcomes-summary",
        "listing-outcomes-export",
        "listing-outcomes-summary-csv",
        "listing-outcomes-import",
        "outcome-import-detail",
    ):
        route = next(route for n, route in api_routes() if n == name)
        response = getattr(charlie_api, method)(fill(route, TARGETS[name](italian_secrets)), {}, format="json")
        assert response.status_code in (404, 405), (name, method, response.status_code)
        if response.status_code == 404:
            assert response.json() == {"detail": "Not found."}


# --- The web pages: the same walk through the browser's routes -----------------------

WEB_NAMESPACES = ("accounts", "opportunities", "exchange", "public")
WEB_TARGETS: dict[str, Target] = {
    "exchange:corridor": lambda o: {"origin": "MD", "destination": "IT"},
    # Credentials in the URL itself (the secret is the access): walked with a made-up one.
    "accounts:invitation": lambda o: {"secret": "not-a-real-invitation-secret"},
    "accounts:signin_unlock": lambda o: {"token": "not-a-real-unlock-token"},
    # Single sign-on by organisation slug: Italy's, which has no provider of its own here (404).
    "accounts:sso_start": lambda o: {"slug": "it-labour"},
    "accounts:sso_callback": lambda o: {"slug": "it-labour"},
    "accounts:password_reset_confirm": lambda o: {"uidb64": "MQ", "token": "set-password"},
    "exchange:unsubscribe": lambda o: {"token": "not-a-real-unsubscribe-token"},
    "accounts:organisation_member_role": lambda o: {"pk": str(o["membership"].id)},
    "accounts:organisation_member_remove": lambda o: {"pk": str(o["membership"].id)},
    "accounts:organisation_invitation_revoke": lambda o: {"pk": str(o["invitation"].id)},
    "accounts:organisation_token_revoke": lambda o: {"pk": str(o["token"].id)},
    **{
        f"exchange:{name}": lambda o: {"pk": str(o["match"].id)}
        for name in ("match", "match_interest", "match_message")
    },
    "exchange:match_decide": lambda o: {"pk": str(o["match"].id), "decision": "accept"},
    **{
        f"exchange:{name}": lambda o: {"pk": str(o["partnership"].id)}
        for name in (
            "partnership",
            "partnership_edit",
            "partnership_confirm",
            "partnership_decline",
            "partnership_document_upload",
        )
    },
    "exchange:partnership_document": lambda o: {
        "pk": str(o["partnership"].id),
        "document_pk": str(o["partnership_document"].id),
    },
    "exchange:partnership_agreement": lambda o: {"pk": str(o["partnership"].id)},
    "exchange:public_partnership": lambda o: {"pk": str(o["partnership"].id)},
    "exchange:partnership_print": lambda o: {"pk": str(o["partnership"].id)},
    "exchange:partnership_committee_add": lambda o: {"pk": str(o["partnership"].id), "kind": "members"},
    "exchange:partnership_committee_delete": lambda o: {
        "pk": str(o["partnership"].id),
        "kind": "members",
        "row_pk": str(o["committee_member"].id),
    },
    "exchange:match_print": lambda o: {"pk": str(o["match"].id)},
    "opportunities:listing_print": lambda o: {"pk": str(o["listing"].id)},
    "opportunities:consent_decide": lambda o: {"pk": str(o["listing"].id), "country": "MA", "decision": "accept"},
    **{
        f"exchange:{name}": lambda o: {"pk": str(o["profile"].id)}
        for name in ("profile-detail", "profile-publish", "profile-versions", "profile-diff")
    },
    "exchange:profile-edit-part": lambda o: {"pk": str(o["profile"].id), "part": "1"},
    "exchange:public-profile-detail": lambda o: {"pk": str(o["profile"].id)},
    "exchange:delivery_replay": lambda o: {"pk": str(o["delivery"].id)},
    "exchange:listing-outcomes-record": lambda o: {"pk": str(o["listing"].id)},
    "exchange:listing-outcomes-upload": lambda o: {"pk": str(o["listing"].id)},
    "exchange:profile-import": lambda o: {"pk": str(o["profile"].id)},
    "exchange:profile-import-status": lambda o: {"pk": str(o["profile_import"].id)},
    **{
        f"exchange:{name}": lambda o: {"pk": str(o["subscription"].id)}
        for name in (
            "subscription",
            "subscription_edit",
            "subscription_test",
            "subscription_rotate",
            "subscription_delete",
        )
    },
    "exchange:inbox_read": lambda o: {"pk": str(o["notification"].id)},
    **{
        f"exchange:suggestion-{name}": lambda o: {"pk": str(o["suggestion"].id)}
        for name in ("detail", "dismiss", "act-on")
    },
    **{
        f"opportunities:{name}": lambda o: {"pk": str(o["listing"].id)}
        for name in ("listing", "listing_edit", "moderation_review")
    },
    "opportunities:listing_transition": lambda o: {"pk": str(o["listing"].id), "action": "submit"},
    "opportunities:moderation_decide": lambda o: {"pk": str(o["listing"].id), "action": "approve"},
    "public:listing": lambda o: {"pk": str(o["listing"].id)},
    "exchange:statistics-csv": lambda o: {"name": "outcomes"},
}


def web_routes() -> list[tuple[str, str]]:
    def walk_web(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                yield from walk_web(p.url_patterns, route, p.namespace or namespace)
            elif namespace in WEB_NAMESPACES:
                yield f"{namespace}:{p.name}", re.sub(r"(^|/)\^", r"\1", route).replace("$", "")

    return sorted(set(walk_web(get_resolver().url_patterns)))


def test_every_web_route_with_an_object_is_walked():
    untargeted = [(n, r) for n, r in web_routes() if ("<" in r or "(?P" in r) and n not in WEB_TARGETS]
    assert untargeted == [], "give these web routes a target in WEB_TARGETS"


def test_an_outsider_meets_no_private_data_on_any_web_page(client, charlie, italian_secrets, alice, bob):
    """Charlie (Morocco's admin) signed in: every page and form, GET and POST, on Italy's objects."""
    client.force_login(charlie)
    leaks = [value for value in private_values(italian_secrets, alice, bob) if value]
    failures = []
    for name, route in web_routes():
        url = fill(route, WEB_TARGETS[name](italian_secrets)) if name in WEB_TARGETS else "/" + route
        for method in ("get", "post"):
            client.force_login(charlie)  # again: the walk passes through "sign out" too
            response = getattr(client, method)(url, {"reason": "outsider", "role": "admin", "message": "hello"})
            raw = b"".join(response.streaming_content) if response.streaming else response.content
            body = raw.decode(errors="replace")
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {url} → {response.status_code}")
            # (An id the outsider typed in the URL comes back in the page's own links.)
            elif any(secret in body for secret in leaks if secret not in url):
                failures.append(f"{method.upper()} {url} showed private data ({response.status_code})")
            elif name in WEB_TARGETS and "<uuid" in route and response.status_code not in (403, 404, 405):
                failures.append(f"{method.upper()} {url} → {response.status_code}, not 404")
    assert failures == []
    assert_untouched(italian_secrets)
