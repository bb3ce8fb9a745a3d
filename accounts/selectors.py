"""Reads for accounts: every lookup by id goes through the actor."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import ApiToken, AuditEvent, Invitation, Membership, Organisation, OrganisationQuerySet, User
from accounts.tenancy import Actor, unscoped


def organisation_list(*, actor: Actor | None = None) -> OrganisationQuerySet:
    """Active organisations: their public fields are visible to every caller."""
    return Organisation.objects.active().order_by("name")


def organisation_get(*, key: str) -> Organisation | None:
    return organisation_list().identified_by(key).first()


def memberships_of_user(*, user: User) -> list[Membership]:
    """One person's memberships across organisations (for /me and the switcher).

    Crosses tenants by nature: it is the user's own data, not an organisation's.
    """
    with unscoped("a user's own memberships span organisations"):
        return list(
            Membership.objects.filter(user=user, organisation__is_active=True)
            .select_related("organisation")
            .order_by("organisation__name")
        )


def membership_for(*, user: User, organisation: Organisation) -> Membership | None:
    with unscoped("resolving the actor happens before a scope exists"):
        return (
            Membership.objects.filter(user=user, organisation=organisation, organisation__is_active=True)
            .select_related("organisation")
            .first()
        )


def member_list(*, actor: Actor) -> QuerySet[Membership]:
    """Members of the actor's organisation (the scope adds the tenant filter)."""
    return Membership.objects.select_related("user").order_by("user__email")


def invitation_list(*, actor: Actor) -> QuerySet[Invitation]:
    return Invitation.objects.select_related("invited_by").order_by("-created_at")


def token_list(*, actor: Actor) -> QuerySet[ApiToken]:
    """The actor's own tokens for the current organisation."""
    return ApiToken.objects.filter(user=actor.user).order_by("-created_at")


def audit_list(*, actor: Actor) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.order_by("-created_at", "-id")
