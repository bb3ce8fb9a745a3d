"""Writes for accounts. Each service owns its transaction and writes an audit row.

Services take keyword-only arguments and raise ``django.core.exceptions.ValidationError``
with a dict naming the field; the API turns that into a 400 and the operator
commands into a non-zero exit with the same message.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django_countries import countries

from accounts.mail import email_enqueue
from accounts.models import (
    ROLES_BY_KIND,
    ApiToken,
    AuditEvent,
    Invitation,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
    VerificationStatus,
)
from accounts.tenancy import WRITING_ROLES, Actor, tenant_scope, unscoped
from accounts.tokens import API_TOKEN_PREFIX, hash_secret, new_secret
from config.request_id import current_request_id
from config.statements import precompiled


def audit_record(
    *,
    actor: Actor | None,
    action: str,
    obj: Any = None,
    organisation: Organisation | None = None,
    changes: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    """Append one audit row. Call inside the transaction of the change it records."""
    user = actor.user if actor else None
    org = organisation or (actor.organisation if actor else None)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    with unscoped("the audit row names its organisation explicitly"):
        return AuditEvent.objects.create(
            organisation=org,
            actor=user,
            actor_email=getattr(user, "email", "") or "",
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_repr=str(obj)[:200] if obj is not None else "",
            changes=changes or {},
            request_id=current_request_id(),
        )


# --- Organisations ---------------------------------------------------------------


def _validate_country(code: str, *, field: str = "country") -> str:
    code = (code or "").strip().upper()
    if code and code not in dict(countries):
        raise ValidationError({field: _("'%(code)s' is not an ISO 3166-1 alpha-2 country code.") % {"code": code}})
    return code


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "organisation"
    slug, n = base, 2
    while Organisation.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def organisation_create(
    *,
    name: str,
    kind: str,
    country: str = "",
    is_origin: bool = False,
    is_destination: bool = False,
    slug: str = "",
    actor: Actor | None = None,
    verified: bool = False,
) -> Organisation:
    """Create a tenant. Operators only (commands, admin); raises ValidationError.

    A new organisation waits for an agency to verify it (``pending``); ``verified``
    is for organisations an operator has already vetted (``createorganisation
    --verified``, the demo data)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("A name is required.")})
    if kind not in OrganisationKind.values:
        raise ValidationError({"kind": _("Kind must be 'government' or 'agency'.")})
    country = _validate_country(country)
    if kind == OrganisationKind.GOVERNMENT and not country:
        raise ValidationError({"country": _("A government organisation needs a country.")})
    if kind == OrganisationKind.AGENCY:
        if country:
            raise ValidationError({"country": _("An international agency has no country.")})
        if is_origin or is_destination:
            raise ValidationError({"kind": _("An agency is neither a country of origin nor of destination.")})
    slug = slugify(slug) if slug else _unique_slug(name)
    if Organisation.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("The slug '%(slug)s' is taken.") % {"slug": slug}})
    org = Organisation.objects.create(
        name=name,
        slug=slug,
        kind=kind,
        country=country,
        is_origin=is_origin,
        is_destination=is_destination,
        verification_status=VerificationStatus.VERIFIED if verified else VerificationStatus.PENDING,
        verified_at=timezone.now() if verified else None,
    )
    audit_record(
        actor=actor,
        action="organisation.created",
        obj=org,
        organisation=org,
        changes={"verification_status": org.verification_status},
    )
    return org


ORGANISATION_EDITABLE = ("name", "is_origin", "is_destination", "focal_point", "require_two_factor")


@transaction.atomic
def organisation_update(*, organisation: Organisation, actor: Actor, **fields: Any) -> Organisation:
    """Change an organisation's settings. The caller has checked ``actor.is_admin``."""
    changes: dict[str, Any] = {}
    focal = fields.get("focal_point")
    if focal is not None and membership_for_user(organisation=organisation, user=focal) is None:
        raise ValidationError({"focal_point": _("The focal point must be a member of the organisation.")})
    if organisation.is_agency and (fields.get("is_origin") or fields.get("is_destination")):
        raise ValidationError({"is_origin": _("An agency is neither a country of origin nor of destination.")})
    for key, value in fields.items():
        if key not in ORGANISATION_EDITABLE:
            raise ValidationError({key: _("This field cannot be changed.")})
        old = getattr(organisation, key)
        if old != value:
            changes[key] = [str(old) if old is not None else None, str(value) if value is not None else None]
            setattr(organisation, key, value)
    if changes:
        organisation.save(update_fields=list(changes))
        audit_record(actor=actor, action="organisation.updated", obj=organisation, changes=changes)
    return organisation


# --- Users and memberships ------------------------------------------------------


def membership_for_user(*, organisation: Organisation, user: User) -> Membership | None:
    with unscoped("checking one user's membership of a named organisation"):
        return Membership.objects.filter(organisation=organisation, user=user).first()


def _validate_role(organisation: Organisation, role: str) -> str:
    valid = ROLES_BY_KIND[organisation.kind]
    if role not in valid:
        raise ValidationError(
            {
                "role": _("'%(role)s' is not a role in a %(kind)s organisation; choose one of: %(valid)s.")
                % {"role": role, "kind": organisation.kind, "valid": ", ".join(valid)}
            }
        )
    return role


@transaction.atomic
def user_get_or_create(*, email: str, full_name: str = "", password: str | None = None) -> tuple[User, bool]:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Enter a valid e-mail address.")}) from None
    user = User.objects.filter(email__iexact=email).first()
    if user:
        if password:
            user.set_password(password)
            user.save(update_fields=["password"])
        return user, False
    if password:
        from django.contrib.auth.password_validation import validate_password

        try:
            validate_password(password, User(email=email, full_name=full_name))
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
    user = User.objects.create_user(email=email, password=password, full_name=full_name)
    return user, True


PROFILE_EDITABLE = ("full_name", "language", "time_zone")


@transaction.atomic
def profile_update(*, user: User, **fields: Any) -> User:
    """Change one's own name, language or time zone. The caller has validated the values."""
    changes: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in PROFILE_EDITABLE:
            raise ValidationError({key: _("This field cannot be changed.")})
        old = getattr(user, key)
        if old != value:
            changes[key] = [old, value]
            setattr(user, key, value)
    if changes:
        user.save(update_fields=list(changes))
        actor = Actor(user=user, organisation=None, role=None)
        audit_record(actor=actor, action="user.profile_updated", obj=user, changes=changes)
    return user


@transaction.atomic
def membership_add(*, organisation: Organisation, user: User, role: str, actor: Actor | None = None) -> Membership:
    """Add (or change the role of) a member. Raises ValidationError on a bad role."""
    _validate_role(organisation, role)
    with unscoped("membership writes name their organisation explicitly"):
        membership, created = Membership.objects.get_or_create(
            organisation=organisation, user=user, defaults={"role": role}
        )
        if not created and membership.role != role:
            old = membership.role
            membership.role = role
            membership.save(update_fields=["role"])
            audit_record(
                actor=actor,
                action="membership.role_changed",
                obj=membership,
                organisation=organisation,
                changes={"role": [old, role]},
            )
        elif created:
            audit_record(
                actor=actor,
                action="membership.added",
                obj=membership,
                organisation=organisation,
                changes={"email": user.email, "role": role},
            )
        if organisation.focal_point_id is None and role in WRITING_ROLES:
            organisation.focal_point = user
            organisation.save(update_fields=["focal_point"])
    return membership


def _admins_left(organisation: Organisation, excluding: Membership) -> bool:
    from accounts.access import other_admins

    with unscoped("counting the organisation's other admins"):
        return other_admins(excluding).exists()


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, actor: Actor) -> Membership:
    _validate_role(membership.organisation, role)
    if membership.role == Role.ADMIN and role != Role.ADMIN and not _admins_left(membership.organisation, membership):
        raise ValidationError({"role": _("An organisation must keep at least one administrator.")})
    return membership_add(organisation=membership.organisation, user=membership.user, role=role, actor=actor)


def membership_remove(*, membership: Membership, actor: Actor) -> None:
    """Remove a member who owns nothing in the organisation (``accounts.offboarding.member_offboard``
    with no one to transfer to: its rules, tokens, sessions and audit rows)."""
    from accounts.offboarding import member_offboard

    member_offboard(actor=actor, membership=membership, transfer_to=None)


# --- API tokens ---------------------------------------------------------------------


@transaction.atomic
def token_issue(
    *, user: User, organisation: Organisation, name: str, actor: Actor | None = None
) -> tuple[ApiToken, str]:
    """Create a token for a member; returns the row and the secret (shown once)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name, so you can tell it apart later.")})
    if len(name) > 100:
        raise ValidationError({"name": _("Ensure this field has no more than 100 characters.")})
    if membership_for_user(organisation=organisation, user=user) is None:
        raise ValidationError(
            {"organisation": _("%(email)s is not a member of %(org)s.") % {"email": user.email, "org": organisation}}
        )
    secret = new_secret(API_TOKEN_PREFIX)
    with unscoped("the token names its organisation explicitly"):
        token = ApiToken.objects.create(
            user=user, organisation=organisation, name=name, prefix=secret[:10], key_hash=hash_secret(secret)
        )
    audit_record(
        actor=actor or Actor(user=user, organisation=organisation, role=None),
        action="token.issued",
        obj=token,
        organisation=organisation,
    )
    return token, secret


@transaction.atomic
def token_revoke(*, token: ApiToken, actor: Actor) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="token.revoked", obj=token, organisation=token.organisation)
    return token


# The key hash the token statement is compiled for (not a hash a secret can have: it is not hex).
_TOKEN_SLOT = "token-statement-slot"  # noqa: S105 - a placeholder, no secret


def _token_statement() -> QuerySet[ApiToken]:
    memberships = Membership.objects.filter(organisation=OuterRef("organisation_id"), user=OuterRef("user_id"))
    return (
        ApiToken.objects.select_related("user", "organisation")
        .annotate(
            membership_id=Subquery(memberships.values("pk")[:1]),
            membership_role=Subquery(memberships.values("role")[:1]),
            membership_created_at=Subquery(memberships.values("created_at")[:1]),
        )
        .filter(key_hash=_TOKEN_SLOT, revoked_at__isnull=True)
        .order_by("-created_at")[:1]
    )


def token_authenticate(*, secret: str) -> ApiToken | None:
    """Find the active token for a presented secret (unscoped: this *is* the edge)."""
    if not secret or len(secret) > 200:
        return None
    with unscoped("authentication resolves the tenant from the token"):
        # One statement: the token, its user and organisation, and the user's membership
        # of that organisation (at most one: membership_unique), as membership_for_user.
        # Compiled once per thread (config.statements): every request presents a token.
        tokens = precompiled("token_authenticate", _token_statement, slot=_TOKEN_SLOT).run(hash_secret(secret))
        token = tokens[0] if tokens else None
        if token is None or not token.user.is_active or not token.organisation.is_active:
            return None
        if token.membership_id is None:
            return None
        membership = Membership(
            id=token.membership_id,
            user=token.user,
            organisation=token.organisation,
            role=token.membership_role,
            created_at=token.membership_created_at,
        )
        membership._state.adding = False
        membership._state.db = token._state.db
        token.membership = membership  # the actor's role, so the request need not look it up again
        now = timezone.now()
        # Write at most once a minute per token: a busy integration must not turn
        # every read into a write.
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
    return token


# --- Invitations -----------------------------------------------------------------------


def invitation_url(secret: str) -> str:
    return f"{settings.SITE_URL}/accounts/invitations/{secret}/"


@transaction.atomic
def invitation_create(*, actor: Actor, email: str, role: str) -> tuple[Invitation, str]:
    """Invite someone to the actor's organisation. Caller has checked ``actor.is_admin``."""
    organisation = actor.organisation
    assert organisation is not None
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Enter a valid e-mail address.")}) from None
    _validate_role(organisation, role)
    existing = User.objects.filter(email__iexact=email).first()
    if existing and membership_for_user(organisation=organisation, user=existing):
        raise ValidationError({"email": _("%(email)s is already a member.") % {"email": email}})
    secret = new_secret()
    with tenant_scope(actor):
        invitation = Invitation.objects.create(
            organisation=organisation,
            email=email,
            role=role,
            invited_by=actor.user,
            token_hash=hash_secret(secret),
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
        )
    audit_record(actor=actor, action="invitation.created", obj=invitation, changes={"email": email, "role": role})
    url = invitation_url(secret)
    context = {"invitation": invitation, "url": url, "organisation": organisation, "inviter": actor.user}
    # Through the e-mail outbox: written with the invitation, sent by a worker, so SMTP
    # being down delays the e-mail but never fails the request.
    email_enqueue(
        key=f"invitation:{invitation.pk}",
        to=email,
        subject=_("You are invited to join %(org)s on Corridor") % {"org": organisation.name},
        body=render_to_string("accounts/email/invitation.txt", context),
    )
    return invitation, secret


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: Actor) -> Invitation:
    if invitation.status == "pending":
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="invitation.revoked", obj=invitation)
    return invitation


class InvitationInvalid(Exception):
    """The link is unknown, used, revoked or expired (one message for all: no oracle)."""


def invitation_lookup(*, secret: str) -> Invitation:
    with unscoped("the invitation link identifies its organisation"):
        invitation = (
            Invitation.objects.select_related("organisation").filter(token_hash=hash_secret(secret or "")).first()
        )
    if invitation is None or invitation.status != "pending" or not invitation.organisation.is_active:
        raise InvitationInvalid
    return invitation


@transaction.atomic
def invitation_accept(
    *, secret: str, user: User | None = None, full_name: str = "", password: str | None = None
) -> Membership:
    """Accept an invitation: single use, enforced by a row lock on the invitation.

    An existing signed-in user joins as themselves; otherwise an account is created
    for the invited address with the given password.
    """
    invitation = invitation_lookup(secret=secret)
    with unscoped("locking the invitation named by the link"):
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != "pending":
        raise InvitationInvalid
    if user is None:
        if not password:
            raise ValidationError({"password": _("Choose a password.")})
        user, _created = user_get_or_create(email=invitation.email, full_name=full_name, password=password)
        if not user.is_active:
            # Closed when they left their last organisation (accounts.offboarding); the link
            # proves the address is theirs and the new password replaces the old one.
            user.is_active = True
            user.save(update_fields=["is_active"])
            audit_record(
                actor=Actor(user=user, organisation=invitation.organisation, role=None),
                action="user.reactivated",
                obj=user,
                organisation=invitation.organisation,
            )
    membership = membership_add(
        organisation=invitation.organisation,
        user=user,
        role=invitation.role,
        actor=Actor(user=user, organisation=invitation.organisation, role=invitation.role),
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership
