"""The world the access matrix walks: built once per module (and xdist worker), rolled back at the end.

Morocco is the callers' government (a viewer, an official and an admin), the
agency has the callers' moderator and viewer. Italy and Moldova are the other
tenants. Every value only Italy (or, for moderation feedback, Italy and the
agency's moderators) may read carries a ``SENTINEL`` marker, so a leak is a
substring in a response body.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from accounts.models import Membership, Organisation, User
from accounts.services import invitation_create, token_issue
from accounts.tenancy import Actor
from exchange.models import Indicator, Observation, ProfileImport, ProfileSkill
from exchange.profiles.services import (
    observation_save,
    profile_create,
    profile_publish,
    profile_update,
    skill_save,
)
from opportunities.models import Listing
from opportunities.services import listing_transition, listing_update
from tests.exchange.conftest import offer, scheme
from tests.factories import AgencyFactory, OrganisationFactory, member
from tests.opportunities.conftest import create_listing

GOV = ("gov_viewer", "gov_official", "gov_admin")
AGENCY = ("agency_moderator", "agency_viewer")
ROLES = ("anonymous", *GOV, *AGENCY)
# Who may read a published listing's moderation feedback and pending revision besides
# its owner: the agency staff who moderate. (An agency *viewer* cannot see listings in
# moderation either, see opportunities.selectors.listing_visible_to.)
# "The owner and the agencies": every member of an agency (opportunities.access.listing_audience).
MODERATION_AUDIENCE = ("agency_moderator", "agency_viewer")

MISSING = "00000000-0000-4000-8000-00000000dead"

# Moderation feedback on Italy's shared listings (Italy and MODERATION_AUDIENCE only).
CHANGES_REASON = "SENTINEL-changes-requested-reason"
REJECT_REASON = "SENTINEL-revision-reject-reason"
PENDING_TITLE = "SENTINEL-pending-revision-title"
REJECTED_TITLE = "SENTINEL-rejected-revision-title"
MODERATOR_NAME = "Mona SENTINEL-moderator"
MODERATOR_EMAIL = "mona.sentinel-moderator@ilma.example"
ITALY_OFFICIAL_NAME = "Bruno SENTINEL-official"
ITALY_OFFICIAL_EMAIL = "bruno.sentinel-official@lavoro.gov.example"


@dataclass
class World:
    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # role → API token secret
    objects: dict[str, Any] = field(default_factory=dict)
    # Values nobody among the callers may read, and those only MODERATION_AUDIENCE may.
    private_values: list[str] = field(default_factory=list)
    moderation_values: list[str] = field(default_factory=list)

    def org_of(self, role: str) -> Organisation | None:
        if role == "anonymous":
            return None
        return self.orgs["morocco"] if role in GOV else self.orgs["agency"]

    def leaks_for(self, role: str, kind: str) -> list[str]:
        values = list(self.private_values)
        if role not in MODERATION_AUDIENCE:
            # The moderator's identity is not private on the caller's own objects.
            own = (MODERATOR_NAME, MODERATOR_EMAIL) if kind == "own" else ()
            values += [v for v in self.moderation_values if v not in own]
        return [v for v in values if v]


def _moderated_listing(
    italy_actor: Actor, moderator: Actor, *, title: str, visibility: str, contact: User
) -> tuple[Listing, Any]:
    """Italy's published scheme with the full moderation story behind it.

    draft → submitted → changes requested (reason) → submitted → published; then a
    revision the moderator rejected (reason) and a newer revision still pending.
    """
    # The contact person is part of the published listing; the officials behind the edits are not.
    public = {"visibility": visibility, "partner_countries": ["MD", "MA"], "contact": str(contact.pk)}
    listing = create_listing(italy_actor, scheme(title=title, **public))
    listing_transition(actor=italy_actor, listing=listing, action="submit")
    listing_transition(actor=moderator, listing=listing, action="request_changes", reason=CHANGES_REASON)
    listing_transition(actor=italy_actor, listing=listing, action="submit")
    listing_transition(actor=moderator, listing=listing, action="approve")
    for revision_title in (REJECTED_TITLE, PENDING_TITLE):
        payload = scheme(title=revision_title, **public)
        from opportunities.inputs import ListingWriteSerializer, json_payload, listing_write_data

        body = ListingWriteSerializer(listing, data=payload, partial=True, context={"actor": italy_actor})
        body.is_valid(raise_exception=True)
        data = json_payload({**listing_write_data(listing), **body.validated_data})
        listing_update(actor=italy_actor, listing=listing, data=body.validated_data, payload=data)
        if revision_title == REJECTED_TITLE:
            listing_transition(actor=moderator, listing=listing, action="reject", reason=REJECT_REASON)
    listing.refresh_from_db()
    pending = listing.revisions.get(status="pending")
    return listing, pending


def _subscription(org: Organisation, prefix: str) -> dict[str, Any]:
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

    subscription = SubscriptionFactory(organisation=org, name=f"{prefix}-subscription", keywords=f"{prefix}kw")
    webhook = WebhookChannelFactory(subscription=subscription, url=f"https://{prefix}-hook.example/corridor")
    feed = FeedChannelFactory(subscription=subscription)
    event = EventFactory(data={"title": f"{prefix}-event"})
    delivery = DeliveryFactory(channel=webhook, event=event, status=DeliveryStatus.DEAD, last_error=f"{prefix}-error")
    inbox = ChannelFactory(subscription=subscription)
    notification = NotificationFactory(delivery=DeliveryFactory(channel=inbox, event=event))
    return {
        "subscription": subscription,
        "webhook": webhook,
        "feed": feed,
        "delivery": delivery,
        "notification": notification,
    }


def _match(demand: Listing, supply: Listing, *, state: str, interest_by: Organisation | None, message: str) -> Any:
    from exchange.models import Match, Message

    match = Match.objects.create(
        demand=demand,
        supply=supply,
        demand_owner=demand.owner,
        supply_owner=supply.owner,
        score=0.5,
        explanation={"summary": f"{message}-explanation"},
        computed_at=timezone.now(),
        state=state,
        interest_by=interest_by,
    )
    if interest_by is not None:
        Message.objects.create(match=match, organisation=interest_by, body=message)
    return match


def _partnership(actor: Actor, *, name: str, members: list[Organisation], document: str, **extra: Any) -> Any:
    from exchange.partnerships.services import partnership_create, partnership_document_upload

    partnership = partnership_create(
        actor=actor, name=name, kind="mobility_partnership", members=[m.pk for m in members], **extra
    )
    doc = partnership_document_upload(
        actor=actor,
        partnership=partnership,
        file=SimpleUploadedFile(f"{document}.pdf", b"%PDF-1.7\n" + document.encode()),
        document_type="annex",
        title=document,
    )
    return partnership, doc


def _agreement_and_committee(actor: Actor, partnership: Any, *, prefix: str) -> dict[str, Any]:
    """An agreement (its text members-only) and one row of each kind of the joint committee."""
    from exchange.partnerships.agreements import (
        agreement_save,
        committee_decision_add,
        committee_meeting_add,
        committee_member_add,
    )

    agreement_save(
        actor=actor,
        partnership=partnership,
        summary=f"{prefix}-public-summary",
        text=f"{prefix}-agreement-text",
        review_on=None,
        named_parties=["Regional authority"],
    )
    day = timezone.localdate()
    return {
        "committee_member": committee_member_add(
            actor=actor, partnership=partnership, name=f"{prefix}-committee-member", organisation=actor.org.pk
        ),
        "committee_meeting": committee_meeting_add(
            actor=actor, partnership=partnership, held_on=day, title=f"{prefix}-meeting"
        ),
        "committee_decision": committee_decision_add(
            actor=actor, partnership=partnership, decided_on=day, text=f"{prefix}-decision"
        ),
    }


def build_world() -> World:
    w = World()
    o = w.orgs
    o["morocco"] = OrganisationFactory(
        name="Morocco Employment", slug="mx-ma", country="MA", is_origin=True, is_destination=False
    )
    o["italy"] = OrganisationFactory(name="Italy Labour", slug="mx-it", country="IT", is_destination=True)
    o["moldova"] = OrganisationFactory(
        name="Moldova Labour", slug="mx-md", country="MD", is_origin=True, is_destination=False
    )
    o["spain"] = OrganisationFactory(name="Spain Inclusion", slug="mx-es", country="ES", is_destination=True)
    o["agency"] = AgencyFactory(name="Mobility Agency", slug="mx-agency")
    for org in o.values():
        assert not org.require_two_factor  # the callers sign in without a second factor

    u = w.users
    u["gov_viewer"] = member(o["morocco"], "viewer", email="viewer@ma.example", full_name="Vera Viewer")
    u["gov_official"] = member(o["morocco"], "official", email="official@ma.example", full_name="Omar Official")
    u["gov_admin"] = member(o["morocco"], "admin", email="admin@ma.example", full_name="Amal Admin")
    u["agency_moderator"] = member(o["agency"], "moderator", email="mod@agency.example", full_name="Max Moderator")
    u["agency_viewer"] = member(o["agency"], "viewer", email="aview@agency.example", full_name="Ava Viewer")
    u["mona"] = member(o["agency"], "moderator", email=MODERATOR_EMAIL, full_name=MODERATOR_NAME)
    # Italy's first member, so its public focal point.
    u["italy_contact"] = member(o["italy"], "official", email="contact@lavoro.gov.example", full_name="Carla Contact")
    u["italy_official"] = member(o["italy"], "official", email=ITALY_OFFICIAL_EMAIL, full_name=ITALY_OFFICIAL_NAME)
    u["italy_admin"] = member(
        o["italy"], "admin", email="alice.sentinel-admin@lavoro.gov.example", full_name="Alice SENTINEL-admin"
    )
    u["moldova_official"] = member(o["moldova"], "official", email="mihai@md.example", full_name="Mihai Rusu")
    # Members the callers' admins may change or remove (never the callers themselves).
    u["morocco_extra"] = member(o["morocco"], "official", email="extra@ma.example", full_name="Morocco Extra")
    u["agency_extra"] = member(o["agency"], "viewer", email="extra@agency.example", full_name="Agency Extra")

    for role in (*GOV, *AGENCY):
        _token, secret = token_issue(user=u[role], organisation=w.org_of(role), name="matrix")
        w.secrets[role] = secret

    moroccan = Actor(user=u["gov_official"], organisation=o["morocco"], role="official")
    italian = Actor(user=u["italy_official"], organisation=o["italy"], role="official")
    italian_admin = Actor(user=u["italy_admin"], organisation=o["italy"], role="admin")
    moldovan = Actor(user=u["moldova_official"], organisation=o["moldova"], role="official")
    moderator = Actor(user=u["mona"], organisation=o["agency"], role="moderator")
    ob = w.objects

    # --- migration profiles: Morocco's published one; Italy's draft; Italy's published
    # one whose next version is a draft (private to Italy). Each with one figure.
    # Each with one skills row in 2221 (nursing professionals): Morocco a surplus, Italy a shortage.
    def profile(actor: Actor, country: str, year: int, visibility: str, *, publish: bool, text: str = "") -> Any:
        skill_kind = "surplus" if country == "MA" else "shortage"
        created = profile_create(
            actor=actor,
            data={"country": country, "year": year, "visibility": visibility, "labour_market": text},
        )
        figure = {"indicator": Indicator.objects.get(code="MIG_STOCK_OUT"), "sex": "T", "age": "_T"}
        observation_save(
            actor=actor,
            profile=created,
            data={**figure, "time_period": year - 1, "value": 1000, "source": f"matrix {country}", "comment": text},
        )
        skill_save(
            actor=actor,
            profile=created,
            data={
                "kind": skill_kind,
                "occupation_id": "2221",
                "sector_id": None,
                "severity": "high",
                "time_period": year - 1,
                "source": f"matrix {country}",
                "comment": text,
            },
        )
        return profile_publish(actor=actor, profile=created) if publish else created

    ob["own_profile"] = profile(moroccan, "MA", 2025, "members", publish=True)
    ob["italy_profile_draft"] = profile(italian, "IT", 2025, "public", publish=False, text="SENTINEL-profile-draft")
    ob["italy_profile_shared"] = profile(italian, "IT", 2024, "members", publish=True)
    ob["italy_profile_public"] = profile(italian, "IT", 2023, "public", publish=True)
    ob["italy_profile_next"] = profile_update(
        actor=italian, profile=ob["italy_profile_shared"], data={"labour_market": "SENTINEL-profile-next"}
    )
    for key in ("own_profile", "italy_profile_draft", "italy_profile_shared"):
        ob[f"{key}_figure"] = Observation.objects.get(profile=ob[key])
        ob[f"{key}_skill"] = ProfileSkill.objects.get(profile=ob[key])

    # --- suggestions: Italy's published shortage of 2221 meets Morocco's surplus (the callers'
    # own, open); one between Italy and Moldova the callers' government does not see (the
    # agencies do). Built before any subscription, so nobody is notified.
    from exchange.models import Suggestion
    from exchange.profiles.suggestions import suggestions_refresh

    [ob["own_suggestion"]] = suggestions_refresh()
    ob["other_suggestion"] = Suggestion.objects.create(
        destination_country="IT",
        origin_country="MD",
        occupation_id="7126",
        evidence={"shortage": {"isco_code": "7126"}, "surplus": {"isco_code": "7126"}, "level": "unit_group"},
    )
    # SDMX-CSV imports (private to the importing organisation): Morocco's into its profile
    # before publishing, Italy's (failed, with a row error) into its draft.
    ob["morocco_profile_import"] = ProfileImport.objects.create(
        organisation=o["morocco"],
        profile=ob["own_profile"],
        created_by=u["gov_official"],
        content="own",
        status="succeeded",
    )
    ob["italy_profile_import"] = ProfileImport.objects.create(
        organisation=o["italy"],
        profile=ob["italy_profile_draft"],
        created_by=u["italy_official"],
        filename="SENTINEL-import-file.csv",
        content="SENTINEL-import-content",
        status="failed",
        errors=[{"row": 2, "column": "OBS_VALUE", "message": "SENTINEL-import-error"}],
    )

    # --- listings
    own = create_listing(moroccan, offer(title="Moroccan farm workers"))
    listing_transition(actor=moroccan, listing=own, action="submit")
    ob["own_listing"] = listing_transition(actor=moderator, listing=own, action="approve")
    ob["italy_draft"] = create_listing(italian, scheme(title="SENTINEL-draft-title"))
    ob["italy_shared"], ob["italy_pending"] = _moderated_listing(
        italian, moderator, title="Italian seasonal harvest", visibility="members", contact=u["italy_contact"]
    )
    ob["italy_public"], ob["italy_public_pending"] = _moderated_listing(
        italian, moderator, title="Italian public harvest", visibility="public", contact=u["italy_contact"]
    )
    # Italy's scheme that recruits from Morocco and Moldova only with their governments' agreement:
    # both consents pending, so neither government reads the listing yet (the agencies do).
    consent = create_listing(
        italian,
        scheme(
            title="Italian scheme with origin consent", partner_countries=["MA", "MD"], requires_origin_consent=True
        ),
    )
    listing_transition(actor=italian, listing=consent, action="submit")
    ob["italy_consent_scheme"] = listing_transition(actor=moderator, listing=consent, action="approve")
    supply = create_listing(moldovan, offer(title="Moldovan workers"))
    listing_transition(actor=moldovan, listing=supply, action="submit")
    ob["moldova_listing"] = listing_transition(actor=moderator, listing=supply, action="approve")

    # --- outcomes ledgers: Italy's shared scheme admits Morocco (partner MA), so its ledger is
    # Morocco's to read and to write for MA; Italy's scheme for Moldova alone is read by
    # Morocco as a listing, but its ledger is not Morocco's (404; the agencies read it).
    # Entries reported by Italy's public contact, whom every reader may see.
    from exchange.models import OutcomeImport
    from exchange.outcomes.services import outcome_record

    reporter = Actor(user=u["italy_contact"], organisation=o["italy"], role="official")
    md_only = create_listing(italian, scheme(title="Italian scheme for Moldova", partner_countries=["MD"]))
    listing_transition(actor=italian, listing=md_only, action="submit")
    ob["italy_md_scheme"] = listing_transition(actor=moderator, listing=md_only, action="approve")
    for key in ("italy_shared", "italy_md_scheme"):
        year = str(ob[key].starts_on.year)
        entry = {"origin_country": "MD", "period": year, "stage": "allocated", "sex": "X", "count": 10}
        ob[f"{key}_outcome"] = outcome_record(actor=reporter, listing=ob[key], data=entry)
    ob["morocco_outcome_import"] = OutcomeImport.objects.create(
        organisation=o["morocco"], listing=ob["italy_shared"], created_by=u["gov_official"], content="own"
    )
    ob["italy_outcome_import"] = OutcomeImport.objects.create(
        organisation=o["italy"],
        listing=ob["italy_md_scheme"],
        created_by=u["italy_official"],
        content="SENTINEL-outcome-import",
        status="failed",
    )

    # --- matches: Morocco's own (with Italy), and one between Italy and Moldova
    ob["own_match"] = _match(
        ob["italy_shared"], ob["own_listing"], state="suggested", interest_by=None, message="own-match"
    )
    ob["other_match"] = _match(
        ob["italy_shared"],
        ob["moldova_listing"],
        state="interest_expressed",
        interest_by=o["moldova"],
        message="SENTINEL-match-message",
    )

    # --- partnerships: Morocco's with Italy; Italy–Spain in talks; Italy–Moldova public, in force
    ob["own_partnership"], ob["own_document"] = _partnership(
        moroccan, name="Morocco-Italy talks", members=[o["italy"]], document="own-annex"
    )
    ob["private_partnership"], ob["private_document"] = _partnership(
        italian_admin, name="SENTINEL-private-partnership", members=[o["spain"]], document="SENTINEL-private-annex"
    )
    today = timezone.localdate()
    ob["shared_partnership"], ob["shared_document"] = _partnership(
        italian_admin,
        name="Italy-Moldova mobility partnership",
        members=[o["moldova"]],
        document="SENTINEL-shared-annex",
        status="in_force",
        signed_on=today.replace(year=today.year - 1),
        in_force_from=today.replace(year=today.year - 1),
        public=True,
    )

    for key, actor, prefix in (
        ("own", moroccan, "own"),
        ("private", italian_admin, "SENTINEL-private"),
        ("shared", italian_admin, "SENTINEL-shared"),
    ):
        for name, value in _agreement_and_committee(actor, ob[f"{key}_partnership"], prefix=prefix).items():
            ob[f"{key}_{name}"] = value

    # --- private rows: subscriptions, deliveries, notifications, tokens, members, invitations
    for key, org, prefix in (("morocco", o["morocco"], "own-ma"), ("agency", o["agency"], "own-ag")):
        for name, value in _subscription(org, prefix).items():
            ob[f"{key}_{name}"] = value
    for name, value in _subscription(o["italy"], "SENTINEL-it").items():
        ob[f"italy_{name}"] = value
    for role in (*GOV, *AGENCY):
        ob[f"{role}_token"], _ = token_issue(user=u[role], organisation=w.org_of(role), name="spare")
    ob["italy_token"], italy_secret = token_issue(
        user=u["italy_admin"], organisation=o["italy"], name="SENTINEL-token-name"
    )
    ob["morocco_member"] = Membership.objects.get(organisation=o["morocco"], user=u["morocco_extra"])
    ob["agency_member"] = Membership.objects.get(organisation=o["agency"], user=u["agency_extra"])
    ob["italy_member"] = Membership.objects.get(organisation=o["italy"], user=u["italy_official"])
    ob["morocco_invitation"], _ = invitation_create(
        actor=Actor(user=u["gov_admin"], organisation=o["morocco"], role="admin"),
        email="own-invitee@ma.example",
        role="viewer",
    )
    ob["agency_invitation"], _ = invitation_create(
        actor=Actor(user=u["mona"], organisation=o["agency"], role="moderator"),
        email="own-invitee@agency.example",
        role="viewer",
    )
    ob["italy_invitation"], invitation_secret = invitation_create(
        actor=italian_admin, email="sentinel-invitee@lavoro.gov.example", role="official"
    )

    w.moderation_values = [
        CHANGES_REASON,
        REJECT_REASON,
        PENDING_TITLE,
        REJECTED_TITLE,
        MODERATOR_NAME,
        MODERATOR_EMAIL,
        ITALY_OFFICIAL_NAME,
        ITALY_OFFICIAL_EMAIL,
        str(ob["italy_pending"].pk),
        str(ob["italy_public_pending"].pk),
    ]
    w.private_values = [
        "SENTINEL-profile-draft",
        "SENTINEL-profile-next",
        str(ob["italy_profile_draft"].pk),
        str(ob["italy_profile_next"].pk),
        str(ob["italy_profile_draft_figure"].pk),
        str(ob["italy_profile_draft_skill"].pk),
        str(ob["italy_profile_import"].pk),
        "SENTINEL-import-file",
        "SENTINEL-import-content",
        "SENTINEL-import-error",
        "SENTINEL-draft-title",
        str(ob["italy_draft"].pk),
        "SENTINEL-match-message",
        str(ob["other_match"].pk),
        "SENTINEL-private-partnership",
        str(ob["private_partnership"].pk),
        "SENTINEL-private-annex",
        # The committee and the signed text are members-only, also on a public partnership.
        "SENTINEL-private-public-summary",
        "SENTINEL-private-agreement-text",
        "SENTINEL-shared-agreement-text",
        "SENTINEL-private-committee-member",
        "SENTINEL-shared-committee-member",
        "SENTINEL-private-meeting",
        "SENTINEL-shared-meeting",
        "SENTINEL-private-decision",
        "SENTINEL-shared-decision",
        *(
            str(ob[f"{key}_committee_{what}"].pk)
            for key in ("private", "shared")
            for what in ("member", "meeting", "decision")
        ),
        "SENTINEL-shared-annex",
        str(ob["private_document"].pk),
        str(ob["shared_document"].pk),
        "SENTINEL-it-subscription",
        "SENTINEL-it-hook",
        "SENTINEL-it-event",
        "SENTINEL-it-error",
        "SENTINEL-itkw",
        ob["italy_webhook"].secret,
        ob["italy_feed"].feed_token,
        str(ob["italy_subscription"].pk),
        str(ob["italy_delivery"].pk),
        str(ob["italy_notification"].pk),
        "SENTINEL-token-name",
        str(ob["italy_token"].pk),
        italy_secret,
        "sentinel-invitee",
        invitation_secret,
        str(ob["italy_invitation"].pk),
        str(ob["italy_member"].pk),
        "alice.sentinel-admin",
        "Alice SENTINEL-admin",
        "SENTINEL-outcome-import",
        str(ob["italy_outcome_import"].pk),
    ]
    return w


def random_id() -> str:
    return str(uuid.uuid4())


# --- Database snapshots ------------------------------------------------------------------

# Reference data never changes through a request; bookkeeping columns change on every one.
_SKIP_TABLES = (
    "accounts_auditevent",  # refused attempts are audited (OWASP API5): an allowed write
    "opportunities_occupation",
    "opportunities_escooccupation",
    "opportunities_sector",
    "opportunities_language",
    "opportunities_currency",
)
_SKIP_COLUMNS = ("last_used_at", "last_login")
_TABLES: list[str] = []


def _tables() -> list[str]:
    if not _TABLES:
        apps = ("accounts_", "opportunities_", "exchange_")
        names = connection.introspection.table_names()
        _TABLES.extend(sorted(n for n in names if n.startswith(apps) and n not in _SKIP_TABLES))
    return _TABLES


def snapshot() -> dict[str, str]:
    """One hash per application table (raw SQL: no tenant scope, no manager)."""
    row = "(to_jsonb(r) - ARRAY[" + ",".join(f"'{c}'" for c in _SKIP_COLUMNS) + "])::text"
    digest = f"md5(coalesce(string_agg({row}, ',' ORDER BY {row}), ''))"
    # Table names come from the database's own catalogue, never from a request.
    parts = [f"SELECT '{t}', {digest} FROM {connection.ops.quote_name(t)} r" for t in _tables()]  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        return dict(cursor.fetchall())
