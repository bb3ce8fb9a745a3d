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

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, OrganisationKind, Role
from accounts.tenancy import WRITING_ROLES, Actor
from config.errors import StateConflict


@dataclass(frozen=True)
class Decision:
    """The answer to "may this actor do this?": allowed, or why not (403 or 409)."""

    allowed: bool
    reason: str | Promise = ""
    conflict: bool = False  # refused because of the object's state, not the actor's role

    def __bool__(self) -> bool:
        return self.allowed

    def check(self) -> None:
        """Raise ``StateConflict`` (409) or ``PermissionDenied`` (403) unless allowed."""
        if self.allowed:
            return
        if self.conflict:
            raise StateConflict(str(self.reason))
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
