"""Who may read a listing, and who may do what with it: the one place these rules live.

**Reading** (one rule, three shapes that a property test holds to each other):

* ``listing_visible_to(actor)``: every listing the actor may read, as a queryset;
* ``listing_readers(listing)``: the same rule turned around, the organisations that
  may read one listing. The notifications of ``listing.published`` and the
  matching engine take their recipients and candidates from it;
* ``listing_readable_by(listing, organisation)``: the same rule for one pair, in
  plain Python.

The rule: a **draft** is the owner's alone; a listing **in moderation**
(submitted, changes requested, rejected) is the owner's and the agencies'
moderators'; a **published** listing, and afterwards a closed, withdrawn or
expired one (as history), is read according to its ``visibility``: ``members``,
every signed-in organisation; ``partners``, the owner, the agencies and the
governments of the partner countries; ``public``, anyone, signed in or not.
Inactive organisations read nothing.

**Private parts of a shared listing.** A published listing is shared, but its
moderation feedback (the reasons of requested changes, rejections and revision
decisions, and who the moderators were), its revisions (pending or decided) and
its full transition history belong to its **insiders**: the owner's members and
the agencies' staff. Every other reader is an **outsider** and gets the public
part only: when it was published, closed, withdrawn or expired.
``listing_audience`` says which; serializers and pages render per audience.

**Doing**: every permission question is a function returning an
``accounts.access.Decision`` (``can_post``, ``can_edit``, ``can_delete``,
``can_transition`` and its named forms, ``can_moderate``, ``can_see_revisions``,
``can_see_moderation_feedback``). ``opportunities.services`` raises from them;
the pages show a button only when the same function allows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.lookups import Overlap
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
    is_agency_staff,
    is_moderator,
)
from accounts.models import Organisation, OrganisationKind, Role
from accounts.tenancy import Actor, through_access
from opportunities import safeguards
from opportunities.models import (
    IN_MODERATION,
    OPEN_TO_ALL,
    PUBLISHED_OR_HISTORY,
    ConsentStatus,
    Direction,
    Listing,
    ListingRevision,
    ListingStatus,
    ListingTransition,
    ListingTranslation,
    OccupationLine,
    OriginConsent,
    RevisionStatus,
    Visibility,
    open_countries,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The shared models this module decides access to (tests/test_model_coverage.py):
# every model that carries or points at an organisation is either scoped to one
# organisation or named in an access module's SHARED_MODELS.
SHARED_MODELS = {
    Listing: "read per visibility: listing_visible_to, listing_readers",
    OccupationLine: "part of its listing, read through the listing",
    ListingTransition: "a listing's history, per audience: listing_history (SharedManager)",
    ListingRevision: "a listing's revisions, insiders only: listing_revisions (SharedManager)",
    OriginConsent: "a listing's consents: its owner, the agencies and the origin government (SharedManager)",
    ListingTranslation: "part of its listing, read with the listing (SharedManager)",
}

# --- Reading ------------------------------------------------------------------------------------

SHARED_VISIBILITIES = (Visibility.MEMBERS, Visibility.PUBLIC)


def _readable(organisation: Organisation, *, moderates: bool) -> Q:
    """Listings an organisation reads (``moderates``: through an agency moderator)."""
    published = PUBLISHED_ONCE
    if organisation.kind == OrganisationKind.AGENCY:
        visible = published | Q(status__in=IN_MODERATION) if moderates else published
    else:
        country = str(organisation.country)
        visible = (
            published
            & (
                Q(visibility__in=SHARED_VISIBILITIES)
                | Q(visibility=Visibility.PARTNERS, partner_countries__contains=[country])
            )
            & consent_admits(country)
        )
    return Q(owner=organisation) | visible


@through_access("the listing read rule")
def listing_visible_to(*, actor: Actor) -> QuerySet[Listing]:
    """Every listing the actor may read (anything else is a 404)."""
    if not actor.is_authenticated or actor.organisation is None or not actor.organisation.is_active:
        return Listing.objects.filter(PUBLISHED_ONCE, visibility=Visibility.PUBLIC)
    return Listing.objects.filter(_readable(actor.org, moderates=actor.role == Role.MODERATOR))


def listing_read_key(actor: Actor) -> tuple[Any, ...]:
    """Everything of the actor that ``listing_visible_to`` (and the tenant scope it runs in)
    reads: actors with the same key get the same SQL, so a statement compiled for one
    serves the others (``config.statements``; the listing detail). Change it with the rule."""
    org = actor.organisation
    if org is None:
        return (actor.is_authenticated,)
    return (actor.is_authenticated, org.pk, org.kind, str(org.country), org.is_active, actor.role)


@through_access("the listing read rule, for one organisation")
def listings_readable_by_organisation(organisation: Organisation) -> QuerySet[Listing]:
    """What an organisation reads through any of its members (for matching: its most able role)."""
    if not organisation.is_active:
        return Listing.objects.none()
    return Listing.objects.filter(_readable(organisation, moderates=True))


def listing_readers(listing: Listing) -> QuerySet[Organisation]:
    """The active organisations that may read ``listing`` (an agency through its moderators)."""
    readers = Q(pk=listing.owner_id)
    if listing.status in PUBLISHED_OR_HISTORY:
        gate = _consent_readers(listing)
        if listing.visibility in SHARED_VISIBILITIES:
            readers = Q() if gate is None else readers | gate
        else:
            shared = Q(kind=OrganisationKind.AGENCY) | Q(
                kind=OrganisationKind.GOVERNMENT, country__in=list(listing.partner_countries)
            )
            readers |= shared if gate is None else shared & gate
    elif listing.status in IN_MODERATION:
        readers |= Q(kind=OrganisationKind.AGENCY)
    return Organisation.objects.active().filter(readers)


def listing_readable_by(listing: Listing, organisation: Organisation) -> bool:
    """``listing_readers`` for one organisation, in plain Python (the property tests' oracle)."""
    if not organisation.is_active:
        return False
    if listing.owner_id == organisation.pk:
        return True
    if listing.status in PUBLISHED_OR_HISTORY:
        return (
            listing.visibility in SHARED_VISIBILITIES
            or organisation.kind == OrganisationKind.AGENCY
            or str(organisation.country) in listing.partner_countries
        ) and consent_admits_organisation(listing, organisation)
    return listing.status in IN_MODERATION and organisation.kind == OrganisationKind.AGENCY


def listing_is_public(listing: Listing) -> bool:
    """Readable by anyone, signed in or not (the public pages, the Atom feed, JSON-LD)."""
    return listing.status in PUBLISHED_OR_HISTORY and listing.visibility == Visibility.PUBLIC


# --- What is live, and what is open to whom ------------------------------------------------------
#
# The system's own readers (matching, expiry, the daily sweeps) work on every live
# listing whatever its visibility; who may *see* what they produce is decided by the
# rules above. The filters and the matching engine ask what "open to a country"
# means here, once.

LIVE = Q(status=ListingStatus.PUBLISHED)
# Published now, or once and since closed, withdrawn or expired: what readers other than the
# owner may ever see of a listing, and what figures (statistics, corridors, ledgers) count.
PUBLISHED_ONCE = Q(status__in=PUBLISHED_OR_HISTORY)


@through_access("the live listings, for the system's own tasks (matching, expiry, sweeps)")
def live_listings() -> QuerySet[Listing]:
    """Every published listing, whatever its visibility (callers are system tasks, unscoped)."""
    return Listing.objects.filter(LIVE)


def naming_country(code: str) -> Q:
    """A listing a country takes part in by name: its owner's country, or one of its partners
    (not the listings open to all: a corridor is between two named countries)."""
    return Q(owner_country=code) | Q(partner_countries__contains=[code])


def open_to_country(code: str) -> Q:
    """A listing open to a country: named among its partners, or open to all; never its owner's own;
    and, when it recruits only with the origin government's agreement, agreed to by that country."""
    return Q(Overlap(open_countries(), [code, OPEN_TO_ALL])) & ~Q(owner_country=code) & consent_admits(code)


# --- Origin-government consent (as in Germany's Triple Win) -------------------------------------
#
# A demand listing that ``requires_origin_consent`` admits an origin country it recruits
# from only once that country's government has accepted (an ``OriginConsent``, created
# ``pending`` for each of them when the listing is published). Until then, and for
# good if it refuses, that country's governments do not read the listing, are not
# matched with it and hear nothing of it. Countries it does not recruit from (a third
# destination reading a members-visible scheme) are not concerned.


def origin_countries(listing: Listing) -> list[str]:
    """The origin countries a listing recruits from: its partners and its allocations' countries."""
    allocated = (str(row.get("country") or "") for row in listing.allocations or [])
    return sorted({*(str(code) for code in listing.partner_countries), *(code for code in allocated if code)})


@through_access("the origin governments' consents, inside the listing read rule")
def _accepted(country: Any) -> Exists:
    return Exists(OriginConsent.objects.filter(listing=OuterRef("pk"), country=country, status=ConsentStatus.ACCEPTED))


def consent_admits(code: str) -> Q:
    """Listings that admit a country as far as consent goes (one ``Exists``, no extra query)."""
    concerned = Q(requires_origin_consent=True, partner_countries__contains=[code])
    return ~concerned | Q(_accepted(code))


@through_access("the origin governments' consents, inside the listing read rule")
def _consent_readers(listing: Listing) -> Q | None:
    """The organisations a listing's consents let read it (None: it needs no consent)."""
    if not listing.requires_origin_consent:
        return None
    accepted = OriginConsent.objects.filter(listing=listing, status=ConsentStatus.ACCEPTED).values("country")
    concerned = Q(kind=OrganisationKind.GOVERNMENT, country__in=list(listing.partner_countries))
    return ~concerned | Q(country__in=accepted)


@through_access("the origin governments' consents, inside the listing read rule")
def consent_admits_organisation(listing: Listing, organisation: Organisation) -> bool:
    """``consent_admits`` for one listing and one organisation, in plain Python."""
    country = str(organisation.country)
    if (
        not listing.requires_origin_consent
        or listing.owner_id == organisation.pk
        or organisation.kind != OrganisationKind.GOVERNMENT
        or country not in listing.partner_countries
    ):
        return True
    return OriginConsent.objects.filter(listing=listing, country=country, status=ConsentStatus.ACCEPTED).exists()


def _origin_government(actor: Actor) -> str | None:
    """The country whose government the actor acts for (None for agencies and the anonymous)."""
    if not actor.is_authenticated or actor.organisation is None or not actor.organisation.is_active:
        return None
    if actor.organisation.kind != OrganisationKind.GOVERNMENT:
        return None
    return str(actor.organisation.country)


def origin_governments(country: str) -> QuerySet[Organisation]:
    """The active governments of an origin country: who is asked, and who decides (its admins and officials)."""
    return Organisation.objects.active().filter(kind=OrganisationKind.GOVERNMENT, country=country)


@through_access("the listings an origin government is asked about, with the listings it reads")
def consent_listings_visible_to(*, actor: Actor) -> QuerySet[Listing]:
    """The listings whose consents the actor may read: those it reads, and those that ask its
    government's consent (which it does not read until it accepts)."""
    readable = listing_visible_to(actor=actor)
    country = _origin_government(actor)
    if country is None:
        return readable
    asked = Exists(OriginConsent.objects.filter(listing=OuterRef("pk"), country=country))
    return Listing.objects.filter(Q(pk__in=readable.values("pk")) | Q(asked, status__in=PUBLISHED_OR_HISTORY))


@through_access("a listing's consents: the owner and the agencies read all, an origin government its own")
def listing_consents(actor: Actor, listing: Listing) -> QuerySet[OriginConsent]:
    """The consents of one listing the actor may read (the caller found the listing through
    ``consent_listings_visible_to``)."""
    consents = OriginConsent.objects.filter(listing=listing).order_by("country")
    if _is_owner(actor, listing) or is_agency_staff(actor):
        return consents
    country = _origin_government(actor)
    return consents.filter(country=country) if country else consents.none()


@through_access("the consents an origin government is asked for")
def consents_of_government(*, actor: Actor) -> QuerySet[OriginConsent]:
    """The consents the actor's government is asked for, pending and decided (none for others)."""
    country = _origin_government(actor)
    if country is None:
        return OriginConsent.objects.none()
    return OriginConsent.objects.filter(country=country, listing__status__in=PUBLISHED_OR_HISTORY)


def can_see_consents(actor: Actor, listing: Listing) -> Decision:
    """The owner and the agencies see every consent's state (the listing page, the moderation review)."""
    return ALLOWED if listing_audience(actor, listing) is Audience.INSIDER else deny(INSIDERS_ONLY)


def can_decide_consent(actor: Actor, consent: OriginConsent) -> Decision:
    """The origin government's administrators and officials accept or refuse, once, while the listing is live."""
    if _origin_government(actor) != consent.country or actor.role not in (Role.ADMIN, Role.OFFICIAL):
        return deny(_("Only an administrator or official of the origin country's government may decide this."))
    if consent.status != ConsentStatus.PENDING:
        return conflict(_("This consent was already %(status)s.") % {"status": consent.get_status_display().lower()})
    if consent.listing.status != ListingStatus.PUBLISHED:
        return conflict(_("The listing is no longer published."))
    return ALLOWED


def consent_needs_partners(direction: str, requires_origin_consent: bool, partners: list[str]) -> StrOrPromise:
    """Why a listing body cannot ask for origin consent ("" if it can): the field rule, for inputs."""
    if not requires_origin_consent:
        return ""
    if direction != Direction.DEMAND:
        return _("Only a destination's demand listing can require the origin government's agreement.")
    if not partners:
        return _(
            "A listing that requires the origin government's agreement names the origin countries it recruits "
            "from (partner_countries)."
        )
    return ""


# --- The WHO health workforce safeguard list ------------------------------------------------------


def safeguard_flag(listing: Listing) -> safeguards.SafeguardFlag | None:
    """The WHO-list flag of a listing, if it recruits health workers from a listed country."""
    return safeguards.flag_listing(listing)


def can_publish_under_safeguards(flag: safeguards.SafeguardFlag | None) -> Decision:
    """A flagged listing is published only if it names a government-to-government agreement."""
    if flag is None or flag.satisfied:
        return ALLOWED
    return conflict(flag.refusal)


def can_see_safeguard_flag(actor: Actor, listing: Listing) -> bool:
    """The flag is for the owner and the agencies (the moderator reviews it)."""
    return listing_audience(actor, listing) is Audience.INSIDER


def awaiting_moderation(*, pending_revision_since: str) -> Q:
    """What waits for a moderator: a submission, or a published listing's pending revision
    (``pending_revision_since``: the name of an annotation holding that revision's date)."""
    return Q(status=ListingStatus.SUBMITTED) | (LIVE & Q(**{f"{pending_revision_since}__isnull": False}))


def awaiting_owner(*, latest_revision_status: str) -> Q:
    """What waits for its owner: a draft, a listing sent back, or a published listing whose
    latest revision was sent back (``latest_revision_status``: an annotation's name)."""
    sent_back = Q(**{latest_revision_status: RevisionStatus.CHANGES_REQUESTED})
    return Q(status__in=(ListingStatus.CHANGES_REQUESTED, ListingStatus.DRAFT)) | (LIVE & sent_back)


# --- Private parts of a shared listing ----------------------------------------------------------


class Audience(Enum):
    INSIDER = "insider"  # the owner's members and the agencies' staff: everything
    OUTSIDER = "outsider"  # every other reader: the public part


def _is_owner(actor: Actor, listing: Listing) -> bool:
    return actor.organisation is not None and listing.owner_id == actor.organisation.pk


def listing_audience(actor: Actor, listing: Listing) -> Audience:
    """Which part of a listing the actor reads (the caller already found it visible)."""
    return Audience.INSIDER if _is_owner(actor, listing) or is_agency_staff(actor) else Audience.OUTSIDER


INSIDERS_ONLY = _("Only the owner and the international agencies see this.")


def can_see_moderation_feedback(actor: Actor, listing: Listing) -> Decision:
    """Reasons given by moderators, and who they were."""
    return ALLOWED if listing_audience(actor, listing) is Audience.INSIDER else deny(INSIDERS_ONLY)


def can_see_revisions(actor: Actor, listing: Listing) -> Decision:
    """The proposed edits of a published listing, pending or decided."""
    return ALLOWED if listing_audience(actor, listing) is Audience.INSIDER else deny(INSIDERS_ONLY)


# The steps of a listing's life every reader may know of, with their dates.
PUBLIC_STEPS = PUBLISHED_OR_HISTORY


@through_access("a listing's history as the reader may read it")
def listing_history(actor: Actor, listing: Listing) -> QuerySet[ListingTransition]:
    """The listing's transitions as the actor may read them, oldest first.

    Insiders read every step with who acted and why; outsiders read when the
    listing was published, closed, withdrawn or expired (their serializer and the
    page drop the people and the reasons).
    """
    transitions = ListingTransition.objects.filter(listing=listing).select_related("actor", "organisation")
    if listing_audience(actor, listing) is Audience.INSIDER:
        return transitions.order_by("created_at", "id")
    return (
        transitions.filter(to_status__in=PUBLIC_STEPS)
        .exclude(from_status__in=PUBLIC_STEPS)
        .order_by("created_at", "id")
    )


@through_access("a listing's revisions, for the owner and the agencies")
def listing_revisions(actor: Actor, listing: Listing) -> QuerySet[ListingRevision]:
    """The proposed edits of a listing, newest first; none for outsiders."""
    if not can_see_revisions(actor, listing):
        return ListingRevision.objects.none()
    return ListingRevision.objects.filter(listing=listing).order_by("-created_at")


def pending_revision(actor: Actor, listing: Listing) -> ListingRevision | None:
    return listing_revisions(actor, listing).filter(status=RevisionStatus.PENDING).select_related("created_by").first()


@through_access("the moderator's reason, for the owner and the agencies")
def changes_requested_reason(actor: Actor, listing: Listing) -> str:
    """Why a moderator sent the listing back (empty unless it is sent back and the actor may know)."""
    if listing.status != ListingStatus.CHANGES_REQUESTED or not can_see_moderation_feedback(actor, listing):
        return ""
    step = ListingTransition.objects.filter(listing=listing, action="request_changes").order_by("-created_at", "-id")
    first = step.first()
    return first.reason if first else ""


@through_access("per-row moderation feedback of listings the caller has limited to insiders' views")
def feedback_rows() -> tuple[QuerySet[ListingTransition], QuerySet[ListingRevision]]:
    """Every listing's transitions and revisions, for subqueries and prefetches over a list.

    Only for lists an insider reads (the owner's dashboard, the moderation queue) or
    whose rows the serializer then shows per audience (``can_see_revisions``).
    """
    return ListingTransition.objects.all(), ListingRevision.objects.all()


@through_access("a listing's translations, read with the listing")
def translation_rows() -> QuerySet[ListingTranslation]:
    """Listings' translations, for prefetches and subqueries over listings already read
    through ``listing_visible_to`` (or filtered to one such listing): whoever reads a
    listing reads its text in every language, and nobody else does."""
    return ListingTranslation.objects.all()


# --- Doing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One move of the moderation workflow: from which states, to which, by whom."""

    sources: tuple[str, ...]
    target: str
    who: str  # "owner" or "moderator"
    needs_reason: bool = False


WORKFLOW: dict[str, Step] = {
    "submit": Step((ListingStatus.DRAFT, ListingStatus.CHANGES_REQUESTED), ListingStatus.SUBMITTED, "owner"),
    "approve": Step((ListingStatus.SUBMITTED,), ListingStatus.PUBLISHED, "moderator"),
    "request_changes": Step((ListingStatus.SUBMITTED,), ListingStatus.CHANGES_REQUESTED, "moderator", True),
    "reject": Step((ListingStatus.SUBMITTED,), ListingStatus.REJECTED, "moderator", True),
    "withdraw": Step((ListingStatus.PUBLISHED,), ListingStatus.WITHDRAWN, "owner"),
    "close": Step((ListingStatus.PUBLISHED,), ListingStatus.CLOSED, "owner"),
}
OWNER_STEPS = {name: step for name, step in WORKFLOW.items() if step.who == "owner"}
MODERATOR_STEPS = {name: step for name, step in WORKFLOW.items() if step.who == "moderator"}
EDITABLE = (ListingStatus.DRAFT, ListingStatus.CHANGES_REQUESTED, ListingStatus.PUBLISHED)


def can_post(actor: Actor) -> Decision:
    """A government's administrators and officials post listings."""
    return can_act_for_government(
        actor, reason=_("Only an administrator or official of a government may post listings.")
    )


def _owner_editor(actor: Actor, listing: Listing, reason: StrOrPromise) -> Decision:
    if not _is_owner(actor, listing) or actor.role not in (Role.ADMIN, Role.OFFICIAL):
        return deny(reason)
    return ALLOWED


def can_edit(actor: Actor, listing: Listing) -> Decision:
    """The owner's administrators and officials edit a draft, a listing sent back, or a published one
    (as a revision, which goes to moderation: only while their organisation is in good standing)."""
    return first_refusal(
        _owner_editor(actor, listing, _("Only the owner's administrators and officials may edit a listing.")),
        can_act_in_standing(actor) if listing.status == ListingStatus.PUBLISHED else ALLOWED,
        ALLOWED
        if listing.status in EDITABLE
        else conflict(_("A %(status)s listing cannot be edited.") % {"status": listing.get_status_display().lower()}),
    )


def can_delete(actor: Actor, listing: Listing) -> Decision:
    """Only a draft is deleted (by the owner's administrators and officials); anything else is history."""
    return first_refusal(
        _owner_editor(actor, listing, _("Only the owner's administrators and officials may delete a listing.")),
        ALLOWED
        if listing.status == ListingStatus.DRAFT
        else conflict(_("Only a draft can be deleted; withdraw or close a published listing instead.")),
    )


def can_moderate(actor: Actor, listing: Listing) -> Decision:
    """Agency moderators decide on listings; an owner never decides on its own."""
    if not is_moderator(actor) or _is_owner(actor, listing):
        return deny(_("Only a moderator of an international agency may do this."))
    return ALLOWED


def can_transition(actor: Actor, listing: Listing, action: str) -> Decision:
    """May the actor take ``action`` (a ``WORKFLOW`` step) on the listing as it stands?

    A moderator's step on a published listing decides its pending revision
    instead (the service checks under its lock that one is pending).
    """
    step = WORKFLOW[action]
    if step.who == "owner":
        who = _owner_editor(actor, listing, _("Only the owner's administrators and officials may do this."))
    else:
        who = can_moderate(actor, listing)
        if who and listing.status == ListingStatus.PUBLISHED:
            return ALLOWED
    if not who:
        return who
    if action == "submit":  # submitting for publication: a verified organisation only
        standing = can_act_in_standing(actor)
        if not standing:
            return standing
    if listing.status not in step.sources:
        return conflict(
            _("Cannot %(action)s a listing that is %(status)s.")
            % {"action": action.replace("_", " "), "status": listing.get_status_display().lower()}
        )
    if step.target == ListingStatus.PUBLISHED:
        return can_publish_under_safeguards(safeguard_flag(listing))
    return ALLOWED


def can_submit(actor: Actor, listing: Listing) -> Decision:
    return can_transition(actor, listing, "submit")


def can_withdraw(actor: Actor, listing: Listing) -> Decision:
    return can_transition(actor, listing, "withdraw")


def can_close(actor: Actor, listing: Listing) -> Decision:
    return can_transition(actor, listing, "close")
