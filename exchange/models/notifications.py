"""Subscriptions (saved searches), the events they receive, and every delivery of one.

Subscriptions, channels, deliveries and inbox items are private to one
organisation: their default manager is django-scopes' fail-closed manager.
Events are not: an event is shared by every delivery made of it, and is only ever
reached through a delivery or an inbox item of the reader's own organisation.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

if TYPE_CHECKING:
    from django_scopes import ScopedManagerType


class Frequency(models.TextChoices):
    INSTANT = "instant", _("Instant")
    DAILY = "daily", _("Daily digest")
    WEEKLY = "weekly", _("Weekly digest")


class ChannelType(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Signed webhook")
    INBOX = "inbox", _("In-app inbox")
    FEED = "feed", _("Atom feed")


class ChannelState(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused after repeated failures")
    DISABLED = "disabled", _("Disabled (the receiver answered 410 Gone)")


class Subscription(models.Model):
    """A saved search: which events an organisation wants, on which channels, how often."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="subscriptions")
    name = models.CharField(_("name"), max_length=200)
    direction = models.CharField(_("direction"), max_length=8, blank=True)  # "" = both
    scheme_types = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    isco_prefixes = ArrayField(models.CharField(max_length=4), default=list, blank=True)
    sectors = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    owner_countries = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    open_to_my_country = models.BooleanField(default=False)
    keywords = models.CharField(max_length=500, blank=True)
    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.INSTANT)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_digest_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[ScopedManagerType[Subscription]] = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["name", "created_at"]
        indexes = [models.Index(fields=["active", "frequency"], name="subscription_active_frequency")]

    def __str__(self) -> str:
        return self.name


class Channel(models.Model):
    """One way a subscription is delivered. Webhook secrets sign; feed tokens are URLs."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="channels")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=8, choices=ChannelType.choices)
    # E-mail: the members who receive it; empty means the organisation's admins.
    members = ArrayField(models.UUIDField(), default=list, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    secret = models.CharField(max_length=200, blank=True)
    previous_secret = models.CharField(max_length=200, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    feed_token = models.CharField(max_length=64, blank=True, db_index=True)
    state = models.CharField(max_length=10, choices=ChannelState.choices, default=ChannelState.ACTIVE)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[ScopedManagerType[Channel]] = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["feed_token"], condition=~models.Q(feed_token=""), name="channel_feed_token_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} for {self.subscription_id}"


class Event(models.Model):
    """Something that happened, in the thin shape a webhook carries: ids, titles, URLs."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Dead: retries exhausted")
    PAUSED = "paused", _("Paused with its channel")
    DIGEST = "digest", _("Waiting for the digest")


class Delivery(models.Model):
    """One event for one subscription on one channel. Its id is the webhook-id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # The sweeper published a message for this row and leaves it alone until then, as a copy
    # may still be queued behind a slow worker; a worker's claim clears it (docs/reliability.md).
    published_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[ScopedManagerType[Delivery]] = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["event", "channel"], name="delivery_once_per_channel")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["organisation", "-created_at"], name="delivery_organisation"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.channel_id} ({self.status})"


class EmailReceipt(models.Model):
    """One e-mail sent to one member for one delivery: the exactly-once guard."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["delivery", "user"], name="email_receipt_once")]

    def __str__(self) -> str:
        return f"{self.delivery_id} → {self.user_id}"


class Notification(models.Model):
    """An in-app inbox item of one organisation, made by exactly one delivery."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    delivery = models.OneToOneField(Delivery, on_delete=models.CASCADE, related_name="notification")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[ScopedManagerType[Notification]] = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organisation", "read_at", "-created_at"], name="notification_inbox")]

    def __str__(self) -> str:
        return f"{self.event_id} for {self.organisation_id}"
