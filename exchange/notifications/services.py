"""Subscriptions, their channels, the in-app inbox and the delivery log: the writes.

The reads are in ``exchange.notifications.selectors``. Everything here is private
to one organisation. The models' default manager is django-scopes' fail-closed
manager, so every query must run inside ``tenant_scope(actor)`` (the API base
does that).

Who may do what (each service says it again):

* read subscriptions, the inbox and the delivery log: every member;
* create, change, delete, rotate a webhook secret, send a test, replay a
  delivery: the organisation's officials and admins (moderators and admins of an
  agency), never viewers;
* mark inbox items read: every member (the inbox is the organisation's, and
  reading it is what a viewer is for).

Services raise ``ValidationError`` with a dict naming the field (400),
``PermissionDenied`` (403) and ``StateConflict`` (409). Each owns its transaction
and writes one audit row (marking an inbox item read excepted: it changes no
one's data but a read flag, and would flood the log).

Secrets: a webhook channel's signing secret is stored (it must sign every
delivery) but shown only once, by the API response of the request that made it.
A feed channel's token *is* its URL, so it is shown to the owner every time.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries

from accounts.models import Membership
from accounts.services import audit_record
from accounts.tenancy import Actor
from config.errors import StateConflict
from exchange import access
from exchange.models import (
    Channel,
    ChannelType,
    Delivery,
    DeliveryStatus,
    Event,
    Frequency,
    Notification,
    Subscription,
)
from exchange.notifications.selectors import notification_list, organisation_id_of
from exchange.notifications.webhooks import new_secret, validate_url
from opportunities.models import SchemeType
from opportunities.reference import is_valid_isco, isco_exists, isic_exists

# While a rotated secret overlaps the new one, receivers verify either.
SECRET_OVERLAP = timedelta(hours=24)
DIRECTIONS = ("demand", "supply")
REPLAYABLE = (DeliveryStatus.FAILED, DeliveryStatus.DEAD, DeliveryStatus.PAUSED, DeliveryStatus.SENT)
MAX_CHANNELS = 10
MAX_FILTER_VALUES = 100


# --- Validation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelSpec:
    """One requested channel, validated. ``url`` is normalised; ``members`` de-duplicated."""

    type: str
    url: str = ""
    members: tuple[uuid.UUID, ...] = field(default_factory=tuple)

    @property
    def key(self) -> tuple[str, str]:
        # What identifies a channel across edits: its type, and for a webhook its URL.
        return (self.type, self.url)


def _dedupe(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _code_list(value: Any, *, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValidationError({name: _("Give a list.")})
    if len(value) > MAX_FILTER_VALUES:
        raise ValidationError({name: _("Give at most %(n)d values.") % {"n": MAX_FILTER_VALUES}})
    if not all(isinstance(item, str) for item in value):
        raise ValidationError({name: _("Give a list of codes (strings).")})
    return _dedupe(item.strip() for item in value)


def _clean_scheme_types(value: Any) -> list[str]:
    codes = _code_list(value, name="scheme_types")
    for code in codes:
        if code not in SchemeType.values:
            raise ValidationError({"scheme_types": _("'%(code)s' is not a scheme type.") % {"code": code}})
    return codes


def _clean_isco_prefixes(value: Any) -> list[str]:
    codes = _code_list(value, name="isco_prefixes")
    for code in codes:
        if not is_valid_isco(code) or not isco_exists(code):
            raise ValidationError(
                {"isco_prefixes": _("'%(code)s' is not an ISCO-08 group (1 to 4 digits).") % {"code": code}}
            )
    return codes


def _clean_sectors(value: Any) -> list[str]:
    codes = [code.upper() for code in _code_list(value, name="sectors")]
    for code in codes:
        if not (isic_exists(code, level="section") or isic_exists(code, level="division")):
            raise ValidationError(
                {"sectors": _("'%(code)s' is not an ISIC Rev.4 section or division.") % {"code": code}}
            )
    return _dedupe(codes)


def _clean_countries(value: Any) -> list[str]:
    codes = [code.upper() for code in _code_list(value, name="owner_countries")]
    known = dict(countries)
    for code in codes:
        if code not in known:
            raise ValidationError(
                {"owner_countries": _("'%(code)s' is not an ISO 3166-1 alpha-2 country code.") % {"code": code}}
            )
    return _dedupe(codes)


def _clean_direction(value: Any) -> str:
    if value in (None, ""):
        return ""  # both directions
    if value not in DIRECTIONS:
        raise ValidationError({"direction": _("Direction must be 'demand', 'supply' or null (both).")})
    return str(value)


def _clean_frequency(value: Any) -> str:
    if value not in Frequency.values:
        raise ValidationError({"frequency": _("Frequency must be 'instant', 'daily' or 'weekly'.")})
    return str(value)


def _clean_name(value: Any) -> str:
    name = (value or "").strip() if isinstance(value, str) else ""
    if not name:
        raise ValidationError({"name": _("A name is required.")})
    if len(name) > 200:
        raise ValidationError({"name": _("A name has at most 200 characters.")})
    return name


def _clean_keywords(value: Any) -> str:
    keywords = " ".join(str(value or "").split())
    if len(keywords) > 500:
        raise ValidationError({"keywords": _("Keywords have at most 500 characters.")})
    return keywords


def _channel_error(index: int, message: str) -> ValidationError:
    return ValidationError({"channels": _("Channel %(n)d: %(message)s") % {"n": index + 1, "message": message}})


def _clean_channels(*, actor: Actor, value: Any) -> list[ChannelSpec]:
    """Validate the requested channels: shapes, webhook URLs, e-mail recipients, duplicates."""
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise ValidationError({"channels": _("Give a list of channels.")})
    if not value:
        raise ValidationError({"channels": _("Choose at least one channel: email, webhook, inbox or feed.")})
    if len(value) > MAX_CHANNELS:
        raise ValidationError({"channels": _("Give at most %(n)d channels.") % {"n": MAX_CHANNELS}})
    specs: list[ChannelSpec] = []
    for index, raw in enumerate(value):
        if not isinstance(raw, Mapping):
            raise _channel_error(index, _("give an object with a type."))
        kind = raw.get("type")
        url = raw.get("url") or ""
        members = raw.get("members")
        if kind not in ChannelType.values:
            raise _channel_error(index, _("the type must be email, webhook, inbox or feed."))
        if kind != ChannelType.WEBHOOK and url:
            raise _channel_error(index, _("only a webhook channel has a url."))
        if kind != ChannelType.EMAIL and members:
            raise _channel_error(index, _("only an e-mail channel has members."))
        if kind == ChannelType.WEBHOOK:
            if not url:
                raise _channel_error(index, _("a webhook channel needs a url."))
            try:
                url = validate_url(str(url))
            except ValidationError as exc:
                raise _channel_error(index, " ".join(exc.messages)) from None
        specs.append(
            ChannelSpec(
                type=kind,
                url=url,
                members=tuple(_dedupe(_clean_members(actor=actor, index=index, value=members or []))),
            )
        )
    seen: set[tuple[str, str]] = set()
    for index, spec in enumerate(specs):
        if spec.key in seen:
            message = (
                _("this webhook URL is listed twice.")
                if spec.type == ChannelType.WEBHOOK
                else _("a subscription has at most one %(type)s channel.") % {"type": spec.type}
            )
            raise _channel_error(index, message)
        seen.add(spec.key)
    return specs


def _clean_members(*, actor: Actor, index: int, value: Any) -> list[uuid.UUID]:
    """E-mail recipients: each must be a member of the acting organisation (none: its admins)."""
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise _channel_error(index, _("members is a list of user ids."))
    ids: list[uuid.UUID] = []
    for item in value:
        try:
            ids.append(item if isinstance(item, uuid.UUID) else uuid.UUID(str(item)))
        except ValueError:
            raise _channel_error(index, _("'%(id)s' is not a user id.") % {"id": item}) from None
    if not ids:
        return []
    found = set(
        Membership.objects.filter(organisation=actor.organisation, user_id__in=ids).values_list("user_id", flat=True)
    )
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        raise _channel_error(
            index,
            _("these users are not members of %(org)s: %(ids)s.")
            % {"org": actor.organisation, "ids": ", ".join(missing)},
        )
    return ids


SUBSCRIPTION_FIELDS = (
    "name",
    "direction",
    "scheme_types",
    "isco_prefixes",
    "sectors",
    "owner_countries",
    "open_to_my_country",
    "keywords",
    "frequency",
    "active",
)

_CLEANERS: dict[str, Callable[[Any], Any]] = {
    "name": _clean_name,
    "direction": _clean_direction,
    "scheme_types": _clean_scheme_types,
    "isco_prefixes": _clean_isco_prefixes,
    "sectors": _clean_sectors,
    "owner_countries": _clean_countries,
    "keywords": _clean_keywords,
    "frequency": _clean_frequency,
    "open_to_my_country": bool,
    "active": bool,
}


def _clean_fields(*, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(SUBSCRIPTION_FIELDS) - {"channels"}
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationError({name: _("This field cannot be set.")})
    cleaned = {key: _CLEANERS[key](value) for key, value in data.items() if key in _CLEANERS}
    if cleaned.get("open_to_my_country") and not actor.country:
        raise ValidationError(
            {"open_to_my_country": _("Your organisation has no country, so no listing can be open to it.")}
        )
    return cleaned


# --- Permissions ----------------------------------------------------------------------------------


def require_manager(actor: Actor) -> None:
    """Officials and admins (moderators and admins of an agency) manage subscriptions; viewers read
    (the rule: ``exchange.access.can_manage_subscriptions``)."""
    access.can_manage_subscriptions(actor).check()


def _require_own(actor: Actor, obj: Subscription | Delivery | Notification) -> None:
    # The API resolved the object through the actor's selector; this guards other callers.
    if obj.organisation_id != organisation_id_of(actor):
        raise PermissionDenied(_("This belongs to another organisation."))


# --- Writes -----------------------------------------------------------------------------------------


def _new_channel(*, subscription: Subscription, spec: ChannelSpec) -> Channel:
    channel = Channel(
        subscription=subscription,
        organisation_id=subscription.organisation_id,
        type=spec.type,
        url=spec.url,
        members=list(spec.members),
    )
    if spec.type == ChannelType.WEBHOOK:
        channel.secret = new_secret()
    elif spec.type == ChannelType.FEED:
        channel.feed_token = secrets.token_urlsafe(32)
    channel.save()
    return channel


def _audit_channels(channels: Iterable[Channel | ChannelSpec]) -> list[str]:
    # Types only: a webhook URL may itself carry a credential, and belongs in no log.
    return sorted(channel.type for channel in channels)


@transaction.atomic
def subscription_create(*, actor: Actor, channels: Sequence[Mapping[str, Any]], **fields: Any) -> Subscription:
    """Create a subscription for the actor's organisation with its channels.

    Permission: an official or admin (PermissionDenied otherwise). Every filter is
    optional and empty means any; ``direction`` None means both. Raises
    ValidationError naming the field (``channels`` for any channel problem).
    Sends nothing: a test is asked for with ``subscription_send_test``.
    """
    access.can_create_subscription(actor).check()
    cleaned = _clean_fields(actor=actor, data=fields)
    if "name" not in cleaned:
        raise ValidationError({"name": _("A name is required.")})
    specs = _clean_channels(actor=actor, value=channels)
    subscription = Subscription.objects.create(
        organisation=actor.org,
        created_by=actor.user,
        **cleaned,
    )
    made = [_new_channel(subscription=subscription, spec=spec) for spec in specs]
    audit_record(
        actor=actor,
        action="subscription.created",
        obj=subscription,
        changes={"name": subscription.name, "channels": _audit_channels(made)},
    )
    return subscription


@transaction.atomic
def subscription_update(*, actor: Actor, subscription: Subscription, data: Mapping[str, Any]) -> Subscription:
    """Change a subscription; ``channels``, if given, replaces the channel set.

    A requested channel with the type (and, for a webhook, the URL) of an existing
    one keeps that channel, so its secret, feed token, state and deliveries
    survive; an e-mail channel takes the new recipients. Other existing channels
    are deleted with their deliveries; new ones get a new secret or token.

    Permission: an official or admin of the owner. Raises ValidationError naming
    the field. Sends nothing.
    """
    require_manager(actor)
    _require_own(actor, subscription)
    cleaned = _clean_fields(actor=actor, data=data)
    changed = sorted(key for key, value in cleaned.items() if getattr(subscription, key) != value)
    for key in changed:
        setattr(subscription, key, cleaned[key])
    if changed:
        subscription.save(update_fields=[*changed, "updated_at"])
    audit_changes: dict[str, Any] = {"fields": changed}
    if "channels" in data:
        specs = _clean_channels(actor=actor, value=data["channels"])
        audit_changes.update(_replace_channels(subscription=subscription, specs=specs))
    if any(audit_changes.values()):
        audit_record(actor=actor, action="subscription.updated", obj=subscription, changes=audit_changes)
    return subscription


def _replace_channels(*, subscription: Subscription, specs: list[ChannelSpec]) -> dict[str, list[str]]:
    existing: dict[tuple[str, str], Channel] = {}
    for row in Channel.objects.filter(subscription=subscription).order_by("created_at", "id"):
        existing.setdefault((row.type, row.url), row)
    kept: list[Any] = []
    added: list[Channel] = []
    changed: list[Channel] = []
    for spec in specs:
        channel = existing.get(spec.key)
        if channel is None:
            added.append(_new_channel(subscription=subscription, spec=spec))
            continue
        kept.append(channel.pk)
        if channel.type == ChannelType.EMAIL and list(channel.members) != list(spec.members):
            channel.members = list(spec.members)
            channel.save(update_fields=["members"])
            changed.append(channel)
    removed = list(Channel.objects.filter(subscription=subscription).exclude(pk__in=[*kept, *(c.pk for c in added)]))
    if removed:
        Channel.objects.filter(pk__in=[c.pk for c in removed]).delete()
    return {
        "channels_added": _audit_channels(added),
        "channels_removed": _audit_channels(removed),
        "channels_changed": _audit_channels(changed),
    }


@transaction.atomic
def subscription_delete(*, actor: Actor, subscription: Subscription) -> None:
    """Delete a subscription, its channels and their deliveries. Officials and admins."""
    require_manager(actor)
    _require_own(actor, subscription)
    audit_record(actor=actor, action="subscription.deleted", obj=subscription, changes={"name": subscription.name})
    subscription.delete()


@transaction.atomic
def subscription_rotate_secret(*, actor: Actor, subscription: Subscription) -> list[Channel]:
    """Give each webhook channel a new signing secret; the old one still signs for 24 hours.

    Returns the channels, whose ``secret`` the caller shows once. Permission: an
    official or admin of the owner. ValidationError naming ``channels`` if the
    subscription has no webhook channel.
    """
    require_manager(actor)
    _require_own(actor, subscription)

    # Locked, so two rotations at once cannot both keep the same previous secret.
    webhooks = list(
        Channel.objects.select_for_update()
        .filter(subscription=subscription, type=ChannelType.WEBHOOK)
        .order_by("created_at", "id")
    )
    if not webhooks:
        raise ValidationError({"channels": _("This subscription has no webhook channel, so it has no secret.")})
    now = timezone.now()
    for channel in webhooks:
        channel.previous_secret = channel.secret
        channel.previous_secret_expires_at = now + SECRET_OVERLAP
        channel.secret = new_secret()
        channel.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    audit_record(
        actor=actor,
        action="subscription.secret_rotated",
        obj=subscription,
        changes={"channels": [str(c.pk) for c in webhooks]},
    )
    return webhooks


@transaction.atomic
def subscription_send_test(*, actor: Actor, subscription: Subscription) -> Event:
    """Send a ``test`` event to every channel of the subscription. Officials and admins.

    StateConflict if nothing could receive it (the subscription is inactive, or
    every channel is disabled).
    """
    require_manager(actor)
    _require_own(actor, subscription)
    from exchange.notifications.events import event_send_test

    event = event_send_test(subscription=subscription)
    if event is None:
        raise StateConflict(_("Nothing was sent: the subscription is inactive or none of its channels is enabled."))
    audit_record(actor=actor, action="subscription.test_sent", obj=subscription, changes={"event": str(event.pk)})
    return event


def notification_mark_read(*, actor: Actor, notification: Notification) -> Notification:
    """Mark one inbox item read (idempotent). Any member; no audit row (see the module docstring)."""
    _require_own(actor, notification)
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notification_mark_all_read(*, actor: Actor) -> int:
    """Mark every unread item of the organisation's inbox read; returns how many."""
    return notification_list(actor=actor, unread=True).update(read_at=timezone.now())


@transaction.atomic
def delivery_replay_request(*, actor: Actor, delivery: Delivery) -> Delivery:
    """Send a delivery again (its channel resumes if it was paused or disabled).

    Permission: an official or admin of the owner. StateConflict unless the
    delivery is failed, dead, paused or sent (a pending one is on its way; a
    digest one waits for the digest).
    """
    require_manager(actor)
    _require_own(actor, delivery)
    if delivery.status not in REPLAYABLE:
        raise StateConflict(_("Only a failed, dead, paused or sent delivery can be replayed."))
    from exchange.notifications.delivery import delivery_replay

    audit_record(
        actor=actor,
        action="delivery.replayed",
        obj=delivery,
        changes={"status": delivery.status, "subscription": str(delivery.subscription_id)},
    )
    return delivery_replay(delivery=delivery)
