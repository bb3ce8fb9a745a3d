"""Offboarding: what a member owns in an organisation, and removing them without leaving any of it behind.

When an administrator removes a member (``member_offboard``), in one transaction:

* everything the member owns in that organisation (``OWNED``) moves to another member
  the administrator picks (``transfer_to``, one of ``accounts.access.transfer_targets``);
* their API tokens for the organisation are revoked;
* the membership is deleted;
* every session of theirs ends, on every device (``User.session_generation``);
* if it was their last organisation, the account is deactivated: they can no longer sign in.

Each step writes its audit row. ``OWNED`` is the one table of what "owned" means; every
other reference to a user is in ``KEPT``, with the reason it stays: a record of what the
person did (who decided, who wrote, who uploaded) is history, and rewriting it would
falsify it. ``tests/accounts/test_offboarding.py`` walks every foreign key to the user
model and fails if one is in neither table, so a new kind of ownership cannot be
forgotten here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, IntegerField, TextField, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts import access
from accounts.models import ApiToken, Membership, Organisation, User
from accounts.services import audit_record
from accounts.tenancy import Actor, unscoped

UNSCOPED_WHY = "offboarding: what the departing member owns, filtered by their organisation explicitly"


@dataclass(frozen=True)
class Owned:
    """One kind of thing a member owns: the model, the field naming the owner, the path to
    the organisation it belongs to, how it is called, and the field that titles one."""

    model: str  # "app_label.ModelName"
    field: str
    organisation: str  # lookup from the model to its organisation ("pk" for the organisation itself)
    label: Promise
    title: tuple[str, ...]  # the fields that title one row, joined by spaces
    array: bool = False  # the field is an array of user ids (an e-mail channel's recipients)
    json: bool = False  # the field is a key of a JSON document holding a user id as text
    only: tuple[tuple[str, Any], ...] = ()  # further filters: which rows still act (not history)

    @property
    def key(self) -> str:
        return f"{self.model.split('.')[1].lower()}.{self.field}"

    @property
    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    def rows(self, organisation: Organisation, user: User) -> models.QuerySet[Any]:
        """The rows of this kind that ``user`` owns in ``organisation`` (call unscoped)."""
        lookup = f"{self.field}__contains" if self.array else self.field
        value: Any = [user.pk] if self.array else str(user.pk) if self.json else user
        return self.model_class._default_manager.filter(
            **{self.organisation: organisation.pk, lookup: value}, **dict(self.only)
        )


OWNED: tuple[Owned, ...] = (
    Owned("accounts.Organisation", "focal_point", "pk", gettext_lazy("Focal point of the organisation"), ("name",)),
    Owned("opportunities.Listing", "contact", "owner", gettext_lazy("Listings naming them as the contact"), ("title",)),
    Owned(
        "opportunities.Listing", "created_by", "owner", gettext_lazy("Listings they are responsible for"), ("title",)
    ),
    Owned("exchange.Subscription", "created_by", "organisation", gettext_lazy("Subscriptions"), ("name",)),
    Owned(
        "exchange.Channel",
        "members",
        "organisation",
        gettext_lazy("E-mail alerts sent to them"),
        ("subscription__name",),
        array=True,
    ),
    Owned(
        "exchange.Partnership",
        "created_by",
        "created_by_organisation",
        gettext_lazy("Partnerships they lead for the organisation"),
        ("name",),
    ),
    Owned(
        "exchange.MigrationProfile",
        "created_by",
        "owner",
        gettext_lazy("Migration profiles"),
        ("country", "year", "status"),
    ),
    # A pending revision of a published listing carries the contact it would set: approved
    # later, it must not bring back someone who has gone (nor fail because they have).
    Owned(
        "opportunities.ListingRevision",
        "data__contact",
        "listing__owner",
        gettext_lazy("Pending listing changes naming them as the contact"),
        ("listing__title",),
        json=True,
        only=(("status", "pending"),),
    ),
)

# Every other reference to a user, and why it stays when the user leaves.
KEPT: dict[tuple[str, str], str] = {
    ("accounts.Membership", "user"): "deleted: the membership ends",
    ("accounts.ApiToken", "user"): "revoked: the tokens stop working, the rows stay as the record",
    ("accounts.AuditEvent", "actor"): "history: the append-only audit log",
    ("accounts.OrganisationReview", "actor"): "history: the moderator who decided a verification",
    ("accounts.Invitation", "invited_by"): "history: who sent an invitation (the e-mail names them)",
    ("accounts.Invitation", "accepted_by"): "history: who accepted an invitation",
    ("opportunities.ListingTransition", "actor"): "history: who moved a listing through moderation",
    ("opportunities.ListingRevision", "created_by"): "history: who proposed a revision",
    ("opportunities.ListingRevision", "decided_by"): "history: the moderator who decided a revision",
    ("opportunities.OriginConsent", "decided_by"): "history: who decided an origin government's consent",
    ("exchange.Message", "author"): "history: who wrote a message in a match's dialogue",
    ("exchange.PartnershipDocument", "uploaded_by"): "history: who uploaded a document",
    ("exchange.OutcomeEntry", "reported_by"): "history: the outcomes ledger (append-only)",
    ("exchange.OutcomeImport", "created_by"): "history: who uploaded an import file",
    ("exchange.ProfileImport", "created_by"): "history: who uploaded an import file",
    ("exchange.Suggestion", "decided_by"): "history: who decided a suggestion",
    ("exchange.EmailReceipt", "user"): "history: an e-mail sent to them (the exactly-once guard)",
    # The person's own, not the organisation's: they go with the account, not the membership.
    ("otp_totp.TOTPDevice", "user"): "the person's own authenticator",
    ("otp_static.StaticDevice", "user"): "the person's own recovery codes",
    ("admin.LogEntry", "user"): "history: an operator's change in the admin",
}


@dataclass
class Moving:
    """The rows of one kind that move: ``items`` is (id, title) for each."""

    owned: Owned
    items: list[tuple[str, str]]

    @property
    def count(self) -> int:
        return len(self.items)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.owned.key,
            "name": str(self.owned.label),
            "count": self.count,
            "items": [{"id": pk, "title": title} for pk, title in self.items],
        }


@dataclass
class OffboardingSummary:
    """What removing ``membership`` would do: what moves, how many tokens stop, whether
    the account is then closed."""

    membership: Membership
    moving: list[Moving] = field(default_factory=list)
    active_tokens: int = 0
    last_organisation: bool = False

    @property
    def owns_anything(self) -> bool:
        return any(m.count for m in self.moving)

    @property
    def total(self) -> int:
        return sum(m.count for m in self.moving)


def _owned_rows(organisation: Organisation, user: User) -> models.QuerySet[Any]:
    """Every row ``user`` owns in ``organisation``, of every kind in ``OWNED``, in one query
    (a UNION ALL): (index in ``OWNED``, id, title), ordered by kind and title."""
    parts = []
    for index, owned in enumerate(OWNED):
        pieces: list[Any] = []
        for name in owned.title:
            if pieces:
                pieces.append(Value(" ", output_field=TextField()))
            pieces.append(Coalesce(Cast(name, TextField()), Value(""), output_field=TextField()))
        title = pieces[0] if len(pieces) == 1 else Concat(*pieces, output_field=TextField())
        parts.append(
            owned.rows(organisation, user)
            .order_by()
            .annotate(
                offboarding_kind=Value(index, output_field=IntegerField()),
                offboarding_id=Cast("pk", TextField()),
                offboarding_title=title,
            )
            .values_list("offboarding_kind", "offboarding_id", "offboarding_title")
        )
    first, *rest = parts
    return first.union(*rest, all=True).order_by("offboarding_kind", "offboarding_title", "offboarding_id")


def offboarding_summary(membership: Membership) -> OffboardingSummary:
    """What the member owns in the membership's organisation (one query for every kind),
    their active tokens there and whether it is their last organisation."""
    organisation, user = membership.organisation, membership.user
    summary = OffboardingSummary(membership=membership)
    with unscoped(UNSCOPED_WHY):
        items: dict[int, list[tuple[str, str]]] = {}
        for index, pk, title in _owned_rows(organisation, user):
            items.setdefault(index, []).append((pk, title or "—"))
        summary.moving = [Moving(owned=OWNED[index], items=items[index]) for index in sorted(items)]
        summary.active_tokens = ApiToken.objects.filter(
            organisation=organisation, user=user, revoked_at__isnull=True
        ).count()
        summary.last_organisation = not Membership.objects.filter(user=user).exclude(pk=membership.pk).exists()
    return summary


@dataclass
class OffboardingResult:
    summary: OffboardingSummary
    membership_id: str  # the membership is deleted (its pk cleared); its id as it was
    transfer_to: User | None
    tokens_revoked: int
    account_deactivated: bool

    def as_dict(self) -> dict[str, Any]:
        membership = self.summary.membership
        return {
            "removed": {"id": self.membership_id, "user": str(membership.user_id), "role": membership.role},
            "transfer_to": str(self.transfer_to.pk) if self.transfer_to else None,
            "moved": [m.as_dict() for m in self.summary.moving],
            "tokens_revoked": self.tokens_revoked,
            "sessions_ended": True,
            "account_deactivated": self.account_deactivated,
        }


TARGET_RULE = gettext_lazy("Choose another active member of this organisation who is an official or an administrator.")


def transfer_target_from(raw: str | None) -> User | None:
    """The user a ``transfer_to`` value (a user id, as the API lists members) names, or
    None when it is empty; a 400 naming ``transfer_to`` when it names no one."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        pk = uuid.UUID(raw)
    except ValueError:
        raise ValidationError({"transfer_to": _("“%(value)s” is not a member's id.") % {"value": raw[:60]}}) from None
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise ValidationError({"transfer_to": str(TARGET_RULE)})
    return user


def _check_target(membership: Membership, transfer_to: User | None, summary: OffboardingSummary) -> None:
    if transfer_to is None:
        if summary.owns_anything:
            message = ngettext(
                "%(name)s owns %(count)d thing in this organisation: choose the member who takes it over.",
                "%(name)s owns %(count)d things in this organisation: choose the member who takes them over.",
                summary.total,
            ) % {"name": membership.user, "count": summary.total}
            raise ValidationError({"transfer_to": message})
        return
    if not access.transfer_targets(membership).filter(user=transfer_to).exists():
        raise ValidationError({"transfer_to": str(TARGET_RULE)})


def _transfer(actor: Actor, moving: Moving, user: User, transfer_to: User, organisation: Organisation) -> None:
    owned = moving.owned
    rows = owned.rows(organisation, user)
    if owned.array:
        # Replace the departing member by the new one in each list, naming no one twice.
        for row in rows.select_for_update(of=("self",)):
            members: list[Any] = []
            for pk in getattr(row, owned.field):
                new = transfer_to.pk if pk == user.pk else pk
                if new not in members:
                    members.append(new)
            setattr(row, owned.field, members)
            row.save(update_fields=[owned.field])
    elif owned.json:
        column, key = owned.field.split("__", 1)
        for row in rows.select_for_update(of=("self",)):
            document = dict(getattr(row, column))
            document[key] = str(transfer_to.pk)
            setattr(row, column, document)
            row.save(update_fields=[column])
    else:
        rows.update(**{owned.field: transfer_to})
    audit_record(
        actor=actor,
        action="ownership.transferred",
        organisation=organisation,
        object_type=owned.model.lower(),
        changes={
            "field": owned.field,
            "from": str(user.pk),
            "to": str(transfer_to.pk),
            "ids": [pk for pk, _title in moving.items],
        },
    )


@transaction.atomic
def member_offboard(*, actor: Actor, membership: Membership, transfer_to: User | None) -> OffboardingResult:
    """Remove ``membership``'s holder from its organisation, moving what they own to ``transfer_to``.

    Raises ``PermissionDenied`` (403) unless the actor is an administrator of the
    organisation, ``StateConflict`` (409) for its last administrator, and
    ``ValidationError`` naming ``transfer_to`` (400) when they own something and no valid
    member is named to take it over.
    """
    organisation = membership.organisation
    # Two administrators removing each other at once must not leave the organisation
    # with none: the organisation's row serialises removals, and the rule is checked
    # on the state as it is under the lock.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    with unscoped(UNSCOPED_WHY):
        membership = Membership.objects.select_related("user", "organisation").get(pk=membership.pk)
    organisation, user = membership.organisation, membership.user
    access.can_offboard(actor, membership).check()
    summary = offboarding_summary(membership)
    _check_target(membership, transfer_to, summary)

    with unscoped(UNSCOPED_WHY):
        if transfer_to is not None:
            for moving in summary.moving:
                _transfer(actor, moving, user, transfer_to, organisation)
        tokens = list(ApiToken.objects.filter(organisation=organisation, user=user, revoked_at__isnull=True))
        now = timezone.now()
        for token in tokens:
            token.revoked_at = now
            token.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="token.revoked", obj=token, organisation=organisation)
        audit_record(
            actor=actor,
            action="membership.removed",
            obj=membership,
            organisation=organisation,
            changes={
                "user": str(user.pk),
                "role": membership.role,
                "transfer_to": str(transfer_to.pk) if transfer_to else None,
                "moved": {m.owned.key: m.count for m in summary.moving},
            },
        )
        membership_id = str(membership.pk)
        membership.delete()

    user_sessions_end(user=user, actor=actor, organisation=organisation)
    deactivated = False
    if summary.last_organisation and user.is_active and not user.is_staff:
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="user.deactivated",
            obj=user,
            organisation=organisation,
            changes={"reason": "removed from their last organisation"},
        )
        deactivated = True
    return OffboardingResult(
        summary=summary,
        membership_id=membership_id,
        transfer_to=transfer_to,
        tokens_revoked=len(tokens),
        account_deactivated=deactivated,
    )


def user_sessions_end(*, user: User, actor: Actor, organisation: Organisation | None = None) -> None:
    """End every session of ``user`` on every device: the next request of each is signed out.

    Raising the generation changes the session auth hash (``User._get_session_auth_hash``);
    Django's ``get_user`` then flushes any session that carries the old one.
    """
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    audit_record(actor=actor, action="user.sessions_ended", obj=user, organisation=organisation)
