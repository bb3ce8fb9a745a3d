"""Who may read a match, its thread and a partnership, and who may act on them.

**Matches.** A match, its explanation and its thread are read by the match's two
governments only (``match_visible_to``; turned around, ``match_readers``). Among
their members, administrators and officials act; viewers read. Interest is
expressed in a suggested match; the thread goes on while interest is expressed,
in dialogue and once agreed; the government that did *not* express interest
accepts or declines (``can_express_interest``, ``can_message``, ``can_decide``).

**Partnerships.** A partnership is read by its active (invited or confirmed)
members and, once public and in force, by anyone (``partnership_visible_to``);
its documents by its active members only. Officials and administrators of
governments create partnerships and answer invitations; those of *confirmed*
members change them and upload documents; only the uploading government deletes
a document.

Every question returns an ``accounts.access.Decision``: the services raise from
it and the pages show a button only where it allows (docs/architecture.md).
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.access import (
    ALLOWED,
    Decision,
    can_act_for_government,
    can_act_in_standing,
    conflict,
    deny,
    first_refusal,
    is_government,
)
from accounts.models import Organisation, OrganisationKind
from accounts.tenancy import Actor, through_access
from exchange.models import (
    EmailReceipt,
    MatchState,
    MemberState,
    MigrationProfile,
    Observation,
    OutcomeEntry,
    OutcomeTotal,
    Partnership,
    PartnershipDocument,
    PartnershipMember,
    PartnershipStatus,
    ProfileSkill,
    ProfileStatus,
    ProfileVisibility,
    Suggestion,
    SuggestionState,
)
from exchange.models.matching import Match, Message
from exchange.models.partnerships import (
    ACTIVE_MEMBER_STATES,
    CommitteeDecision,
    CommitteeMeeting,
    CommitteeMember,
    PartnershipAgreement,
)
from opportunities.access import PUBLISHED_ONCE, Audience, listing_readers, listing_visible_to, origin_countries
from opportunities.models import PUBLISHED_OR_HISTORY, Direction, Listing

# The shared models this module decides access to (tests/test_model_coverage.py).
SHARED_MODELS = {
    Match: "its two governments: match_visible_to, match_readers",
    Message: "the thread of a match, read through the match",
    Partnership: "its active members, and anyone once public and in force: partnership_visible_to",
    PartnershipMember: "a partnership's members, read through the partnership",
    PartnershipDocument: "its partnership's active members: partnership_documents_visible_to",
    # Not read by any organisation: the delivery engine's exactly-once guard, written and
    # read by workers only (unscoped), never shown on a page or in the API.
    EmailReceipt: "the delivery engine's own (workers, unscoped); no reader",
    MigrationProfile: "its owner's drafts; published versions per visibility: profile_visible_to",
    Observation: "part of its profile, read through the profile",
    ProfileSkill: "part of its profile, read through the profile",
    Suggestion: "the two governments it names, and the agencies: suggestion_visible_to",
    OutcomeEntry: "the listing's owner, its admitted origin governments and the agencies: outcome_entries_visible_to",
    OutcomeTotal: "the ledger's sums, read as its entries are (corridor_outcome_totals, the statistics' schemes)",
    PartnershipAgreement: "its partnership's readers, per field: agreement_visible_to, agreement_audience",
    CommitteeMember: "its partnership's active members: committee_members_visible_to",
    CommitteeMeeting: "its partnership's active members: committee_meetings_visible_to",
    CommitteeDecision: "its partnership's active members: committee_decisions_visible_to",
}

# --- Matches: reading ------------------------------------------------------------------------


@through_access("the match read rule")
def match_visible_to(*, actor: Actor) -> QuerySet[Match]:
    """The matches of the actor's government (anything else is a 404)."""
    if not actor.is_authenticated:
        return Match.objects.none()
    org = actor.organisation
    return Match.objects.filter(Q(demand_owner=org) | Q(supply_owner=org))


def match_readers(match: Match) -> QuerySet[Organisation]:
    """The organisations that read a match and are told about it: its two governments."""
    return Organisation.objects.active().filter(pk__in=match_reader_ids(match))


def match_reader_ids(match: Match) -> tuple[UUID, UUID]:
    """The ids of the organisations ``match_readers`` may return (no query; inactive ones drop later)."""
    return (match.demand_owner_id, match.supply_owner_id)


def match_readable_by(match: Match, organisation: Organisation) -> bool:
    """``match_readers`` for one organisation, in plain Python."""
    return organisation.is_active and organisation.pk in match_reader_ids(match)


def is_party(actor: Actor, match: Match) -> bool:
    return actor.organisation is not None and actor.organisation.pk in (match.demand_owner_id, match.supply_owner_id)


# --- Matches: acting -------------------------------------------------------------------------

REPLY_STATES = (MatchState.INTEREST_EXPRESSED, MatchState.IN_DIALOGUE, MatchState.AGREED)
DECIDE_STATES = (MatchState.INTEREST_EXPRESSED, MatchState.IN_DIALOGUE)


def can_take_part(actor: Actor, match: Match) -> Decision:
    """An administrator or official of one of the two governments (viewers read), while their
    organisation is in good standing (express interest, message, accept or decline)."""
    if not is_party(actor, match):
        return deny(_("Only the two governments of a match may act on it."))
    if not actor.can_write:
        return deny(_("Viewers may read the dialogue but not take part in it."))
    return can_act_in_standing(actor)


def can_express_interest(actor: Actor, match: Match) -> Decision:
    return first_refusal(
        can_take_part(actor, match),
        ALLOWED
        if match.state == MatchState.SUGGESTED
        else conflict(
            _("Interest can be expressed only in a suggested match; this one is %(state)s.")
            % {"state": match.get_state_display().lower()}
        ),
    )


def can_message(actor: Actor, match: Match) -> Decision:
    if match.state == MatchState.SUGGESTED:
        state = conflict(_("Express interest first (POST .../interest/); the message opens the thread."))
    elif match.state not in REPLY_STATES:
        state = conflict(
            _("The dialogue is over: this match is %(state)s.") % {"state": match.get_state_display().lower()}
        )
    else:
        state = ALLOWED
    return first_refusal(can_take_part(actor, match), state)


def can_decide(actor: Actor, match: Match) -> Decision:
    """Accept or decline: the government that did not express interest, while the dialogue is open."""
    who = can_take_part(actor, match)
    if who and actor.org.pk == match.interest_by_id:
        who = deny(_("The other government, which did not express interest, accepts or declines."))
    state = (
        ALLOWED
        if match.state in DECIDE_STATES
        else conflict(
            _("Only a match with interest expressed or in dialogue can be accepted or declined; this one is %(state)s.")
            % {"state": match.get_state_display().lower()}
        )
    )
    return first_refusal(who, state)


# --- Alert subscriptions ----------------------------------------------------------------------
#
# A subscription is its organisation's own (scoped); officials and administrators (moderators
# and administrators of an agency) manage them, viewers read. A new one is created only while
# the organisation is in good standing.

SUBSCRIPTION_MANAGER = _("Only an official or an administrator can manage subscriptions and deliveries.")


def can_manage_subscriptions(actor: Actor) -> Decision:
    """Change, test, rotate, delete subscriptions and replay deliveries: officials and admins."""
    if not actor.is_authenticated or not actor.can_write:
        return deny(SUBSCRIPTION_MANAGER)
    return ALLOWED


def can_create_subscription(actor: Actor) -> Decision:
    """A new alert subscription: a manager whose organisation is in good standing."""
    return first_refusal(can_manage_subscriptions(actor), can_act_in_standing(actor))


# --- Partnerships: reading -------------------------------------------------------------------


def _active_membership_of(org: Organisation | None) -> Exists | Q:
    if org is None:
        return Q(pk__in=[])
    return Exists(
        PartnershipMember.objects.filter(partnership=OuterRef("pk"), organisation=org, state__in=ACTIVE_MEMBER_STATES)
    )


@through_access("the partnership read rule")
def partnership_visible_to(*, actor: Actor) -> QuerySet[Partnership]:
    """Every partnership the actor may read (anything else is a 404)."""
    public = Q(status=PartnershipStatus.IN_FORCE, public=True)
    if not actor.is_authenticated:
        return Partnership.objects.filter(public)
    return Partnership.objects.filter(Q(_active_membership_of(actor.organisation)) | public)


@through_access("a partnership's active members")
def partnership_member_of(*, actor: Actor) -> QuerySet[Partnership]:
    """Partnerships of which the actor's organisation is an active (invited or confirmed) member."""
    if not actor.is_authenticated:
        return Partnership.objects.none()
    return Partnership.objects.filter(_active_membership_of(actor.organisation))


@through_access("a partnership's documents, members only")
def partnership_documents_visible_to(*, actor: Actor) -> QuerySet[PartnershipDocument]:
    """Documents of the partnerships the actor's organisation is an active member of
    (not the public readers of a public partnership: documents are members-only)."""
    return PartnershipDocument.objects.filter(partnership__in=partnership_member_of(actor=actor))


@through_access("what a partnership groups, for a caller that resolved it through partnership_visible_to")
def partnership_grouped(partnership: Partnership) -> tuple[QuerySet[Listing], QuerySet[Match]]:
    """The listings and matches grouped in a partnership, all of them: the caller shows
    each reader only those it may read (``listing_visible_to``, ``match_visible_to``)."""
    return Listing.objects.filter(partnerships=partnership), Match.objects.filter(partnerships=partnership)


# --- Partnerships: acting --------------------------------------------------------------------

MEMBER_WRITER = _("Only an official or an administrator of a member government can do this.")


def can_create_partnership(actor: Actor) -> Decision:
    """Creating a partnership joins it: a government in good standing."""
    return first_refusal(can_act_for_government(actor, reason=MEMBER_WRITER), can_act_in_standing(actor))


def can_answer_invitation(actor: Actor, membership: PartnershipMember | None, *, confirm: bool) -> Decision:
    """Confirm or decline: the invited government's officials and administrators, once."""
    if membership is None or not membership.is_active:
        return deny(_("Your organisation is not a member of this partnership."))
    if membership.state == MemberState.INVITED:
        state = ALLOWED
    elif confirm:
        state = conflict(_("Your organisation has already confirmed its membership."))
    else:
        state = conflict(_("Your organisation has confirmed its membership: leave the partnership instead."))
    # Confirming joins the partnership: a government in good standing (declining is always open).
    standing = can_act_in_standing(actor) if confirm else ALLOWED
    return first_refusal(can_act_for_government(actor, reason=MEMBER_WRITER), standing, state)


def can_leave(actor: Actor, membership: PartnershipMember | None) -> Decision:
    if membership is None or not membership.is_active:
        return deny(_("Your organisation is not a member of this partnership."))
    return can_act_for_government(actor, reason=MEMBER_WRITER)


def can_change_partnership(actor: Actor, membership: PartnershipMember | None) -> Decision:
    """Edit, group listings and matches, upload documents: a confirmed member's officials and admins."""
    writer = can_act_for_government(actor, reason=MEMBER_WRITER)
    if not writer:
        return writer
    if membership is None or membership.state != MemberState.CONFIRMED:
        if membership is not None and membership.state == MemberState.INVITED:
            return deny(_("Confirm your organisation's membership before changing the partnership."))
        return deny(_("Only confirmed members can change a partnership."))
    return ALLOWED


def can_delete_document(actor: Actor, document: PartnershipDocument) -> Decision:
    return first_refusal(
        can_act_for_government(actor, reason=MEMBER_WRITER),
        ALLOWED
        if actor.organisation is not None and document.uploaded_by_organisation_id == actor.organisation.pk
        else deny(_("Only the organisation that uploaded a document can delete it.")),
    )


# --- Agreements and their joint committees ------------------------------------------------
#
# A partnership's agreement is read by the partnership's readers, per field and
# audience (``agreement_audience``): its active members read everything; a reader of
# a public partnership in force (ILO guideline 13.1: agreements made public) reads
# the summary, the signature, entry-into-force and review dates and the parties, but
# not the signed text. The joint committee (its members, who are officials named by
# name, its meetings and their minutes, its decisions) is for the active members
# only: to anyone else its routes answer 404. The same confirmed members' officials
# and administrators who change the partnership change its agreement and committee.

AGREEMENT_PUBLIC_FIELDS = ("summary", "signed_on", "in_force_from", "review_on", "parties")


@through_access("an agreement, read through its partnership's read rule")
def agreement_visible_to(*, actor: Actor) -> QuerySet[PartnershipAgreement]:
    """Agreements of the partnerships the actor may read (the fields per ``agreement_audience``)."""
    return PartnershipAgreement.objects.filter(partnership__in=partnership_visible_to(actor=actor))


def agreement_audience(actor: Actor, partnership: Partnership) -> Audience:
    """``INSIDER``: an active member of the partnership (every field); ``OUTSIDER``: any other
    reader of a public partnership in force (``AGREEMENT_PUBLIC_FIELDS`` only)."""
    org = actor.organisation
    if not actor.is_authenticated or org is None:
        return Audience.OUTSIDER
    with through_access("one membership row of a partnership the caller already reads"):
        member = PartnershipMember.objects.filter(
            partnership=partnership, organisation=org, state__in=ACTIVE_MEMBER_STATES
        ).exists()
    return Audience.INSIDER if member else Audience.OUTSIDER


@through_access("a joint committee's members, members only")
def committee_members_visible_to(*, actor: Actor) -> QuerySet[CommitteeMember]:
    return CommitteeMember.objects.filter(partnership__in=partnership_member_of(actor=actor))


@through_access("a joint committee's meetings, members only")
def committee_meetings_visible_to(*, actor: Actor) -> QuerySet[CommitteeMeeting]:
    return CommitteeMeeting.objects.filter(partnership__in=partnership_member_of(actor=actor))


@through_access("a joint committee's decisions, members only")
def committee_decisions_visible_to(*, actor: Actor) -> QuerySet[CommitteeDecision]:
    return CommitteeDecision.objects.filter(partnership__in=partnership_member_of(actor=actor))


def agreement_reminder_recipients(partnership: Partnership) -> QuerySet[Organisation]:
    """Who is reminded of a review date: the partnership's confirmed member governments (active)."""
    with through_access("the confirmed members of a partnership, for its review reminder"):
        confirmed = PartnershipMember.objects.filter(partnership=partnership, state=MemberState.CONFIRMED).values(
            "organisation_id"
        )
        return Organisation.objects.active().filter(pk__in=confirmed)


def can_change_agreement(actor: Actor, membership: PartnershipMember | None) -> Decision:
    """Write the agreement or its committee: whoever may change the partnership (a confirmed
    member's officials and administrators)."""
    return can_change_partnership(actor, membership)


# --- Official records ------------------------------------------------------------------------
#
# A printable record has exactly the readers of the object's detail page: the
# listing's (``opportunities.access.listing_visible_to``), the partnership's
# (``partnership_visible_to``) and the match's (``match_visible_to``, agreed ones only:
# a record is of an agreement, not of a suggestion under discussion).


@through_access("the agreed matches whose record the actor may print")
def match_records_visible_to(*, actor: Actor) -> QuerySet[Match]:
    return match_visible_to(actor=actor).filter(state=MatchState.AGREED)


# --- Migration profiles --------------------------------------------------------------------
#
# A country's profile is its own: drafts are read by the owner alone. A published
# version, and the versions it superseded (as history), are read per visibility:
# ``members``, every signed-in organisation; ``public``, anyone. Its government's
# administrators and officials create profiles of their own country only, edit a
# draft in place, open the next version of a published one, publish a draft and
# delete a draft.

PROFILE_SHARED = (ProfileStatus.PUBLISHED, ProfileStatus.SUPERSEDED)


@through_access("the migration profile read rule")
def profile_visible_to(*, actor: Actor) -> QuerySet[MigrationProfile]:
    """Every profile version the actor may read (anything else is a 404)."""
    shared = Q(status__in=PROFILE_SHARED)
    if not actor.is_authenticated:
        return MigrationProfile.objects.filter(shared, visibility=ProfileVisibility.PUBLIC)
    return MigrationProfile.objects.filter(Q(owner=actor.organisation) | shared)


def profile_readers(profile: MigrationProfile) -> QuerySet[Organisation]:
    """The active organisations that may read a profile version."""
    everyone = Organisation.objects.active()
    return everyone if profile.status in PROFILE_SHARED else everyone.filter(pk=profile.owner_id)


def _profile_owner_editor(actor: Actor, profile: MigrationProfile) -> Decision:
    owns = actor.organisation is not None and profile.owner_id == actor.organisation.pk
    return (
        can_act_for_government(actor) if owns else deny(_("Only the country's own government may change its profile."))
    )


def can_create_profile(actor: Actor, country: str) -> Decision:
    return first_refusal(
        can_act_for_government(actor),
        ALLOWED
        if str(actor.country) == country
        else deny(_("A government creates migration profiles of its own country only.")),
    )


def can_edit_profile(actor: Actor, profile: MigrationProfile) -> Decision:
    """A draft changes in place; a published version's edit opens the next version as a draft."""
    if profile.status == ProfileStatus.SUPERSEDED:
        state = conflict(_("This version was superseded: edit the published version instead."))
    else:
        state = ALLOWED
    return first_refusal(_profile_owner_editor(actor, profile), state)


def can_publish_profile(actor: Actor, profile: MigrationProfile) -> Decision:
    return first_refusal(
        _profile_owner_editor(actor, profile),
        ALLOWED if profile.status == ProfileStatus.DRAFT else conflict(_("Only a draft can be published.")),
    )


def can_delete_profile(actor: Actor, profile: MigrationProfile) -> Decision:
    return first_refusal(
        _profile_owner_editor(actor, profile),
        ALLOWED
        if profile.status == ProfileStatus.DRAFT
        else conflict(_("Only a draft can be deleted; a published version stays as history.")),
    )


def can_edit_profile_rows(actor: Actor, profile: MigrationProfile) -> Decision:
    """A profile's rows (figures, skills rows) change while it is a draft (a published one:
    open its next version)."""
    return first_refusal(
        _profile_owner_editor(actor, profile),
        ALLOWED
        if profile.status == ProfileStatus.DRAFT
        else conflict(
            _(
                "The figures and skills rows of a published profile do not change: "
                "edit the profile to open its next version."
            )
        ),
    )


# One rule for every kind of row of a profile; the names say which rows a caller means.
can_edit_observations = can_edit_profile_rows
can_edit_skills = can_edit_profile_rows


# --- Suggestions from evidence ---------------------------------------------------------------
#
# A suggestion names two countries: a destination whose published profile reports a
# shortage and an origin whose published profile reports a surplus in the same ISCO
# group (exchange.profiles.suggestions). It is read by the governments of those two
# countries and by the agencies; their governments' administrators and officials
# dismiss it or act on it while it is open.


@through_access("the suggestion read rule")
def suggestion_visible_to(*, actor: Actor) -> QuerySet[Suggestion]:
    """The suggestions the actor may read (anything else is a 404)."""
    org = actor.organisation
    if not actor.is_authenticated or org is None or not org.is_active:
        return Suggestion.objects.none()
    if actor.is_agency:
        return Suggestion.objects.all()
    if not is_government(actor) or not actor.country:
        return Suggestion.objects.none()
    return Suggestion.objects.filter(Q(destination_country=actor.country) | Q(origin_country=actor.country))


def suggestion_parties(suggestion: Suggestion) -> QuerySet[Organisation]:
    """The active governments of a suggestion's two countries: who is told of it and decides on it."""
    countries = [str(suggestion.destination_country), str(suggestion.origin_country)]
    return Organisation.objects.active().filter(kind=OrganisationKind.GOVERNMENT, country__in=countries)


def suggestion_readers(suggestion: Suggestion) -> QuerySet[Organisation]:
    """The active organisations that may read a suggestion: its two countries' governments and the agencies."""
    countries = [str(suggestion.destination_country), str(suggestion.origin_country)]
    return Organisation.objects.active().filter(
        Q(kind=OrganisationKind.GOVERNMENT, country__in=countries) | Q(kind=OrganisationKind.AGENCY)
    )


def can_decide_suggestion(actor: Actor, suggestion: Suggestion) -> Decision:
    """Dismiss or act on: an administrator or official of either government, while it is open."""
    countries = (str(suggestion.destination_country), str(suggestion.origin_country))
    who = can_act_for_government(
        actor, reason=_("Only an official or an administrator of one of the two governments can do this.")
    )
    if who and actor.country not in countries:
        who = deny(_("Only the governments of the two countries of a suggestion decide on it."))
    state = (
        ALLOWED
        if suggestion.state == SuggestionState.OPEN
        else conflict(
            _("Only an open suggestion can be dismissed or acted on; this one is %(state)s.")
            % {"state": suggestion.get_state_display().lower()}
        )
    )
    return first_refusal(who, state)


# --- Corridors -------------------------------------------------------------------------------
#
# A corridor (exchange.corridors) sums the outcomes ledger of the destination's demand
# listings for one origin country. The ledger itself is read by the scheme's owner, its
# admitted origin governments and the agencies; the corridor's sums reach more readers,
# so they read the figures exact only if they are one of the corridor's two governments
# or agency staff, and through ``exchange.outcomes.ledger.small_cell`` otherwise.


@through_access("the corridor's outcome sums, shown per corridor_ledger_audience")
def corridor_outcome_totals(*, actor: Actor, origin: str, destination: str) -> QuerySet[OutcomeTotal]:
    """The ledger's sums of the corridor's schemes the actor may read (never its entries): the
    destination's demand listings the actor may read (``listing_visible_to``), for ``origin``; the
    sums are of the effective entries, kept by the database (``exchange.outcomes.totals``)."""
    schemes = listing_visible_to(actor=actor).filter(direction=Direction.DEMAND, owner_country=destination)
    return OutcomeTotal.objects.filter(listing__in=schemes, origin_country=origin, entries__gt=0)


def corridor_ledger_audience(actor: Actor, origin: str, destination: str) -> Audience:
    """``INSIDER`` (exact figures): the governments of the corridor's two countries and agency staff;
    ``OUTSIDER`` (``small_cell`` figures): every other reader."""
    org = actor.organisation
    if not actor.is_authenticated or org is None or not org.is_active:
        return Audience.OUTSIDER
    if actor.is_agency or (is_government(actor) and actor.country in (origin, destination)):
        return Audience.INSIDER
    return Audience.OUTSIDER


# --- Outcomes ledger -------------------------------------------------------------------------
#
# Each published demand listing (and, after it, the history of a closed, withdrawn or
# expired one) has a ledger; an agreed match's entries go to its demand listing's. The
# ledger is read by the listing's owner, the governments of the countries it *admits*
# (its allocations' and partner countries: "admitted origin governments") and the
# agencies, each only while it may read the listing itself. Every other government
# that reads the listing gets a 404 on its ledger. The owner's administrators and
# officials write for every origin; an admitted origin government's, for its own
# country only (docs/outcomes.md).


def admitted_countries(listing: Listing) -> list[str]:
    """The origin countries a listing admits: its allocations' and partner countries (never the owner's;
    ``opportunities.access.origin_countries``). A country whose government has not accepted a listing
    that requires its consent does not read the listing, so not its ledger either (the rules below
    start from the listing read rule)."""
    return [code for code in origin_countries(listing) if code and code != listing.owner_country]


def _has_ledger(listing: Listing) -> bool:
    return listing.direction == Direction.DEMAND and listing.status in PUBLISHED_OR_HISTORY


def _admits(code: str) -> Q:
    return Q(partner_countries__contains=[code]) | Q(allocations__contains=[{"country": code}])


@through_access("the ledger read rule")
def ledger_listings_visible_to(*, actor: Actor) -> QuerySet[Listing]:
    """The listings whose ledger the actor reads (any other listing's ledger is a 404)."""
    org = actor.organisation
    if not actor.is_authenticated or org is None or not org.is_active:
        return Listing.objects.none()
    readable = listing_visible_to(actor=actor).filter(PUBLISHED_ONCE, direction=Direction.DEMAND)
    if actor.is_agency:
        return readable
    if not is_government(actor):
        return readable.none()
    admitted = _admits(actor.country) & ~Q(owner_country=actor.country) if actor.country else Q(pk__in=[])
    return readable.filter(Q(owner=org) | admitted)


@through_access("the ledger read rule, for entries")
def outcome_entries_visible_to(*, actor: Actor) -> QuerySet[OutcomeEntry]:
    """Every ledger entry the actor reads, corrected ones included (the history)."""
    return OutcomeEntry.objects.filter(listing__in=ledger_listings_visible_to(actor=actor))


def outcome_readers(listing: Listing) -> QuerySet[Organisation]:
    """The active organisations that read a listing's ledger (none if it has no ledger)."""
    if not _has_ledger(listing):
        return Organisation.objects.none()
    governments = Q(kind=OrganisationKind.GOVERNMENT, country__in=admitted_countries(listing))
    ledger = Q(pk=listing.owner_id) | Q(kind=OrganisationKind.AGENCY) | governments
    return listing_readers(listing).filter(ledger)


def ledger_readable_by(actor: Actor, listing: Listing) -> bool:
    """Plain-Python form for a listing the actor already reads (pages: show the section or not)."""
    org = actor.organisation
    if not actor.is_authenticated or org is None or not org.is_active or not _has_ledger(listing):
        return False
    if actor.is_agency or listing.owner_id == org.pk:
        return True
    return is_government(actor) and actor.country in admitted_countries(listing)


LEDGER_WRITER = _(
    "Only the listing's owner, and each admitted origin government for its own country, record outcomes; "
    "administrators and officials only."
)


def can_record_outcomes(actor: Actor, listing: Listing, origin_country: str | None = None) -> Decision:
    """Record (or correct) entries of a listing's ledger; with ``origin_country``, for that origin.

    The owner's administrators and officials write for every origin; an admitted
    origin government's, for its own country only. Without ``origin_country`` the
    question is whether the actor writes for any origin (the form, the import).
    """
    writer = can_act_for_government(actor, reason=LEDGER_WRITER)
    if not writer:
        return writer
    if not _has_ledger(listing):
        return conflict(_("Only a published demand listing has an outcomes ledger."))
    if listing.owner_id == actor.org.pk:
        return ALLOWED
    if actor.country not in admitted_countries(listing):
        return deny(LEDGER_WRITER)
    if origin_country is not None and origin_country != actor.country:
        return deny(_("An origin government records outcomes for its own country only."))
    return ALLOWED


@through_access("the agreed matches of a listing whose ledger the caller resolved through the ledger rule")
def agreed_matches_of(listing: Listing) -> QuerySet[Match]:
    """The agreed matches whose outcomes go to this (demand) listing's ledger."""
    return Match.objects.filter(demand=listing, state=MatchState.AGREED)


def can_see_reporter(actor: Actor, entry: OutcomeEntry) -> bool:
    """Who reported an entry (a person's name and e-mail): the reporting organisation's own
    members and the agencies' staff; the other government of the scheme sees the organisation."""
    org = actor.organisation
    return org is not None and (actor.is_agency or entry.organisation_id == org.pk)
