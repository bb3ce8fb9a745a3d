"""Matches between a demand listing and a supply listing, and the dialogue about them."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from accounts.tenancy import SharedManager

if TYPE_CHECKING:
    from django_scopes import ScopedManagerType


class MatchState(models.TextChoices):
    SUGGESTED = "suggested", _("Suggested")
    INTEREST_EXPRESSED = "interest_expressed", _("Interest expressed")
    IN_DIALOGUE = "in_dialogue", _("In dialogue")
    AGREED = "agreed", _("Agreed")
    DECLINED = "declined", _("Declined")
    LAPSED = "lapsed", _("Lapsed")
    RETIRED = "retired", _("Retired (a listing closed, was withdrawn or expired)")


OPEN_STATES = (MatchState.SUGGESTED, MatchState.INTEREST_EXPRESSED, MatchState.IN_DIALOGUE)


class Match(models.Model):
    """A scored pairing of a demand and a supply listing from different countries.

    Visible to the two owner organisations only (``exchange.access.match_visible_to``).
    ``explanation`` is a structured object a person can read; see docs/matching.md.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    demand = models.ForeignKey("opportunities.Listing", on_delete=models.CASCADE, related_name="demand_matches")
    supply = models.ForeignKey("opportunities.Listing", on_delete=models.CASCADE, related_name="supply_matches")
    # Denormalised owners: the visibility filter is one indexed OR, no join.
    demand_owner = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    supply_owner = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("score"))
    explanation = models.JSONField(_("explanation"), default=dict)
    state = models.CharField(_("state"), max_length=20, choices=MatchState.choices, default=MatchState.SUGGESTED)
    interest_by = models.ForeignKey(
        "accounts.Organisation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        "accounts.Organisation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    computed_at = models.DateTimeField()

    # Its two governments' (exchange.access.match_visible_to).
    objects = SharedManager["Match"](access="exchange.access")

    class Meta:
        verbose_name = _("match")
        verbose_name_plural = _("matches")
        ordering = ["-score", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["demand", "supply"], name="match_unique_pair"),
            models.CheckConstraint(condition=models.Q(score__gte=0, score__lte=1), name="match_score_range"),
            models.CheckConstraint(condition=~models.Q(demand_owner=models.F("supply_owner")), name="match_two_owners"),
        ]
        indexes = [
            models.Index(fields=["demand_owner", "state", "-score"], name="match_demand_owner"),
            models.Index(fields=["supply_owner", "state", "-score"], name="match_supply_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.demand_id} ↔ {self.supply_id} ({self.score:.2f})"


class Message(models.Model):
    """One message in the dialogue about a match, between its two governments."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="messages")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    # The thread of a match, read through the match (exchange.access).
    objects = SharedManager["Message"](access="exchange.access")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.body[:40]}"


class MatchRead(models.Model):
    """When an organisation last read a match's page (its explanation and thread).

    One row per match and organisation, written when a member opens the match: a
    match with no row is *new* to that organisation, and the other government's
    messages posted after ``read_at`` are *unread*. Per organisation, not per person:
    the dialogue is between governments, and any of their officials answers it.
    """

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="reads")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(_("read at"))

    # Private to one organisation, like its inbox (a shared match, a private read state).
    objects: ClassVar[ScopedManagerType[MatchRead]] = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("match read")
        verbose_name_plural = _("match reads")
        constraints = [models.UniqueConstraint(fields=["match", "organisation"], name="match_read_unique")]

    def __str__(self) -> str:
        return f"{self.organisation_id} read {self.match_id} at {self.read_at:%Y-%m-%d %H:%M}"
