"""The outcomes ledger: what happened to the places of a scheme, as both its governments report it.

Each published demand listing (and each agreed match, through its demand
listing) has a ledger. An entry counts people at one stage of the recruitment
pipeline for one origin country, occupation line, period and sex. Entries are
never changed nor deleted (the database refuses it, as for the audit log): a
correction is a new entry that names the one it corrects, with a reason. Who
may read and write a ledger is ``exchange.access``.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from django_scopes import ScopedManager

from accounts.tenancy import SharedManager
from exchange.models.imports import ImportJob

if TYPE_CHECKING:
    from django_scopes import ScopedManagerType


class OutcomeStage(models.TextChoices):
    """The recruitment pipeline, in order (docs/outcomes.md)."""

    ALLOCATED = "allocated", _("Allocated")
    NOMINATED = "nominated", _("Nominated")
    SELECTED = "selected", _("Selected")
    VISA_ISSUED = "visa_issued", _("Visa issued")
    ARRIVED = "arrived", _("Arrived")
    COMPLETED = "completed", _("Completed the contract")
    RETURNED = "returned", _("Returned")
    RE_ENGAGED = "re_engaged", _("Re-engaged")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class OutcomeSex(models.TextChoices):
    FEMALE = "F", _("Women")
    MALE = "M", _("Men")
    NOT_RECORDED = "X", _("Not recorded")


class OutcomeEntry(models.Model):
    """One count of the ledger: people at a stage, for an origin, line, period and sex.

    Append-only. ``corrects`` names the entry this one replaces in every total
    (the original stays in the history); ``reason`` says why.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey("opportunities.Listing", on_delete=models.PROTECT, related_name="outcome_entries")
    # Set when the entry is recorded against an agreed match of the listing.
    match = models.ForeignKey(
        "exchange.Match", on_delete=models.PROTECT, null=True, blank=True, related_name="outcome_entries"
    )
    origin_country = CountryField(_("origin country"))
    occupation = models.ForeignKey(
        "opportunities.Occupation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_column="isco_code",
        verbose_name=_("ISCO-08"),
    )
    period = models.CharField(_("period"), max_length=7, help_text=_("A year (2025) or a month (2025-04)."))
    stage = models.CharField(_("stage"), max_length=12, choices=OutcomeStage.choices)
    sex = models.CharField(_("sex"), max_length=1, choices=OutcomeSex.choices)
    count = models.PositiveIntegerField(_("count"))
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections", verbose_name=_("corrects")
    )
    reason = models.TextField(_("reason"), blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("reported for")
    )
    # As in the audit log: the reporter's id and e-mail stay when the account goes.
    reported_by = models.ForeignKey(
        "accounts.User", on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    reported_by_email = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Shared by the listing's owner, its admitted origin governments and the agencies:
    # read through exchange.access (outcome_entries_visible_to).
    objects = SharedManager["OutcomeEntry"](access="exchange.access")

    class Meta:
        verbose_name = _("outcome entry")
        verbose_name_plural = _("outcome entries")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["listing", "origin_country", "period"], name="outcome_listing_origin"),
            models.Index(fields=["origin_country", "stage"], name="outcome_origin_stage"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(stage__in=OutcomeStage.values), name="outcome_stage_known"),
            models.CheckConstraint(condition=models.Q(sex__in=OutcomeSex.values), name="outcome_sex_known"),
            models.CheckConstraint(
                condition=models.Q(period__regex=r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$"), name="outcome_period_shape"
            ),
            models.CheckConstraint(
                condition=models.Q(corrects__isnull=True) | ~models.Q(reason=""), name="outcome_correction_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.listing_id} {self.origin_country} {self.period} {self.stage} {self.sex} = {self.count}"


class OutcomeImport(ImportJob):
    """One CSV file of ledger entries for a listing, validated and saved by a Celery task (all or nothing)."""

    listing = models.ForeignKey("opportunities.Listing", on_delete=models.CASCADE, related_name="+")

    objects: ClassVar[ScopedManagerType[OutcomeImport]] = ScopedManager(organisation="organisation")

    class Meta(ImportJob.Meta):
        verbose_name = _("outcome import")
        verbose_name_plural = _("outcome imports")

    def __str__(self) -> str:
        return f"outcome import {self.id} ({self.status})"


class OutcomeTotal(models.Model):
    """The ledger's effective entries summed per listing, origin, period and stage: what the figures read.

    Derived data, never written by Python: the trigger of migration 0014
    (``exchange_outcometotal_apply``) adds each new entry to its row and takes the entry it
    corrects off that one's, in the transaction that writes the entry; ``entries`` counts
    the effective entries behind a row (0: none is left, and the row counts for nothing).
    ``exchange.outcomes.totals`` rebuilds it from the entries and compares the two.
    """

    # Indexed by the key below (listing first).
    listing = models.ForeignKey("opportunities.Listing", on_delete=models.CASCADE, related_name="+", db_index=False)
    origin_country = CountryField(_("origin country"))
    period = models.CharField(_("period"), max_length=7)
    stage = models.CharField(_("stage"), max_length=12, choices=OutcomeStage.choices)
    people = models.BigIntegerField(_("people"))
    women = models.BigIntegerField(_("women"))
    entries = models.IntegerField(_("effective entries"))

    # The ledger's own readers: read through exchange.access, as the entries are.
    objects = SharedManager["OutcomeTotal"](access="exchange.access")

    class Meta:
        verbose_name = _("outcome total")
        verbose_name_plural = _("outcome totals")
        constraints = [
            # The sums ride in the key's index: the figures read a scheme's rows without the heap.
            models.UniqueConstraint(
                fields=["listing", "origin_country", "period", "stage"],
                include=["people", "women", "entries"],
                name="outcome_total_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.listing_id} {self.origin_country} {self.period} {self.stage} = {self.people}"
