"""Tenants (organisations), people, memberships, tokens, invitations, audit.

Privacy classes (see docs/architecture.md):

* ``Organisation`` and ``User`` are *shared* objects: every signed-in member sees an
  organisation's public fields. They use plain managers with explicit selectors.
* ``Membership``, ``ApiToken``, ``Invitation`` and ``AuditEvent`` are *private* to one
  organisation. Their default manager is django-scopes' fail-closed manager: a query
  made outside ``scope(organisation=...)`` raises ``ScopeError`` instead of
  returning every tenant's rows.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from django_scopes import ScopedManager

if TYPE_CHECKING:
    from django_scopes import ScopedManagerType


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Signs in with an e-mail address; belongs to organisations."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    # Empty until the user picks one: until then the browser's Accept-Language decides.
    language = models.CharField(_("preferred language"), max_length=8, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff (operator)"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # Raised to end every session of the person at once (offboarding): it is part of the
    # session's auth hash, so each session signed in before the raise fails its check
    # on its next request, wherever it is, without looking the sessions up.
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's HMAC of the password, plus the session generation once it was raised.

        Generation 0 gives exactly Django's hash, so no session ends when this ships;
        ``accounts.services.user_sessions_end`` raises it to end them all.
        """
        if not self.session_generation:
            return super()._get_session_auth_hash(secret=secret)  # type: ignore[misc]
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}|{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class OrganisationKind(models.TextChoices):
    GOVERNMENT = "government", _("Government")
    AGENCY = "agency", _("International agency")


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    OFFICIAL = "official", _("Official")
    MODERATOR = "moderator", _("Moderator")
    VIEWER = "viewer", _("Viewer")


ROLES_BY_KIND: dict[str, tuple[str, ...]] = {
    OrganisationKind.GOVERNMENT: (Role.ADMIN, Role.OFFICIAL, Role.VIEWER),
    OrganisationKind.AGENCY: (Role.MODERATOR, Role.ADMIN, Role.VIEWER),
}


class VerificationStatus(models.TextChoices):
    """Where an organisation stands with the agencies that verify who is on the platform
    ([12]; EU Talent Pool Regulation (EU) 2026/1047: organisations are verified, and can
    be suspended or removed)."""

    PENDING = "pending", _("Pending verification")
    VERIFIED = "verified", _("Verified")
    SUSPENDED = "suspended", _("Suspended")


class OrganisationQuerySet(models.QuerySet["Organisation"]):
    def active(self) -> OrganisationQuerySet:
        return self.filter(is_active=True)

    def identified_by(self, key: str) -> OrganisationQuerySet:
        """Match the public id (UUID) or the slug, as commands and headers accept both."""
        try:
            return self.filter(id=uuid.UUID(str(key)))
        except ValueError:
            return self.filter(slug=str(key).lower())


class Organisation(models.Model):
    """The tenant: a government body of one country, or an international agency."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=OrganisationKind.choices)
    country = CountryField(_("country"), blank=True)
    is_origin = models.BooleanField(_("country of origin"), default=False)
    is_destination = models.BooleanField(_("country of destination"), default=False)
    focal_point = models.ForeignKey(
        "accounts.User",
        verbose_name=_("focal point"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    require_two_factor = models.BooleanField(_("require two-factor authentication"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A new organisation waits for an agency moderator to check its documents.
    verification_status = models.CharField(
        _("verification"), max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.PENDING
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    # Private to the organisation's members and the agencies (accounts.access).
    suspension_reason = models.TextField(_("reason for the suspension"), blank=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="government") & ~models.Q(country="")
                    | models.Q(kind="agency", country="", is_origin=False, is_destination=False)
                ),
                name="organisation_country_matches_kind",
                violation_error_message=_(
                    "A government needs a country; an agency has none and is neither origin nor destination."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_agency(self) -> bool:
        return self.kind == OrganisationKind.AGENCY

    @property
    def valid_roles(self) -> tuple[str, ...]:
        return ROLES_BY_KIND[self.kind]


class VerificationAction(models.TextChoices):
    VERIFY = "verify", _("Verified")
    SUSPEND = "suspend", _("Suspended")
    REINSTATE = "reinstate", _("Reinstated")


class OrganisationReview(models.Model):
    """One verification decision on an organisation: who, when, from, to, why."""

    id = models.BigAutoField(primary_key=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="reviews")
    action = models.CharField(max_length=16, choices=VerificationAction.choices)
    from_status = models.CharField(max_length=16, choices=VerificationStatus.choices)
    to_status = models.CharField(max_length=16, choices=VerificationStatus.choices)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[ScopedManagerType[OrganisationReview]] = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("verification decision")
        verbose_name_plural = _("verification decisions")

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.from_status} → {self.to_status}"


class SingleSignOn(models.Model):
    """A government's own OpenID Connect provider for its officials ([12])."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="single_sign_on")
    enabled = models.BooleanField(_("enabled"), default=True)
    issuer = models.URLField(_("issuer"), max_length=300)
    client_id = models.CharField(_("client id"), max_length=200)
    client_secret = models.CharField(_("client secret"), max_length=500, blank=True)
    allowed_domains = ArrayField(
        models.CharField(max_length=253), verbose_name=_("allowed e-mail domains"), default=list, blank=True
    )
    # The claim that carries the role, and the claim value → Corridor role map; default_role
    # when the claim is absent or unmapped (blank: refuse the sign-in).
    role_claim = models.CharField(_("role claim"), max_length=100, blank=True)
    role_mapping = models.JSONField(_("role mapping"), default=dict, blank=True)
    default_role = models.CharField(_("default role"), max_length=16, choices=Role.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[ScopedManagerType[SingleSignOn]] = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("single sign-on")
        verbose_name_plural = _("single sign-on")

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.issuer}"


class Membership(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[ScopedManagerType[Membership]] = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"


class ApiToken(models.Model):
    """A named API token acting for one user in one organisation. Only a hash is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    # The first characters of the token, shown in lists so people can tell tokens apart.
    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[ScopedManagerType[ApiToken]] = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Invitation(models.Model):
    """An e-mailed, expiring, single-use invitation to join an organisation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[ScopedManagerType[Invitation]] = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class AuditEvent(models.Model):
    """Append-only record of who did what to which object, for which organisation.

    The database refuses UPDATE and DELETE on this table (see the migration's
    trigger), so not even a bug or the admin can rewrite history. References are
    kept without foreign-key constraints for the same reason: a deleted user or
    object must not cascade into the log.
    """

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    actor = models.ForeignKey(User, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+")
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    # The id of the request (or task) that wrote the row, as in the log lines (config.observability).
    request_id = models.CharField(max_length=64, blank=True)

    objects: ClassVar[ScopedManagerType[AuditEvent]] = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_email} {self.action} {self.object_type}"


class OutboundEmailStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Dead: retries exhausted")


class OutboundEmail(models.Model):
    """One e-mail the platform owes one address (invitation, password reset, unlock link,
    admin alert, digest): written in the transaction that caused it, sent by a worker.

    ``key`` makes it exactly once: the same key is never written twice, and a worker
    claims the row (``claimed_until`` lease) before it sends and records ``sent_at``
    at once after the server accepted the message.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(max_length=200, unique=True)
    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    html = models.TextField(blank=True)
    # Extra headers (a digest's List-Unsubscribe, a fixed Message-ID): what the sender built.
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=OutboundEmailStatus.choices, default=OutboundEmailStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("outbound e-mail")
        verbose_name_plural = _("outbound e-mails")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbound_email_due")]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject} ({self.status})"


class SignInBackoff(models.Model):
    """Failed sign-ins for one e-mail address, from every client address together.

    The per-account back-off of ``accounts.lockout``: kept for any address typed,
    whether or not an account has it, so that its behaviour never reveals which
    accounts exist. In the database rather than the cache: it must hold when Redis
    is down (a cache that fails open would let a guesser through; one that fails
    closed would lock everyone out), concurrent attempts from many addresses
    serialise on the row lock, and the unlock e-mail is written in the same
    transaction as the state that caused it.
    """

    email = models.CharField(max_length=254, unique=True)  # trimmed and lower-cased
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(default=timezone.now)
    blocked_until = models.DateTimeField(null=True, blank=True)
    # The current unlock link's single-use part; empty when no link is outstanding.
    unlock_nonce = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("sign-in back-off")
        verbose_name_plural = _("sign-in back-offs")

    def __str__(self) -> str:
        return f"{self.email}: {self.failures} failures"
