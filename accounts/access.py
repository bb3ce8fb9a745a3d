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
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import OrganisationKind, Role
from accounts.tenancy import Actor
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


# --- Single sign-on ([12]) --------------------------------------------------------------------


def can_configure_single_sign_on(actor: Actor) -> Decision:
    """The administrators of an organisation set up its own single sign-on, and nobody else.

    The settings page reads and writes the acting organisation's row only, so "of that
    organisation" is the actor's own; another organisation's settings have no address.
    """
    if not actor.is_authenticated or not actor.is_admin:
        return deny(_("Only an administrator of the organisation can change its single sign-on."))
    return ALLOWED
