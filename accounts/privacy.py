"""Personal data of the officials who use Corridor: what one person may take away, and erasure.

Officials are the data subjects (issue 16; GDPR arts. 15, 17 and 20, docs/governance.md
"Personal data: export and erasure"). Two operations, both about one person and never
about anyone else:

* ``personal_data_export(user)``: everything kept about them, as one JSON-ready dict,
  in a fixed number of queries whatever they hold. Secrets never appear: token hashes,
  two-factor keys and session keys are credentials, not data about the person.
* ``account_erase(user, ...)``: the account goes, the history stays. Audit rows,
  moderation transitions, revisions, verification decisions, outcome entries and
  messages are kept, with the person's e-mail address and name replaced by a stable
  pseudonym (``erased-user-`` and the first 12 hex digits of the account id) wherever
  they appear in the row's text. The append-only audit log and outcomes ledger let
  exactly that UPDATE through (accounts/migrations/0007_privacy_audit_erasure.py,
  exchange/migrations/0013_privacy_outcome_erasure.py); ``corridor_erasure_scrub`` in
  the database is the one definition of the replacement. Then tokens, sessions,
  two-factor devices, sign-in records, invitations and e-mails to the address,
  memberships and the account itself are deleted.

Who may do either is ``accounts.access`` (``can_export_personal_data``,
``can_erase_account``); what the person still holds is ``holdings_of`` here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import access
from accounts.models import (
    ApiToken,
    AuditEvent,
    Invitation,
    Membership,
    Organisation,
    OrganisationReview,
    OutboundEmail,
    Role,
    SignInBackoff,
    User,
)
from accounts.tenancy import unscoped
from config.request_id import current_request_id

PSEUDONYM_PREFIX = "erased-user-"
EXPORT_FORMAT = "corridor-personal-data/1"
WHY = "a person's own data spans every organisation they belong to"


def pseudonym_of(user: User) -> str:
    """The stable name an erased person keeps in the history (as the database computes it)."""
    return f"{PSEUDONYM_PREFIX}{user.pk.hex[:12]}"


# --- What a person still holds ------------------------------------------------------------


@dataclass(frozen=True)
class Holdings:
    """What must be handed to someone else before a person's account can go."""

    last_admin_of: list[str] = field(default_factory=list)
    focal_point_of: list[str] = field(default_factory=list)
    listings: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    partnerships: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any((self.last_admin_of, self.focal_point_of, self.listings, self.subscriptions, self.partnerships))


def holdings_of(user: User) -> Holdings:
    """The organisations they are the last admin or focal point of, and the live listings,
    active subscriptions and open partnerships they created or are the contact for."""
    from exchange.models import Partnership, PartnershipStatus, Subscription
    from opportunities.models import Listing, ListingStatus

    ended = (ListingStatus.CLOSED, ListingStatus.WITHDRAWN, ListingStatus.EXPIRED, ListingStatus.REJECTED)
    with unscoped(WHY):
        other_admins = Membership.objects.filter(
            organisation=OuterRef("organisation"), role=Role.ADMIN, organisation__is_active=True
        ).exclude(user=user)
        last_admin = (
            Membership.objects.filter(user=user, role=Role.ADMIN)
            .exclude(Exists(other_admins))
            .values_list("organisation__name", flat=True)
        )
        return Holdings(
            last_admin_of=sorted(last_admin),
            focal_point_of=sorted(Organisation.objects.filter(focal_point=user).values_list("name", flat=True)),
            listings=sorted(
                Listing.objects.filter(Q(created_by=user) | Q(contact=user))
                .exclude(status__in=ended)
                .values_list("title", flat=True)
                .distinct()
            ),
            subscriptions=sorted(
                Subscription.objects.filter(created_by=user, active=True).values_list("name", flat=True)
            ),
            partnerships=sorted(
                Partnership.objects.filter(created_by=user)
                .exclude(status=PartnershipStatus.ENDED)
                .values_list("name", flat=True)
            ),
        )


# --- Export (GDPR arts. 15 and 20) ---------------------------------------------------------


def sessions_of(user: User) -> list[Session]:
    """The person's unexpired browser sessions. Django keeps the user inside the signed
    session data, so each live session is read once (one query for all of them)."""
    user_id = str(user.pk)
    return [
        session
        for session in Session.objects.filter(expire_date__gt=timezone.now())
        if session.get_decoded().get("_auth_user_id") == user_id
    ]


def _time(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        value = datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
    return value.isoformat()


def _rows(queryset: Any, *fields: str) -> list[dict[str, Any]]:
    rows = []
    for row in queryset.values(*fields):
        rows.append(
            {
                key: (
                    _time(value)
                    if isinstance(value, datetime.datetime)
                    else str(value)
                    if hasattr(value, "hex")
                    else value
                )
                for key, value in row.items()
            }
        )
    return rows


def personal_data_export(user: User) -> dict[str, Any]:
    """Everything Corridor keeps about ``user`` and nothing about anyone else (the module
    docstring). 19 queries, however much they hold."""
    from accounts.middleware import SEEN_AT_KEY, SIGNED_IN_AT_KEY
    from exchange.models import EmailReceipt, Message, OutcomeEntry, Partnership, Subscription
    from opportunities.models import Listing, ListingRevision, ListingTransition

    with unscoped(WHY):
        sessions = []
        for session in sessions_of(user):
            data = session.get_decoded()
            sessions.append(
                {
                    "signed_in_at": _time(data.get(SIGNED_IN_AT_KEY)),
                    "last_seen_at": _time(data.get(SEEN_AT_KEY)),
                    "expires_at": _time(session.expire_date),
                }
            )
        return {
            "format": EXPORT_FORMAT,
            "generated_at": _time(timezone.now()),
            "controller": {"contact": settings.PRIVACY_CONTACT_EMAIL, "notice": f"{settings.SITE_URL}/privacy/"},
            "profile": {
                "id": str(user.pk),
                "email": user.email,
                "full_name": user.full_name,
                "language": user.language,
                "time_zone": user.time_zone,
                "date_joined": _time(user.date_joined),
                "last_login": _time(user.last_login),
                "is_active": user.is_active,
            },
            "memberships": _rows(
                Membership.objects.filter(user=user).order_by("created_at"),
                "organisation_id",
                "organisation__name",
                "role",
                "created_at",
            ),
            "api_tokens": _rows(
                ApiToken.objects.filter(user=user).order_by("created_at"),
                "id",
                "organisation_id",
                "name",
                "prefix",
                "created_at",
                "last_used_at",
                "revoked_at",
            ),
            "two_factor_devices": [
                *_rows(TOTPDevice.objects.filter(user=user).order_by("id"), "name", "confirmed", "created_at"),
                *_rows(StaticDevice.objects.filter(user=user).order_by("id"), "name", "confirmed", "created_at"),
            ],
            "sessions": sessions,
            "sign_ins": _rows(
                AccessLog.objects.filter(username__iexact=user.email).order_by("attempt_time"),
                "attempt_time",
                "logout_time",
                "ip_address",
                "user_agent",
            ),
            "failed_sign_ins": _rows(
                AccessFailureLog.objects.filter(username__iexact=user.email).order_by("attempt_time"),
                "attempt_time",
                "ip_address",
                "user_agent",
            ),
            # What they did. The details of each change (which may name other people) stay
            # in their organisations' logs; this says what, where and when.
            "audit_events": _rows(
                AuditEvent.objects.filter(actor=user).order_by("created_at", "id"),
                "created_at",
                "organisation_id",
                "action",
                "object_type",
                "object_id",
                "request_id",
            ),
            "listings": _rows(
                Listing.objects.filter(Q(created_by=user) | Q(contact=user)).order_by("created_at"),
                "id",
                "owner_id",
                "title",
                "status",
                "created_at",
                "created_by_id",
                "contact_id",
            ),
            "listing_transitions": _rows(
                ListingTransition.objects.filter(actor=user).order_by("created_at", "id"),
                "listing_id",
                "action",
                "from_status",
                "to_status",
                "reason",
                "created_at",
            ),
            "listing_revisions": _rows(
                ListingRevision.objects.filter(Q(created_by=user) | Q(decided_by=user)).order_by("created_at"),
                "id",
                "listing_id",
                "status",
                "created_at",
                "decided_at",
                "created_by_id",
                "decided_by_id",
            ),
            "verification_decisions": _rows(
                OrganisationReview.objects.filter(actor=user).order_by("created_at", "id"),
                "organisation_id",
                "action",
                "from_status",
                "to_status",
                "reason",
                "created_at",
            ),
            "subscriptions": _rows(
                Subscription.objects.filter(created_by=user).order_by("created_at"),
                "id",
                "organisation_id",
                "name",
                "frequency",
                "active",
                "created_at",
            ),
            "partnerships": _rows(
                Partnership.objects.filter(created_by=user).order_by("created_at"),
                "id",
                "name",
                "status",
                "created_at",
            ),
            "messages": _rows(
                Message.objects.filter(author=user).order_by("created_at", "id"),
                "id",
                "match_id",
                "organisation_id",
                "body",
                "created_at",
            ),
            "outcome_entries": _rows(
                OutcomeEntry.objects.filter(reported_by=user).order_by("created_at", "id"),
                "id",
                "listing_id",
                "origin_country",
                "period",
                "stage",
                "sex",
                "count",
                "reason",
                "created_at",
            ),
            # Addressed to them: the alert e-mails they were sent, and every e-mail the outbox
            # holds for their address (the body is left out: it may carry a sign-in link).
            "alert_emails": _rows(
                EmailReceipt.objects.filter(user=user).order_by("sent_at"),
                "delivery_id",
                "delivery__event__type",
                "sent_at",
            ),
            "emails": _rows(
                OutboundEmail.objects.filter(to__iexact=user.email).order_by("created_at"),
                "subject",
                "status",
                "created_at",
                "sent_at",
            ),
            "invitations": _rows(
                Invitation.objects.filter(email__iexact=user.email).order_by("created_at"),
                "organisation_id",
                "organisation__name",
                "role",
                "created_at",
                "expires_at",
                "accepted_at",
                "revoked_at",
            ),
        }


@transaction.atomic
def personal_data_exported(*, user: User) -> dict[str, Any]:
    """The export, with its audit row (the person downloaded their own data)."""
    data = personal_data_export(user)
    with unscoped("the person's own action, recorded without an organisation"):
        AuditEvent.objects.create(
            organisation=None,
            actor=user,
            actor_email=user.email,
            action="user.data_exported",
            object_type="accounts.user",
            object_id=str(user.pk),
            request_id=current_request_id(),
        )
    return data


# --- Erasure (GDPR art. 17) -----------------------------------------------------------------

# Free-text columns of the history kept after an erasure, where the person's name or
# e-mail address may have been typed: (app_label.Model, text columns, JSON columns).
# The append-only tables (audit log, outcomes ledger) are done under their triggers.
HISTORY_TEXT: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("opportunities.ListingTransition", ("reason",), ()),
    ("opportunities.ListingRevision", ("reason",), ("data",)),
    ("accounts.OrganisationReview", ("reason",), ()),
    ("accounts.Organisation", ("suspension_reason",), ()),
    ("exchange.Message", ("body",), ()),
    ("exchange.CommitteeMember", ("name",), ()),
)
APPEND_ONLY: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("accounts.AuditEvent", ("actor_email", "object_repr"), ("changes",)),
    ("exchange.OutcomeEntry", ("reported_by_email", "reason"), ()),
)


def _scrub(label: str, text: tuple[str, ...], json: tuple[str, ...], terms: list[str]) -> int:
    """Replace the person's e-mail address and name by the pseudonym in these columns, in
    every row that holds one, with the database's ``corridor_erasure_scrub``."""
    from django.apps import apps

    table = connection.ops.quote_name(apps.get_model(label)._meta.db_table)
    sets, holds = [], []
    for column in text:
        name = connection.ops.quote_name(column)
        sets.append(f"{name} = corridor_erasure_scrub({name}, %(email)s, %(name)s, %(pseudonym)s)")
        holds.append(f"{name} <> corridor_erasure_scrub({name}, %(email)s, %(name)s, %(pseudonym)s)")
    for column in json:
        name = connection.ops.quote_name(column)
        sets.append(f"{name} = corridor_erasure_scrub({name}::text, %(email)s, %(name)s, %(pseudonym)s)::jsonb")
        holds.append(f"{name}::text <> corridor_erasure_scrub({name}::text, %(email)s, %(name)s, %(pseudonym)s)")
    params = {"email": terms[0], "name": terms[1], "pseudonym": terms[2]}
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {', '.join(sets)} WHERE {' OR '.join(holds)}", params)  # noqa: S608
        return cursor.rowcount


@dataclass(frozen=True)
class Erasure:
    pseudonym: str
    history_rows: int


def account_erase(*, user: User, requested_by: User | None) -> Erasure:
    """Erase ``user``: ``requested_by`` is the person themselves (the profile page), or
    None for an operator (``manage.py eraseuser``). Refused, with every reason, while they
    still hold something (``accounts.access.can_erase_account``); all or nothing."""
    with transaction.atomic(), unscoped(WHY):
        user = User.objects.select_for_update().get(pk=user.pk)
        access.can_erase_account(subject=user, holdings=holdings_of(user), requested_by=requested_by).check()
        pseudonym = pseudonym_of(user)
        organisations: list[Organisation | None] = list(
            Organisation.objects.filter(memberships__user=user).order_by("name")
        )
        terms = [user.email, user.full_name, pseudonym]

        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('corridor.erasing_user', %s, true)", [str(user.pk)])
        rows = sum(_scrub(label, text, json, terms) for label, text, json in APPEND_ONLY)
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('corridor.erasing_user', '', true)")
        rows += sum(_scrub(label, text, json, terms) for label, text, json in HISTORY_TEXT)

        ApiToken.objects.filter(user=user).delete()
        Session.objects.filter(pk__in=[session.pk for session in sessions_of(user)]).delete()
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        for model in (AccessLog, AccessAttempt, AccessFailureLog):
            model.objects.filter(username__iexact=user.email).delete()
        SignInBackoff.objects.filter(email=user.email).delete()
        Invitation.objects.filter(email__iexact=user.email).delete()
        OutboundEmail.objects.filter(to__iexact=user.email).delete()
        Membership.objects.filter(user=user).delete()

        # The erasure's own row names the pseudonym only: one per organisation the person
        # left, so each one's administrators see it in their log.
        for organisation in organisations or [None]:
            AuditEvent.objects.create(
                organisation=organisation,
                actor_id=user.pk if requested_by is not None else None,
                actor_email=pseudonym if requested_by is not None else "",
                action="user.erased",
                object_type="accounts.user",
                object_id=pseudonym,
                object_repr=pseudonym,
                changes={"by": "self" if requested_by is not None else "operator", "history_rows": rows},
                request_id=current_request_id(),
            )
        user.delete()
    return Erasure(pseudonym=pseudonym, history_rows=rows)
