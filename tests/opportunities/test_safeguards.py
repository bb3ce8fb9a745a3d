"""The safeguards of issue [12]: origin-government consent and the WHO health workforce list.

*Consent* (as in Germany's Triple Win): Germany's nurse scheme recruits from the
Philippines and Moldova only with their governments' agreement. Published, it asks
both; until one accepts, that country's government does not see the listing, is not
matched with it and hears nothing of it; a refusal keeps it out. Only that country's
government (its administrators and officials) decides, once.

*WHO list*: recruiting ISCO-08 22xx/32xx health workers from a country on the WHO
health workforce support and safeguards list (2023) is flagged to the moderator and
cannot be approved until the listing names a government-to-government agreement.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, TestCase
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Organisation, User
from accounts.tenancy import Actor, unscoped
from exchange.models import ChannelType, Event, Match
from opportunities import safeguards
from opportunities.models import ConsentStatus, Listing, OriginConsent
from tests.conftest import as_assertion, signed_in, token_client
from tests.exchange.conftest import offer, published, scheme
from tests.exchange.factories import ChannelFactory, SubscriptionFactory
from tests.factories import OrganisationFactory, member
from tests.opportunities.conftest import create_listing, transition

pytestmark = pytest.mark.django_db


# --- The world -----------------------------------------------------------------------------


@pytest.fixture
def germany(db: Any) -> Organisation:
    return OrganisationFactory(name="Bundesagentur", slug="de-ba", country="DE", is_destination=True, is_origin=False)


@pytest.fixture
def philippines(db: Any) -> Organisation:
    return OrganisationFactory(name="DMW", slug="ph-dmw", country="PH", is_origin=True, is_destination=False)


@pytest.fixture
def moldova(db: Any) -> Organisation:
    return OrganisationFactory(name="Moldova labour", slug="md-labour", country="MD", is_origin=True)


@pytest.fixture
def nigeria(db: Any) -> Organisation:
    return OrganisationFactory(name="Nigeria labour", slug="ng-labour", country="NG", is_origin=True)


def actor(org: Organisation, role: str = "official") -> Actor:
    return Actor(user=member(org, role), organisation=org, role=role)


def api(a: Actor) -> APIClient:
    return token_client(a.user, a.organisation)


def alerts(org: Organisation) -> None:
    """An unfiltered alert with an inbox: it receives everything the organisation may."""
    with as_assertion():
        subscription = SubscriptionFactory(organisation=org, name=f"All for {org.slug}")
        ChannelFactory(subscription=subscription, type=ChannelType.INBOX)


def events(type_: str, org: Organisation) -> list[Event]:
    with unscoped("test: the events an organisation received"):
        return list(Event.objects.filter(type=type_, deliveries__organisation=org).distinct())


def _heard_of(listing: Listing, org: Organisation) -> list[Event]:
    """The ``listing.published`` events about ``listing`` that reached ``org``'s alerts."""
    return [e for e in events("listing.published", org) if e.data["listing_id"] == str(listing.pk)]


def nurses(**overrides: Any) -> dict[str, Any]:
    """Germany's Triple Win-like scheme: nurses from the Philippines and Moldova, with consent."""
    payload = {
        "title": "Triple Win nurses",
        "scheme_type": "g2g_recruitment",
        "partner_countries": ["PH", "MD"],
        "allocations": [{"country": "PH", "places": 60}, {"country": "MD", "places": 40}],
        "requires_origin_consent": True,
        "occupation_lines": [{"isco_code": "2221", "quantity": 100}],
    }
    return scheme(**{**payload, **overrides})


@pytest.fixture
def world(germany: Organisation, philippines: Organisation, moldova: Organisation, moderator: Actor) -> dict[str, Any]:
    de, ph, md = actor(germany), actor(philippines, "admin"), actor(moldova, "admin")
    for org in (germany, philippines, moldova):
        alerts(org)
    # Each origin's nurses on offer, published first: the scheme would match both.
    ph_offer = published(
        ph, moderator, offer(title="Filipino nurses", occupation_lines=[{"isco_code": "2221", "quantity": 80}])
    )
    md_offer = published(
        md, moderator, offer(title="Moldovan nurses", occupation_lines=[{"isco_code": "2221", "quantity": 50}])
    )
    listing = published(de, moderator, nurses())
    return {"de": de, "ph": ph, "md": md, "listing": listing, "ph_offer": ph_offer, "md_offer": md_offer}


def matched(listing: Listing, other: Listing) -> bool:
    with unscoped("test: the matches the engine wrote"):
        return Match.objects.filter(demand=listing, supply=other).exists()


def decide(who: Actor, listing: Listing, country: str, decision: str, reason: str = "") -> Any:
    """The API call, with its after-commit work (matching, alerts) run as a worker would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return api(who).post(
            f"/api/v1/listings/{listing.pk}/consents/{country}/{decision}/", {"reason": reason}, format="json"
        )


def consent(listing: Listing, country: str) -> OriginConsent:
    with unscoped("test"):
        return OriginConsent.objects.get(listing=listing, country=country)


# --- Consent: asking ------------------------------------------------------------------------


def test_publishing_asks_each_origin_government_and_admits_none_yet(world: dict[str, Any]) -> None:
    listing = world["listing"]
    with unscoped("test"):
        states = dict(OriginConsent.objects.filter(listing=listing).values_list("country", "status"))
        audited = AuditEvent.objects.filter(action="consent.requested", object_id=str(listing.pk)).count()
    assert states == {"MD": ConsentStatus.PENDING, "PH": ConsentStatus.PENDING}
    assert audited == 2
    for who in ("ph", "md"):
        # Not shown, not matched, and its alert heard only the request, not the listing.
        assert api(world[who]).get(f"/api/v1/listings/{listing.pk}/").status_code == 404
        assert str(listing.pk) not in api(world[who]).get("/api/v1/listings/").content.decode()
        assert not matched(listing, world[f"{who}_offer"])
        org = world[who].organisation
        assert [e.data["listing_id"] for e in events("consent.requested", org)] == [str(listing.pk)]
        assert _heard_of(listing, org) == []


def test_the_origin_government_sees_what_it_is_asked(world: dict[str, Any]) -> None:
    listing, ph = world["listing"], world["ph"]
    mine = api(ph).get("/api/v1/consents/").json()["results"]
    assert [(c["listing"]["id"], c["country"], c["status"]) for c in mine] == [(str(listing.pk), "PH", "pending")]
    # Its own country's consent on the listing, not Moldova's.
    on_listing = api(ph).get(f"/api/v1/listings/{listing.pk}/consents/").json()
    assert [c["country"] for c in on_listing] == ["PH"]
    # The owner sees both.
    owner_view = api(world["de"]).get(f"/api/v1/listings/{listing.pk}/consents/").json()
    assert [c["country"] for c in owner_view] == ["MD", "PH"]


# --- Consent: deciding -----------------------------------------------------------------------


def test_acceptance_admits_the_country_and_refusal_keeps_it_out(world: dict[str, Any]) -> None:
    listing, ph, md = world["listing"], world["ph"], world["md"]
    accepted = decide(ph, listing, "PH", "accept", "Within our bilateral agreement.")
    refused = decide(md, listing, "md", "refuse", "Our own hospitals are short of nurses.")
    assert (accepted.status_code, accepted.json()["status"]) == (200, "accepted")
    assert (refused.status_code, refused.json()["status"]) == (200, "refused")

    # The Philippines now reads it, is matched with it, and its alert hears of it.
    assert api(ph).get(f"/api/v1/listings/{listing.pk}/").status_code == 200
    assert matched(listing, world["ph_offer"])
    assert len(_heard_of(listing, ph.organisation)) == 1
    # Moldova refused: still out.
    assert api(md).get(f"/api/v1/listings/{listing.pk}/").status_code == 404
    assert not matched(listing, world["md_offer"])
    assert _heard_of(listing, md.organisation) == []

    # The owner is told of both decisions (ids, titles, links; no reason, no person) and sees them.
    decided = events("consent.decided", world["de"].organisation)
    assert sorted((e.data["origin_country"], e.data["decision"]) for e in decided) == [
        ("MD", "refused"),
        ("PH", "accepted"),
    ]
    assert all(
        set(e.data) == {"listing_id", "title", "owner_country", "origin_country", "url", "decision"} for e in decided
    )
    page = signed_in(world["de"].user).get(f"/listings/{listing.pk}/").content.decode()
    assert "Accepted by the origin government" in page and "Refused by the origin government" in page
    assert "Our own hospitals are short of nurses." in page
    with unscoped("test"):
        assert AuditEvent.objects.filter(action__in=["consent.accepted", "consent.refused"]).count() == 2


def test_only_the_origin_government_decides_and_only_once(
    world: dict[str, Any], morocco: Organisation, moderator: Actor
) -> None:
    listing, ph = world["listing"], world["ph"]
    viewer = actor(ph.organisation, "viewer")
    # The owner and the agency read the consent but do not decide it; a viewer may not either.
    for who in (world["de"], moderator, viewer):
        response = decide(who, listing, "PH", "accept")
        assert response.status_code == 403, who
        assert "origin country's government" in response.json()["detail"]
    # Moldova's government does not decide the Philippines' consent: not its to read (404);
    # nor does a government the listing does not recruit from.
    assert decide(world["md"], listing, "PH", "accept").status_code == 404
    assert decide(actor(morocco), listing, "MA", "accept").status_code == 404
    assert decide(ph, Listing(pk="00000000-0000-0000-0000-000000000000"), "PH", "accept").status_code == 404
    assert consent(listing, "PH").status == ConsentStatus.PENDING

    assert decide(ph, listing, "PH", "refuse").status_code == 200
    again = decide(ph, listing, "PH", "accept")
    assert again.status_code == 409
    assert "already refused" in again.json()["detail"]
    assert consent(listing, "PH").status == ConsentStatus.REFUSED


def test_no_decision_once_the_listing_is_closed(world: dict[str, Any]) -> None:
    listing = world["listing"]
    transition(listing, world["de"], "close")
    response = decide(world["ph"], listing, "PH", "accept")
    assert response.status_code == 409
    assert "no longer published" in response.json()["detail"]


def test_the_consent_page_lets_the_origin_government_decide(world: dict[str, Any]) -> None:
    listing, ph = world["listing"], world["ph"]
    client: Client = signed_in(ph.user)
    page = client.get("/consents/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Triple Win nurses" in body and f"/consents/{listing.pk}/PH/accept/" in body
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/consents/{listing.pk}/PH/accept/", {"reason": "Agreed."})
    assert response.status_code == 302
    assert consent(listing, "PH").status == ConsentStatus.ACCEPTED
    assert "Nothing is waiting for your decision." in client.get("/consents/").content.decode()
    # Deciding again on the page: the same 409 and words as the API.
    again = client.post(f"/consents/{listing.pk}/PH/refuse/", {"reason": ""})
    assert again.status_code == 409
    assert "already accepted" in again.content.decode()


def test_consent_is_for_demand_listings_that_name_their_origins(
    germany: Organisation, philippines: Organisation
) -> None:
    de, ph = actor(germany), actor(philippines)
    supply = api(ph).post("/api/v1/listings/", offer(requires_origin_consent=True), format="json")
    assert supply.status_code == 400
    assert "demand" in supply.json()["requires_origin_consent"][0]
    open_call = api(de).post("/api/v1/listings/", nurses(partner_countries=[], allocations=[]), format="json")
    assert open_call.status_code == 400
    assert "partner_countries" in open_call.json()["requires_origin_consent"][0]
    with unscoped("test"):
        assert not Listing.objects.exists()


def test_listings_without_consent_are_unchanged(world: dict[str, Any], moderator: Actor) -> None:
    """The same scheme without ``requires_origin_consent`` admits its partners at once."""
    plain = published(world["de"], moderator, nurses(title="Plain nurses", requires_origin_consent=False))
    with unscoped("test"):
        assert not OriginConsent.objects.filter(listing=plain).exists()
    assert api(world["ph"]).get(f"/api/v1/listings/{plain.pk}/").status_code == 200
    assert matched(plain, world["ph_offer"]) and matched(plain, world["md_offer"])


def test_consent_api_query_counts(world: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    listing = world["listing"]
    ph_api, de_api = api(world["ph"]), api(world["de"])
    ph_api.get("/api/v1/consents/")  # warm the token's last use
    de_api.get("/api/v1/consents/")
    with django_assert_max_num_queries(4):
        assert ph_api.get("/api/v1/consents/").status_code == 200
    with django_assert_max_num_queries(4):
        assert de_api.get(f"/api/v1/listings/{listing.pk}/consents/").status_code == 200
    with django_assert_max_num_queries(4):
        assert ph_api.get(f"/api/v1/listings/{listing.pk}/consents/").status_code == 200


# --- The WHO health workforce safeguard list -----------------------------------------------------


def test_the_list_is_the_who_2023_list() -> None:
    listed = safeguards.safeguard_countries()
    assert len(listed) == 55
    assert {"NG", "GH", "KE", "NP", "PK", "HT", "ZW"} <= set(listed)
    assert not {"PH", "IN", "MA", "MD", "TN", "LK"} & set(listed)


def _who_scheme(**overrides: Any) -> dict[str, Any]:
    payload = {
        "title": "Nurses from Nigeria",
        "partner_countries": ["NG"],
        "occupation_lines": [{"isco_code": "2221", "quantity": 30}, {"isco_code": "5322", "quantity": 10}],
    }
    return scheme(**{**payload, **overrides})


def _submitted(owner: Actor, payload: dict[str, Any]) -> Listing:
    listing = create_listing(owner, payload)
    return transition(listing, owner, "submit")


def _approve(moderator: Actor, listing: Listing) -> Any:
    client = token_client(moderator.user, moderator.organisation)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(f"/api/v1/listings/{listing.pk}/approve/", {}, format="json")


def test_health_recruitment_from_a_listed_country_is_flagged_and_held(
    germany: Organisation, morocco: Organisation, moderator: Actor
) -> None:
    de = actor(germany)
    listing = _submitted(de, _who_scheme())
    flag = api(de).get(f"/api/v1/listings/{listing.pk}/").json()["safeguard_flag"]
    assert flag == {
        "rule": "who_health_workforce_safeguards",
        "list_year": 2023,
        "countries": ["NG"],
        "isco_groups": ["22"],
        "government_agreement": "",
        "satisfied": False,
    }
    # The moderator sees it on the review page.
    review = signed_in(moderator.user).get(f"/moderation/{listing.pk}/").content.decode()
    assert "WHO health workforce safeguard list" in review and "No government-to-government agreement" in review

    refused = _approve(moderator, listing)
    assert refused.status_code == 409
    assert "WHO health workforce safeguard list" in refused.json()["detail"]
    assert "government_agreement" in refused.json()["detail"]
    with unscoped("test"):
        assert Listing.objects.get(pk=listing.pk).status == "submitted"


def test_a_named_g2g_agreement_lets_it_be_published(germany: Organisation, moderator: Actor) -> None:
    de = actor(germany)
    listing = _submitted(de, _who_scheme(government_agreement="Germany–Nigeria health workforce agreement, 2024"))
    approved = _approve(moderator, listing)
    assert approved.status_code == 200
    assert approved.json()["status"] == "published"
    assert approved.json()["safeguard_flag"]["satisfied"] is True


def test_the_flag_is_for_the_owner_and_the_agencies(
    germany: Organisation, nigeria: Organisation, moderator: Actor
) -> None:
    de = actor(germany)
    listing = published(de, moderator, _who_scheme(government_agreement="G2G 2024"))
    assert api(de).get(f"/api/v1/listings/{listing.pk}/").json()["safeguard_flag"]["countries"] == ["NG"]
    agency_view = token_client(moderator.user, moderator.organisation).get(f"/api/v1/listings/{listing.pk}/")
    assert agency_view.json()["safeguard_flag"]["countries"] == ["NG"]
    assert api(actor(nigeria)).get(f"/api/v1/listings/{listing.pk}/").json()["safeguard_flag"] is None


@pytest.mark.parametrize(
    "overrides",
    [
        # Not a health occupation (crop farm labourers) from Nigeria.
        {"occupation_lines": [{"isco_code": "9211", "quantity": 30}]},
        # Nurses from the Philippines, not on the list.
        {"partner_countries": ["PH"]},
        # Nurses in an open call naming no country: not targeted at a listed one.
        {"partner_countries": []},
    ],
    ids=["non-health", "unlisted-country", "open-call"],
)
def test_other_listings_are_not_flagged(germany: Organisation, moderator: Actor, overrides: dict[str, Any]) -> None:
    de = actor(germany)
    listing = _submitted(de, _who_scheme(**overrides))
    assert api(de).get(f"/api/v1/listings/{listing.pk}/").json()["safeguard_flag"] is None
    assert _approve(moderator, listing).status_code == 200


def test_supply_listings_are_never_flagged(nigeria: Organisation, moderator: Actor) -> None:
    """Nigeria offering its own nurses to Germany is its own decision."""
    ng = actor(nigeria)
    listing = _submitted(
        ng,
        offer(
            title="Nigerian nurses", partner_countries=["DE"], occupation_lines=[{"isco_code": "2221", "quantity": 20}]
        ),
    )
    assert api(ng).get(f"/api/v1/listings/{listing.pk}/").json()["safeguard_flag"] is None
    assert _approve(moderator, listing).status_code == 200


def test_a_revision_that_would_recruit_from_a_listed_country_is_held(germany: Organisation, moderator: Actor) -> None:
    de = actor(germany)
    listing = published(de, moderator, _who_scheme(partner_countries=["PH"]))
    edit = api(de).patch(f"/api/v1/listings/{listing.pk}/", {"partner_countries": ["PH", "GH"]}, format="json")
    assert edit.status_code == 200
    refused = _approve(moderator, listing)
    assert refused.status_code == 409
    assert "GH" in refused.json()["detail"]
    with unscoped("test"):
        assert Listing.objects.get(pk=listing.pk).partner_countries == ["PH"]


def test_users_are_not_in_consent_payloads(world: dict[str, Any]) -> None:
    decide(world["ph"], world["listing"], "PH", "accept", "Agreed by the minister.")
    with unscoped("test"):
        payloads = [e.data for e in Event.objects.filter(type__startswith="consent.")]
        people = [u.email for u in User.objects.all()] + [u.full_name for u in User.objects.all() if u.full_name]
    text = repr(payloads)
    assert payloads and not [p for p in people if p in text]
