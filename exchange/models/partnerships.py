"""Partnerships: named agreements between governments, their members and documents.

A partnership is a *shared* object in the tenancy sense (docs/architecture.md):
it crosses tenant lines on purpose, among its member governments, and, once in
force and marked public, to every signed-in organisation. Reads therefore go
through ``exchange.access.partnership_visible_to(actor)`` and writes through
the services in the same module; the plain managers here are never used from
request code without that filter.
"""

from __future__ import annotations

import secrets
import uuid
from pathlib import PurePath

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import SharedManager


class PartnershipKind(models.TextChoices):
    MOBILITY_PARTNERSHIP = "mobility_partnership", _("Mobility partnership")
    BILATERAL_LABOUR_AGREEMENT = "bilateral_labour_agreement", _("Bilateral labour agreement")
    CIRCULAR_MIGRATION_AGREEMENT = "circular_migration_agreement", _("Circular migration agreement")
    TALENT_PARTNERSHIP = "talent_partnership", _("Talent partnership")
    SOCIAL_SECURITY_AGREEMENT = "social_security_agreement", _("Social security agreement")
    MEMORANDUM_OF_UNDERSTANDING = "memorandum_of_understanding", _("Memorandum of understanding")


class PartnershipStatus(models.TextChoices):
    NEGOTIATING = "negotiating", _("Negotiating")
    SIGNED = "signed", _("Signed")
    IN_FORCE = "in_force", _("In force")
    ENDED = "ended", _("Ended")


# The only moves a partnership's status can make. "ended" from "negotiating" or
# "signed" records talks that were abandoned or an agreement that never entered
# into force; nothing leaves "ended".
STATUS_TRANSITIONS: dict[str, tuple[str, ...]] = {
    PartnershipStatus.NEGOTIATING: (PartnershipStatus.SIGNED, PartnershipStatus.ENDED),
    PartnershipStatus.SIGNED: (PartnershipStatus.IN_FORCE, PartnershipStatus.ENDED),
    PartnershipStatus.IN_FORCE: (PartnershipStatus.ENDED,),
    PartnershipStatus.ENDED: (),
}


class Partnership(models.Model):
    """An agreement between two or more governments that groups listings and agreed matches."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=PartnershipKind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=PartnershipStatus.choices, default=PartnershipStatus.NEGOTIATING
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    in_force_from = models.DateField(_("in force from"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_("Once in force, every signed-in organisation may read it (its documents stay members-only)."),
    )
    listings = models.ManyToManyField(
        "opportunities.Listing", related_name="partnerships", blank=True, verbose_name=_("listings")
    )
    matches = models.ManyToManyField(
        "exchange.Match", related_name="partnerships", blank=True, verbose_name=_("matches")
    )
    created_by_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("created by (organisation)")
    )
    created_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Its members', and anyone's once public and in force (exchange.access).
    objects = SharedManager["Partnership"](access="exchange.access")

    class Meta:
        verbose_name = _("partnership")
        verbose_name_plural = _("partnerships")
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["status", "public"], name="partnership_status_public")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=PartnershipStatus.values), name="partnership_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=PartnershipKind.values), name="partnership_kind_valid"),
            # A signed or in-force agreement has a signature date; one in force, a start.
            models.CheckConstraint(
                condition=~Q(status__in=(PartnershipStatus.SIGNED, PartnershipStatus.IN_FORCE))
                | Q(signed_on__isnull=False),
                name="partnership_signed_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status=PartnershipStatus.IN_FORCE) | Q(in_force_from__isnull=False),
                name="partnership_in_force_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status=PartnershipStatus.ENDED) | Q(ends_on__isnull=False),
                name="partnership_ended_has_date",
            ),
            models.CheckConstraint(
                condition=Q(signed_on__isnull=True)
                | Q(in_force_from__isnull=True)
                | Q(in_force_from__gte=F("signed_on")),
                name="partnership_in_force_after_signature",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(in_force_from__isnull=True) | Q(ends_on__gte=F("in_force_from")),
                name="partnership_ends_after_in_force",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(signed_on__isnull=True) | Q(ends_on__gte=F("signed_on")),
                name="partnership_ends_after_signature",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MemberState(models.TextChoices):
    INVITED = "invited", _("Invited")
    CONFIRMED = "confirmed", _("Confirmed")
    DECLINED = "declined", _("Declined")
    LEFT = "left", _("Left")


# Members in these states see the partnership; the others are kept as history.
ACTIVE_MEMBER_STATES = (MemberState.INVITED, MemberState.CONFIRMED)


class PartnershipMember(models.Model):
    """One government's place in a partnership: invited, then confirmed (or declined, or left).

    Rows are never deleted, so the record shows who was named and how each answered.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=16, choices=MemberState.choices, default=MemberState.INVITED)
    invited_by = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    invited_at = models.DateTimeField(_("invited at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    left_at = models.DateTimeField(_("declined or left at"), null=True, blank=True)

    class Meta:
        verbose_name = _("partnership member")
        verbose_name_plural = _("partnership members")
        ordering = ["invited_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["partnership", "organisation"], name="partnership_member_unique"),
            models.CheckConstraint(
                condition=~Q(state=MemberState.CONFIRMED) | Q(confirmed_at__isnull=False),
                name="partnership_member_confirmed_has_date",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "state"], name="partnership_member_org_state")]

    def __str__(self) -> str:
        return f"{self.organisation_id} in {self.partnership_id} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_MEMBER_STATES


class DocumentType(models.TextChoices):
    AGREEMENT = "agreement", _("Agreement text")
    ANNEX = "annex", _("Annex")
    MINUTES = "minutes", _("Minutes")
    OTHER = "other", _("Other")


def partnership_document_path(instance: PartnershipDocument, filename: str) -> str:
    """A path no one can guess or derive from the upload: 256 random bits and the extension.

    The original name is kept in ``original_filename`` and given back only in the
    download's ``Content-Disposition``. These files must never be served from
    ``MEDIA_URL``: the download endpoint is the only way out, and it checks membership.
    """
    suffix = PurePath(filename).suffix.lower()
    return f"private/partnerships/{secrets.token_hex(32)}{suffix}"


class PartnershipDocument(models.Model):
    """A file shared among a partnership's members (the agreement text, annexes, minutes)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(_("file"), upload_to=partnership_document_path, max_length=255)
    original_filename = models.CharField(_("original file name"), max_length=200)
    title = models.CharField(_("title"), max_length=200, blank=True)
    document_type = models.CharField(_("document type"), max_length=16, choices=DocumentType.choices)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    uploaded_by_organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    # Its partnership's active members' (exchange.access).
    objects = SharedManager["PartnershipDocument"](access="exchange.access")

    class Meta:
        verbose_name = _("partnership document")
        verbose_name_plural = _("partnership documents")
        ordering = ["-uploaded_at", "id"]

    def __str__(self) -> str:
        return self.title or self.original_filename


# --- The agreement and its joint committee (issue 16) ------------------------------------------
#
# The agreement's signature and entry-into-force dates are the partnership's own
# (``signed_on``, ``in_force_from``, held by the constraints above): one date, one
# place. The agreement adds what the partnership row does not hold. Who reads which
# part is decided in ``exchange.access`` (``agreement_audience``): the summary, the
# dates and the parties are public once the partnership is public and in force (ILO
# fair-recruitment guideline 13.1); the text and the whole committee stay with the
# members (officials' names are personal data).


class PartnershipAgreement(models.Model):
    """The agreement a partnership holds: its text or summary, its parties and its review date."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.OneToOneField(Partnership, on_delete=models.CASCADE, related_name="agreement")
    summary = models.TextField(
        _("summary"), blank=True, help_text=_("Shown to every reader once the partnership is public and in force.")
    )
    text = models.TextField(_("signed text"), blank=True, help_text=_("Members only."))
    review_on = models.DateField(_("review date"), null=True, blank=True)
    named_parties = ArrayField(
        models.CharField(max_length=200),
        verbose_name=_("other parties"),
        default=list,
        blank=True,
        help_text=_("Parties that are not member governments here (e.g. a regional authority, an agency)."),
    )
    # The review date a reminder was last sent for: at most one reminder per review date.
    review_reminded_for = models.DateField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    # Its partnership's readers, per field (exchange.access.agreement_audience).
    objects = SharedManager["PartnershipAgreement"](access="exchange.access")

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        indexes = [models.Index(fields=["review_on"], name="agreement_review_on")]

    def __str__(self) -> str:
        return f"agreement of {self.partnership_id}"


class CommitteeMember(models.Model):
    """An official sitting on the partnership's joint committee (members-only: a person's name)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="committee_members")
    name = models.CharField(_("name"), max_length=200)
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    role = models.CharField(_("role"), max_length=200, blank=True, help_text=_("E.g. co-chair, secretary."))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SharedManager["CommitteeMember"](access="exchange.access")

    class Meta:
        verbose_name = _("committee member")
        verbose_name_plural = _("committee members")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class CommitteeMeeting(models.Model):
    """A meeting of the joint committee; its minutes are a partnership document (members only)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="committee_meetings")
    held_on = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=200, blank=True)
    minutes = models.ForeignKey(
        PartnershipDocument,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("minutes"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SharedManager["CommitteeMeeting"](access="exchange.access")

    class Meta:
        verbose_name = _("committee meeting")
        verbose_name_plural = _("committee meetings")
        ordering = ["-held_on", "id"]

    def __str__(self) -> str:
        return self.title or str(self.held_on)


class CommitteeDecision(models.Model):
    """A decision of the joint committee, linked to the grouped listings (schemes) it changes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="committee_decisions")
    decided_on = models.DateField(_("date"))
    text = models.TextField(_("decision"))
    listings = models.ManyToManyField(
        "opportunities.Listing", related_name="+", blank=True, verbose_name=_("schemes it changes")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SharedManager["CommitteeDecision"](access="exchange.access")

    class Meta:
        verbose_name = _("committee decision")
        verbose_name_plural = _("committee decisions")
        ordering = ["-decided_on", "id"]

    def __str__(self) -> str:
        return self.text[:60]
