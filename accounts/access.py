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
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import OrganisationKind, Role
from accounts.tenancy import Actor
from config.errors import StateConflict

if TYPE_CHECKING:
    from accounts.models import User
    from accounts.privacy import Holdings


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
