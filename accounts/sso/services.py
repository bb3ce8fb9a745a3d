"""Single sign-on's rules and writes: who may sign in, the first sign-in's account, the settings.

* The e-mail claim's domain must be one of the organisation's ``allowed_domains``
  (exactly, case-insensitively); a provider that says the address is unverified is
  refused too.
* The role comes from the role claim through ``role_mapping`` (a claim may carry a
  list: the most senior mapped role wins), else ``default_role``; no role, or a role
  the kind of organisation does not have, refuses the sign-in. Checked on every
  sign-in, before anything is written: a refusal creates nothing.
* An account that is an operator's, or a member of another organisation, is refused:
  the provider vouches for its own organisation's people, and a session would act for
  the others too. It keeps signing in with its password.
* The first sign-in creates the user (no password: they sign in through their
  provider) and the membership with that role; later ones reuse both (the role is
  then the organisation administrators' to change in Corridor). Two first sign-ins
  at once end with one user and one membership: both are ``get_or_create`` on the
  unique constraints, inside one transaction.
* Every sign-in, refused or not, and every change of the settings writes an audit row;
  the client secret is never written to the audit log nor shown back.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Membership, Organisation, Role, SingleSignOn, User
from accounts.services import audit_record
from accounts.sso import discovery, http
from accounts.sso.errors import SignInRefused, SingleSignOnError
from accounts.tenancy import Actor, unscoped

# Most senior first: when a claim maps to several roles, the first of these wins.
ROLE_SENIORITY = (Role.ADMIN, Role.MODERATOR, Role.OFFICIAL, Role.VIEWER)


# --- Reads ---------------------------------------------------------------------------


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[1].strip().lower() if "@" in email else ""


def single_sign_on_of(organisation: Organisation) -> SingleSignOn | None:
    with unscoped("an organisation's own single sign-on row, read by its public slug or its admins"):
        return SingleSignOn.objects.filter(organisation=organisation).first()


def enabled_single_sign_on(slug: str) -> SingleSignOn | None:
    """The enabled single sign-on of the active organisation ``slug`` (the start and callback pages)."""
    with unscoped("the sign-in pages name the organisation in their address, before anyone is signed in"):
        return (
            SingleSignOn.objects.select_related("organisation")
            .filter(organisation__slug=slug.lower(), organisation__is_active=True, enabled=True)
            .first()
        )


def organisations_for_email(email: str) -> list[Organisation]:
    """The organisations whose enabled single sign-on accepts this address's domain (the sign-in page)."""
    domain = email_domain(email)
    if not domain:
        return []
    with unscoped("the sign-in page: which organisations sign in addresses at this domain (public)"):
        rows = SingleSignOn.objects.select_related("organisation").filter(
            enabled=True, organisation__is_active=True, allowed_domains__contains=[domain]
        )
        return [row.organisation for row in rows]


def role_for(single_sign_on: SingleSignOn, claims: dict[str, Any]) -> str:
    """The Corridor role the claims give, or "" (refused)."""
    valid = set(single_sign_on.organisation.valid_roles)
    values: list[Any] = []
    if single_sign_on.role_claim:
        raw = claims.get(single_sign_on.role_claim)
        values = raw if isinstance(raw, list) else [raw] if raw is not None else []
    mapping = single_sign_on.role_mapping if isinstance(single_sign_on.role_mapping, dict) else {}
    mapped = {mapping.get(str(value)) for value in values if isinstance(value, str | int)}
    for role in ROLE_SENIORITY:
        if role in mapped and role in valid:
            return role
    return single_sign_on.default_role if single_sign_on.default_role in valid else ""


# --- The sign-in ---------------------------------------------------------------------


def _refuse(single_sign_on: SingleSignOn, *, reason: str, domain: str, message: str) -> SignInRefused:
    """Audit a refused sign-in (its own transaction: nothing else is written) and build the error."""
    audit_record(
        actor=None,
        action="sso.sign_in_refused",
        obj=single_sign_on,
        organisation=single_sign_on.organisation,
        changes={"reason": reason, "email_domain": domain},
    )
    return SignInRefused(message, code=reason)


def _belongs_elsewhere(user: User, organisation: Organisation) -> bool:
    """An operator, or a member of another organisation: one provider cannot sign them in.

    An organisation's provider vouches for its own people only; a session it opened
    would also act for the account's other organisations (or operate the whole site),
    which that provider has no say over. Such accounts keep signing in with a password.
    """
    if user.is_staff or user.is_superuser:
        return True
    with unscoped("does the account belong to other organisations than the provider's?"):
        return Membership.objects.filter(user=user).exclude(organisation=organisation).exists()


def sign_in_user(*, single_sign_on: SingleSignOn, claims: dict[str, Any]) -> User:
    """The user the verified ``claims`` sign in, created with their membership on the first sign-in."""
    organisation = single_sign_on.organisation
    email = str(claims.get("email") or "").strip().lower()
    domain = email_domain(email)
    allowed = {d.lower() for d in single_sign_on.allowed_domains}
    if not email or not domain:
        raise _refuse(
            single_sign_on,
            reason="no_email",
            domain="",
            message=_("The identity provider of %(org)s did not give Corridor your e-mail address.")
            % {"org": organisation.name},
        )
    if claims.get("email_verified") is False:
        raise _refuse(
            single_sign_on,
            reason="email_unverified",
            domain=domain,
            message=_("The identity provider of %(org)s says your e-mail address is not verified.")
            % {"org": organisation.name},
        )
    if domain not in allowed:
        raise _refuse(
            single_sign_on,
            reason="domain_not_allowed",
            domain=domain,
            message=_(
                "Addresses at %(domain)s cannot sign in to %(org)s through its identity provider. "
                "Ask an administrator of %(org)s to invite you, or sign in with the address your organisation uses."
            )
            % {"domain": domain, "org": organisation.name},
        )
    role = role_for(single_sign_on, claims)
    if not role:
        raise _refuse(
            single_sign_on,
            reason="no_role",
            domain=domain,
            message=_(
                "Your identity provider gives you no role in %(org)s on Corridor. "
                "Ask the administrators of %(org)s to give you one."
            )
            % {"org": organisation.name},
        )
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None and _belongs_elsewhere(existing, organisation):
        raise _refuse(
            single_sign_on,
            reason="account_elsewhere",
            domain=domain,
            message=_(
                "Your Corridor account also acts for other organisations, so %(org)s's identity provider "
                "cannot sign it in. Sign in with your e-mail address and password."
            )
            % {"org": organisation.name},
        )
    name = str(claims.get("name") or "").strip()[:200]
    with transaction.atomic():
        user, user_created = User.objects.get_or_create(
            email__iexact=email, defaults={"email": email, "full_name": name, "password": make_password(None)}
        )
        if not user.is_active:
            raise SignInRefused(
                _("Your Corridor account is deactivated. Contact the Corridor operators."), code="inactive"
            )
        with unscoped("the first sign-in through the organisation's provider creates the membership"):
            membership, membership_created = Membership.objects.select_related("organisation").get_or_create(
                user=user, organisation=organisation, defaults={"role": role}
            )
        actor = Actor(user=user, organisation=organisation, role=membership.role)
        if membership_created:
            audit_record(
                actor=actor,
                action="membership.created",
                obj=membership,
                changes={"role": role, "via": "single_sign_on", "user_created": user_created},
            )
        audit_record(
            actor=actor,
            action="sso.signed_in",
            obj=single_sign_on,
            changes={"membership_created": membership_created, "role": membership.role},
        )
    return user


# --- The settings --------------------------------------------------------------------

AUDITED_FIELDS = ("enabled", "issuer", "client_id", "allowed_domains", "role_claim", "role_mapping", "default_role")


def check_provider(issuer: str, *, organisation: Organisation) -> None:
    """The issuer's address may be fetched and its discovery document is usable, or ``ValidationError``."""
    try:
        http.resolve(discovery.discovery_url(issuer))
    except http.AddressRefused as refused:
        raise ValidationError({"issuer": refused.message}) from None
    try:
        discovery.provider_for(issuer, organisation_name=organisation.name, fresh=True)
    except SingleSignOnError as exc:
        raise ValidationError({"issuer": str(exc.message)}) from None


@transaction.atomic
def single_sign_on_save(*, actor: Actor, values: dict[str, Any], client_secret: str = "") -> SingleSignOn:
    """Create or change the acting organisation's single sign-on (rules checked here, audited).

    ``client_secret`` blank keeps the stored one. When it is enabled, the issuer must be
    reachable at a public address and serve a usable discovery document.
    """
    organisation = actor.org
    roles = set(organisation.valid_roles)
    errors: dict[str, str] = {}
    if values.get("default_role") and values["default_role"] not in roles:
        errors["default_role"] = _("%(org)s has no such role.") % {"org": organisation.name}
    bad = sorted({str(v) for v in values.get("role_mapping", {}).values()} - roles)
    if bad:
        errors["role_mapping"] = _("Map claim values to roles %(org)s has: %(roles)s.") % {
            "org": organisation.name,
            "roles": ", ".join(sorted(roles)),
        }
    domains = [d.lower() for d in values.get("allowed_domains", [])]
    if values.get("enabled") and not domains:
        errors["allowed_domains"] = _("Enter at least one e-mail domain whose people may sign in.")
    with unscoped("a domain is signed in by one organisation only: check the others' single sign-on"):
        taken = (
            SingleSignOn.objects.exclude(organisation=organisation)
            .filter(allowed_domains__overlap=domains)
            .values_list("allowed_domains", flat=True)
        )
        clash = sorted(set(domains) & {d for row in taken for d in row})
    if clash:
        errors["allowed_domains"] = _("Another organisation's single sign-on already uses %(domains)s.") % {
            "domains": ", ".join(clash)
        }
    if errors:
        raise ValidationError(errors)
    if values.get("enabled"):
        check_provider(values["issuer"], organisation=organisation)

    with unscoped("the acting organisation's own single sign-on row, locked for the change"):
        current = SingleSignOn.objects.select_for_update().filter(organisation=organisation).first()
        before = {f: getattr(current, f) for f in AUDITED_FIELDS} if current else {}
        row = current or SingleSignOn(organisation=organisation)
        for field in AUDITED_FIELDS:
            setattr(row, field, domains if field == "allowed_domains" else values.get(field, getattr(row, field)))
        if client_secret:
            row.client_secret = client_secret
        row.full_clean(exclude=["organisation"])
        row.save()
    changes: dict[str, Any] = {
        f: {"from": before.get(f), "to": getattr(row, f)} for f in AUDITED_FIELDS if before.get(f) != getattr(row, f)
    }
    if client_secret:
        changes["client_secret"] = "changed"  # noqa: S105 - a marker, never the secret itself
    audit_record(actor=actor, action="sso.created" if current is None else "sso.changed", obj=row, changes=changes)
    discovery.forget(row.issuer)
    return row
