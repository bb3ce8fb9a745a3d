"""What an access rule answers, and the rules about actors themselves.

Every rule of who may read or do what lives in one access module per domain:
``accounts.access`` (here: the decision type, and what a role may do anywhere),
``opportunities.access`` (listings, their revisions and history) and
``exchange.access`` (matches, their dialogue, partnerships). Services raise from
these decisions, views and templates render buttons from them, tasks and
notifications pick their recipients from them; nothing else restates a rule
(docs/architecture.md, "The access layer").

A permission question returns a ``Decision``: truthy when allowed, otherwise
carrying the reason a person is shown and whether the refusal is about *who*
asks (403) or about the object's *state* (409). ``decision.check()`` raises the
matching exception, so the service and the page say the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import (
    Membership,
    Organisation,
    OrganisationKind,
    OrganisationReview,
    Role,
    VerificationAction,
    VerificationStatus,
)
from accounts.tenancy import WRITING_ROLES, Actor, unscoped
from config.errors import Refusal, StateConflict

if TYPE_CHECKING:
    from accounts.models import User
    from accounts.privacy import Holdings


@dataclass(frozen=True)
class Decision:
    """The answer to "may this actor do this?": allowed, or why not (403 or 409)."""

    allowed: bool
    reason: str | Promise = ""
    conflict: bool = False  # refused because of the object's state, not the actor's role
    code: str = ""  # a machine-readable refusal the API's JSON error carries (e.g. organisation_pending)

    def __bool__(self) -> bool:
        return self.allowed

    def check(self) -> None:
        """Raise ``StateConflict`` (409) or ``PermissionDenied`` (403) unless allowed."""
        if self.allowed:
            return
        if self.conflict:
            raise StateConflict(str(self.reason))
        if self.code:
            raise Refusal(str(self.reason), code=self.code)
        raise PermissionDenied(str(self.reason))


ALLOWED = Decision(True)


def deny(reason: str | Promise) -> Decision:
    """Refused because of who is asking (403)."""
    return Decision(False, reason)


def conflict(reason: str | Promise) -> Decision:
    """Refused because of the object's state (409)."""
    return Decision(False, reason, conflict=True)


def first_refusal(*decisions: Decision) -> Decision:
    """The first refusal among ``decisions``, or ``ALLOWED`` (checks in order of importance)."""
    return next((decision for decision in decisions if not decision), ALLOWED)


# --- What a role may do anywhere ----------------------------------------------------------------


def is_government(actor: Actor) -> bool:
    return actor.organisation is not None and actor.organisation.kind == OrganisationKind.GOVERNMENT


def is_agency_staff(actor: Actor) -> bool:
    """Any member of an international agency (moderators, administrators, viewers)."""
    return actor.is_authenticated and actor.is_agency


def is_moderator(actor: Actor) -> bool:
    return is_agency_staff(actor) and actor.role == Role.MODERATOR


GOVERNMENT_WRITER = _("Only an official or an administrator of a government can do this.")


def can_act_for_government(actor: Actor, *, reason: str | Promise = GOVERNMENT_WRITER) -> Decision:
    """An official or administrator of a government: who posts, subscribes and negotiates."""
    if not is_government(actor) or actor.role not in (Role.ADMIN, Role.OFFICIAL):
        return deny(reason)
    return ALLOWED


# --- An organisation's standing: verification by the agencies -----------------------------------
#
# A new organisation is ``pending`` until an agency moderator verifies it; a moderator can
# suspend it (with a reason) and reinstate it (EU Talent Pool Regulation (EU) 2026/1047:
# organisations are verified, and can be suspended or removed). Members of a pending or
# suspended government read as before but cannot act on the exchange: submit listings,
# express interest or take part in a match's dialogue, create alert subscriptions, create
# or join partnerships. Agencies are not gated: they are the ones who verify.

STANDING_LIMITS = _(
    "Its members can read everything as before, but cannot submit listings, express interest, "
    "send messages, create alert subscriptions or join partnerships."
)


def organisation_standing(organisation: Organisation | None) -> Decision:
    """Whether an organisation's standing lets its members act on the exchange (403 with a ``code`` if not)."""
    if organisation is None or organisation.kind == OrganisationKind.AGENCY:
        return ALLOWED
    if organisation.verification_status == VerificationStatus.PENDING:
        return Decision(
            False,
            _(
                "Your organisation is pending verification by an agency: a moderator of an international "
                "agency has not yet checked it. %(limits)s"
            )
            % {"limits": STANDING_LIMITS},
            code="organisation_pending",
        )
    if organisation.verification_status == VerificationStatus.SUSPENDED:
        why = organisation.suspension_reason.strip().rstrip(".") or _("no reason recorded")
        return Decision(
            False,
            _("Your organisation is suspended: %(reason)s. Until an agency reinstates it: %(limits)s")
            % {"reason": why, "limits": STANDING_LIMITS},
            code="organisation_suspended",
        )
    return ALLOWED


def can_act_in_standing(actor: Actor) -> Decision:
    """The actor's organisation is in good standing (verified, or an agency): asked by every rule
    that submits, expresses interest, messages, subscribes or joins a partnership."""
    return organisation_standing(actor.organisation)


# The moves a moderator makes on an organisation's standing: from which states, to which.
STANDING_STEPS: dict[str, tuple[tuple[str, ...], str]] = {
    VerificationAction.VERIFY: ((VerificationStatus.PENDING,), VerificationStatus.VERIFIED),
    VerificationAction.SUSPEND: (
        (VerificationStatus.PENDING, VerificationStatus.VERIFIED),
        VerificationStatus.SUSPENDED,
    ),
    VerificationAction.REINSTATE: ((VerificationStatus.SUSPENDED,), VerificationStatus.VERIFIED),
}
# A suspension must say why: the members are shown it.
STANDING_NEEDS_REASON = frozenset({VerificationAction.SUSPEND})


def can_change_standing(actor: Actor, organisation: Organisation) -> Decision:
    """Verify, suspend, reinstate: a moderator of an international agency, never on its own agency."""
    if not is_moderator(actor):
        return deny(_("Only a moderator of an international agency may verify, suspend or reinstate organisations."))
    if actor.organisation is not None and actor.organisation.pk == organisation.pk:
        return deny(_("An agency does not decide on its own standing."))
    return ALLOWED


def can_review_organisation(actor: Actor, organisation: Organisation, action: str) -> Decision:
    """May the actor take ``action`` (a ``STANDING_STEPS`` key) on the organisation as it stands?"""
    who = can_change_standing(actor, organisation)
    if not who:
        return who
    sources, _target = STANDING_STEPS[action]
    if organisation.verification_status not in sources:
        return conflict(
            _("Cannot %(action)s an organisation that is %(status)s.")
            % {"action": action, "status": organisation.get_verification_status_display().lower()}
        )
    return ALLOWED


def can_see_suspension_reason(actor: Actor, organisation: Organisation) -> bool:
    """Why an organisation is suspended: its own members and the agencies' staff only."""
    own = actor.organisation is not None and actor.organisation.pk == organisation.pk
    return actor.is_authenticated and (own or is_agency_staff(actor))


def organisation_reviews(actor: Actor, organisation: Organisation) -> list[OrganisationReview]:
    """The verification decisions on an organisation, oldest first: for the agencies' staff and
    the organisation's own members; nobody else (an empty list)."""
    if not can_see_suspension_reason(actor, organisation):
        return []
    with unscoped("an organisation's verification decisions, read by the agencies or its own members"):
        return list(
            OrganisationReview.objects.filter(organisation=organisation)
            .select_related("actor")
            .order_by("created_at", "id")
        )


# --- Single sign-on ([12]) --------------------------------------------------------------------


def can_configure_single_sign_on(actor: Actor) -> Decision:
    """The administrators of an organisation set up its own single sign-on, and nobody else.

    The settings page reads and writes the acting organisation's row only, so "of that
    organisation" is the actor's own; another organisation's settings have no address.
    """
    if not actor.is_authenticated or not actor.is_admin:
        return deny(_("Only an administrator of the organisation can change its single sign-on."))
    return ALLOWED


# --- Offboarding: who may remove whom, and who may take over what they owned --------------------

LAST_ADMIN = _("An organisation must keep at least one administrator.")


def other_admins(membership: Membership) -> QuerySet[Membership]:
    """The administrators of ``membership``'s organisation other than its holder."""
    return Membership.objects.filter(organisation_id=membership.organisation_id, role=Role.ADMIN).exclude(
        pk=membership.pk
    )


def can_offboard(actor: Actor, membership: Membership) -> Decision:
    """An administrator removes a member of their own organisation (themselves included),
    never its last administrator (409): an organisation without one could not be run."""
    if not actor.is_admin or actor.organisation is None or membership.organisation_id != actor.organisation.pk:
        return deny(_("Only an administrator of the organisation can remove its members."))
    if membership.role == Role.ADMIN and not other_admins(membership).exists():
        return conflict(LAST_ADMIN)
    return ALLOWED


def transfer_targets(membership: Membership) -> QuerySet[Membership]:
    """Who may take over what a departing member owns (their listings, subscriptions,
    partnerships, the focal point): another active member of the same organisation whose
    role writes (an official or administrator; an agency's moderator or administrator),
    since a viewer could not act on what they would receive. Evaluated in the scope of
    the organisation, like every membership query."""
    return (
        Membership.objects.filter(
            organisation_id=membership.organisation_id, role__in=WRITING_ROLES, user__is_active=True
        )
        .exclude(pk=membership.pk)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


# --- A person's own data (issue 16; docs/governance.md "Personal data: export and erasure") ---


def can_export_personal_data(*, requested_by: User | None, subject: User) -> Decision:
    """A person downloads their own data, nobody else's (not even their administrator)."""
    if requested_by is None or requested_by.pk != subject.pk:
        return deny(_("You can only download your own data."))
    return ALLOWED


def can_erase_account(*, subject: User, holdings: Holdings, requested_by: User | None) -> Decision:
    """A person asks for their own account's erasure (``requested_by`` is them), or an
    operator erases it (``requested_by`` None: ``manage.py eraseuser``). Either way it waits
    (409) while the person is an organisation's last administrator or its focal point, or
    still holds live listings, active subscriptions or open partnerships: those are
    handed to someone else first, so nothing is left without a person behind it."""
    if requested_by is not None and requested_by.pk != subject.pk:
        return deny(_("You can only erase your own account."))
    if not holdings:
        return ALLOWED
    reasons = []
    if holdings.last_admin_of:
        reasons.append(
            _("You are the last administrator of %(orgs)s: make someone else an administrator first.")
            % {"orgs": ", ".join(holdings.last_admin_of)}
        )
    if holdings.focal_point_of:
        reasons.append(
            _("You are the focal point of %(orgs)s: an administrator must name another focal point first.")
            % {"orgs": ", ".join(holdings.focal_point_of)}
        )
    if holdings.listings:
        reasons.append(
            _("You created, or are the contact for, listings still open: %(items)s. Close them or hand them over.")
            % {"items": ", ".join(holdings.listings)}
        )
    if holdings.subscriptions:
        reasons.append(
            _("You created alerts still active: %(items)s. Delete them or hand them over.")
            % {"items": ", ".join(holdings.subscriptions)}
        )
    if holdings.partnerships:
        reasons.append(
            _("You created partnerships still open: %(items)s. Hand them over first.")
            % {"items": ", ".join(holdings.partnerships)}
        )
    return conflict(" ".join(str(reason) for reason in reasons))
