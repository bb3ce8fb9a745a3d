"""Verification of organisations: an agency moderator verifies, suspends and reinstates.

A new organisation starts ``pending``. ``pending → verified`` once a moderator has checked
its documents; ``pending`` or ``verified → suspended`` with a reason its members are shown;
``suspended → verified`` when it is reinstated (EU Talent Pool Regulation (EU) 2026/1047).
Who may decide and which moves each state allows are ``accounts.access``'s
(``can_review_organisation``, ``STANDING_STEPS``); what a pending or suspended
organisation may not do is ``accounts.access.can_act_in_standing``.

Each decision is one transaction on the locked organisation row: the new state, one
``OrganisationReview`` row, one audit row, and an e-mail to each of the organisation's
active administrators through the outbox (keyed by the decision and the person, so it is
sent once).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import access
from accounts.mail import email_enqueue
from accounts.models import (
    Membership,
    Organisation,
    OrganisationReview,
    Role,
    VerificationAction,
    VerificationStatus,
)
from accounts.services import audit_record
from accounts.tenancy import Actor, unscoped

REASON_MAX_LENGTH = 5000

AUDIT_ACTIONS: dict[str, str] = {
    VerificationAction.VERIFY: "organisation.verified",
    VerificationAction.SUSPEND: "organisation.suspended",
    VerificationAction.REINSTATE: "organisation.reinstated",
}


def _clean_reason(action: str, reason: str) -> str:
    reason = (reason or "").strip()
    if action in access.STANDING_NEEDS_REASON and not reason:
        raise ValidationError({"reason": _("A reason is required to suspend an organisation: its members see it.")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": _("The reason is at most %(max)s characters long.") % {"max": REASON_MAX_LENGTH}}
        )
    return reason


def _admins(organisation: Organisation) -> list[tuple[str, str]]:
    """(user id, e-mail) of each active administrator of the organisation."""
    with unscoped("a verification decision e-mails the decided organisation's administrators"):
        return [
            (str(user_id), email)
            for user_id, email in Membership.objects.filter(
                organisation=organisation, role=Role.ADMIN, user__is_active=True
            )
            .order_by("user__email")
            .values_list("user_id", "user__email")
        ]


def _email(organisation: Organisation, review: OrganisationReview) -> tuple[str, str]:
    """Subject and body of the e-mail to the organisation's administrators."""
    url = f"{settings.SITE_URL}/dashboard/"
    name = organisation.name
    if review.action == VerificationAction.VERIFY:
        subject = _("Corridor: %(name)s is verified") % {"name": name}
        body = _(
            "An international agency has verified %(name)s on Corridor.\n\n"
            "Its officials and administrators can now submit listings, express interest in matches, "
            "send messages, create alerts and join partnerships:\n%(url)s\n"
        ) % {"name": name, "url": url}
    elif review.action == VerificationAction.SUSPEND:
        subject = _("Corridor: %(name)s is suspended") % {"name": name}
        body = _(
            "An international agency has suspended %(name)s on Corridor.\n\n"
            "The reason given:\n%(reason)s\n\n"
            "Until it is reinstated, your members can read everything as before, but cannot submit "
            "listings, express interest, send messages, create alerts or join partnerships. "
            "Reply to the agency that moderates Corridor to ask for reinstatement.\n%(url)s\n"
        ) % {"name": name, "reason": review.reason, "url": url}
    else:
        subject = _("Corridor: %(name)s is reinstated") % {"name": name}
        body = _(
            "An international agency has reinstated %(name)s on Corridor: the suspension is lifted, "
            "and its officials and administrators can act on the exchange again.\n%(url)s\n"
        ) % {"name": name, "url": url}
    return subject, body


@transaction.atomic
def organisation_review(*, actor: Actor, organisation: Organisation, action: str, reason: str = "") -> Organisation:
    """Take one verification decision (``verify``, ``suspend``, ``reinstate``) on ``organisation``.

    Raises ``PermissionDenied`` (403) unless the actor is an agency moderator,
    ``StateConflict`` (409) naming the state when the move is impossible, and
    ``ValidationError`` naming ``reason`` (400) for a suspension without one.
    Returns the organisation as it now stands.
    """
    if action not in access.STANDING_STEPS:
        raise ValidationError({"action": _("Unknown decision '%(action)s'.") % {"action": action}})
    access.can_change_standing(actor, organisation).check()  # who asks comes before what they sent
    reason = _clean_reason(action, reason)
    locked = Organisation.objects.select_for_update(of=("self",)).select_related("focal_point").get(pk=organisation.pk)
    access.can_review_organisation(actor, locked, action).check()  # under the lock: the state it acts on
    from_status = locked.verification_status
    to_status = access.STANDING_STEPS[action][1]
    now = timezone.now()
    locked.verification_status = to_status
    fields = ["verification_status"]
    if action == VerificationAction.VERIFY or (to_status == VerificationStatus.VERIFIED and locked.verified_at is None):
        locked.verified_at = now
        fields.append("verified_at")
    if action == VerificationAction.SUSPEND:
        locked.suspension_reason = reason
        fields.append("suspension_reason")
    elif locked.suspension_reason:
        locked.suspension_reason = ""
        fields.append("suspension_reason")
    locked.save(update_fields=fields)
    with unscoped("the decision is recorded on the decided organisation, not the moderator's"):
        review = OrganisationReview.objects.create(
            organisation=locked,
            action=action,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            actor=actor.user,
            created_at=now,
        )
    audit_record(
        actor=actor,
        action=AUDIT_ACTIONS[action],
        obj=locked,
        organisation=locked,
        changes={"verification_status": [from_status, to_status], "reason": reason, "review": review.pk},
    )
    subject, body = _email(locked, review)
    for user_id, email in _admins(locked):
        email_enqueue(key=f"organisation-review:{review.pk}:{user_id}", to=email, subject=subject, body=body)
    organisation.verification_status = locked.verification_status
    organisation.verified_at = locked.verified_at
    organisation.suspension_reason = locked.suspension_reason
    return locked


def organisation_verify(*, actor: Actor, organisation: Organisation, reason: str = "") -> Organisation:
    return organisation_review(actor=actor, organisation=organisation, action=VerificationAction.VERIFY, reason=reason)


def organisation_suspend(*, actor: Actor, organisation: Organisation, reason: str) -> Organisation:
    return organisation_review(actor=actor, organisation=organisation, action=VerificationAction.SUSPEND, reason=reason)


def organisation_reinstate(*, actor: Actor, organisation: Organisation, reason: str = "") -> Organisation:
    return organisation_review(
        actor=actor, organisation=organisation, action=VerificationAction.REINSTATE, reason=reason
    )
