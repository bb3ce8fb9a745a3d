"""A partnership's agreement and its joint committee: the writes, and the review reminder.

Who may read which part is decided in ``exchange.access`` (``agreement_audience``,
``committee_*_visible_to``); who may write is ``access.can_change_agreement``: the
officials and administrators of a *confirmed* member, as for the partnership
itself. Every service owns its transaction, writes one audit row and raises
``ValidationError`` with a dict naming the field (400) or ``PermissionDenied`` (403).

The review reminder (``agreement_review_reminders_send``, daily from beat) tells the
member governments ``AGREEMENT_REVIEW_REMINDER_DAYS`` before a review date falls
due: one ``agreement.review_due`` event addressed to them, and an e-mail to each of
their administrators through the outbox. It is sent once per review date: a new
review date gets its own reminder.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.mail import email_enqueue
from accounts.models import Membership, Organisation, Role
from accounts.services import audit_record
from accounts.tenancy import Actor, through_access, unscoped
from exchange import access
from exchange.models import DocumentType, MemberState, Partnership, PartnershipMember, PartnershipStatus
from exchange.models.partnerships import (
    CommitteeDecision,
    CommitteeMeeting,
    CommitteeMember,
    PartnershipAgreement,
)
from exchange.notifications.events import events_emit_addressed
from exchange.partnerships.selectors import membership_of
from exchange.partnerships.services import partnership_document_upload
from opportunities.models import Listing

MAX_PARTIES = 20


def _require_writer(*, actor: Actor, partnership: Partnership) -> None:
    access.can_change_agreement(actor, membership_of(actor=actor, partnership=partnership)).check()


def _text(value: Any, *, field: str, required: bool = False, max_length: int | None = None) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: _("This field is required.")})
    if max_length is not None and len(text) > max_length:
        raise ValidationError(
            {field: _("Ensure this field has no more than %(max)d characters.") % {"max": max_length}}
        )
    return text


def _iso(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


# --- The agreement ----------------------------------------------------------------------


@through_access("the agreement of a partnership its caller resolved through exchange.access")
def agreement_of(partnership: Partnership) -> PartnershipAgreement | None:
    """The partnership's agreement, if one was recorded (the caller already reads the partnership)."""
    return PartnershipAgreement.objects.filter(partnership=partnership).first()


@through_access("a service writes the agreement of a partnership its caller resolved through exchange.access")
@transaction.atomic
def agreement_save(
    *,
    actor: Actor,
    partnership: Partnership,
    summary: str = "",
    text: str = "",
    review_on: datetime.date | None = None,
    named_parties: Sequence[str] = (),
) -> PartnershipAgreement:
    """Record the agreement (a full replacement: what is not given is cleared).

    Permission: a confirmed member's officials and admins (PermissionDenied). The
    review date cannot fall before the signature date (``review_on``); other parties
    are at most ``MAX_PARTIES`` names of up to 200 characters (``named_parties``).
    The signature and entry-into-force dates are the partnership's own.
    """
    _require_writer(actor=actor, partnership=partnership)
    parties = list(dict.fromkeys(p.strip() for p in named_parties if p and p.strip()))
    if len(parties) > MAX_PARTIES:
        raise ValidationError({"named_parties": _("Name at most %(max)d other parties.") % {"max": MAX_PARTIES}})
    if any(len(p) > 200 for p in parties):
        raise ValidationError({"named_parties": _("Each party's name has at most 200 characters.")})
    if review_on and partnership.signed_on and review_on < partnership.signed_on:
        raise ValidationError({"review_on": _("The review date cannot be before the signature date.")})
    agreement = PartnershipAgreement.objects.select_for_update().filter(partnership=partnership).first()
    created = agreement is None
    if agreement is None:
        agreement = PartnershipAgreement(partnership=partnership)
    new: dict[str, Any] = {"summary": (summary or "").strip(), "text": (text or "").strip(), "review_on": review_on}
    changes: dict[str, Any] = {}
    for key, value in new.items():
        old = getattr(agreement, key)
        if old != value:
            changes[key] = [_iso(old), _iso(value)] if key == "review_on" else {"changed": True}
            setattr(agreement, key, value)
    if agreement.named_parties != parties:
        changes["named_parties"] = [agreement.named_parties, parties]
        agreement.named_parties = parties
    if created or changes:
        agreement.save()
        audit_record(
            actor=actor,
            action="partnership.agreement_recorded" if created else "partnership.agreement_updated",
            obj=partnership,
            changes=changes,
        )
    return agreement


def agreement_parties(partnership: Partnership, agreement: PartnershipAgreement | None) -> list[str]:
    """The parties: the confirmed member governments, then the other named parties."""
    with through_access("the confirmed members of a partnership its caller reads"):
        members = [
            row.organisation.name
            for row in PartnershipMember.objects.filter(partnership=partnership, state=MemberState.CONFIRMED)
            .select_related("organisation")
            .order_by("invited_at", "id")
        ]
    return members + (list(agreement.named_parties) if agreement else [])


# --- The committee ----------------------------------------------------------------------


def _member_organisation(partnership: Partnership, organisation_id: Any) -> Organisation:
    """An active member government of the partnership; anything else is a 400 naming ``organisation``."""
    with through_access("the members of a partnership its caller may change"):
        row = (
            PartnershipMember.objects.filter(
                partnership=partnership, organisation_id=organisation_id, state=MemberState.CONFIRMED
            )
            .select_related("organisation")
            .first()
        )
    if row is None:
        raise ValidationError({"organisation": _("Choose one of the partnership's confirmed member governments.")})
    return row.organisation


def _grouped_listings(partnership: Partnership, ids: Sequence[Any]) -> list[Listing]:
    """Listings grouped in the partnership; any other id is a 400 naming ``listings``."""
    ids = list(dict.fromkeys(str(pk) for pk in ids))
    grouped, _matches = access.partnership_grouped(partnership)
    found = {str(listing.pk): listing for listing in grouped.filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ValidationError(
            {"listings": [_("'%(id)s' is not a scheme grouped in this partnership.") % {"id": pk} for pk in missing]}
        )
    return [found[pk] for pk in ids]


def _minutes(partnership: Partnership, document_id: Any) -> Any:
    from exchange.models import PartnershipDocument

    with through_access("a document of a partnership its caller may change"):
        document = PartnershipDocument.objects.filter(partnership=partnership, pk=document_id).first()
    if document is None:
        raise ValidationError({"minutes": _("Choose a document of this partnership.")})
    return document


_COMMITTEE_LABELS = {
    CommitteeMember: "committee_member",
    CommitteeMeeting: "committee_meeting",
    CommitteeDecision: "committee_decision",
}


def _audit(actor: Actor, row: models.Model, verb: str, changes: dict[str, Any]) -> None:
    partnership = row.partnership  # type: ignore[attr-defined]  # every committee row has its partnership
    audit_record(
        actor=actor,
        action=f"partnership.{_COMMITTEE_LABELS[type(row)]}_{verb}",
        obj=partnership,
        changes={"id": str(row.pk), **changes},
    )


@through_access("a service writes the committee of a partnership its caller resolved through exchange.access")
@transaction.atomic
def committee_member_add(
    *, actor: Actor, partnership: Partnership, name: str, organisation: Any, role: str = ""
) -> CommitteeMember:
    """Seat an official on the joint committee. Permission: as ``agreement_save``.

    ``organisation`` is the id of one of the confirmed member governments.
    """
    _require_writer(actor=actor, partnership=partnership)
    row = CommitteeMember.objects.create(
        partnership=partnership,
        name=_text(name, field="name", required=True, max_length=200),
        organisation=_member_organisation(partnership, organisation),
        role=_text(role, field="role", max_length=200),
    )
    # The audit row keeps the seat, not the person's name (personal data stays in one row).
    _audit(actor, row, "added", {"organisation": str(row.organisation_id), "role": row.role})
    return row


@through_access("a service writes the committee of a partnership its caller resolved through exchange.access")
@transaction.atomic
def committee_member_update(*, actor: Actor, member: CommitteeMember, data: dict[str, Any]) -> CommitteeMember:
    """Change a seat's name, organisation or role (any subset). Permission: as ``agreement_save``."""
    _require_writer(actor=actor, partnership=member.partnership)
    if "name" in data:
        member.name = _text(data["name"], field="name", required=True, max_length=200)
    if "role" in data:
        member.role = _text(data["role"], field="role", max_length=200)
    if "organisation" in data:
        member.organisation = _member_organisation(member.partnership, data["organisation"])
    member.save(update_fields=["name", "role", "organisation"])
    _audit(actor, member, "updated", {"fields": sorted(data)})
    return member


@through_access("a service writes the committee of a partnership its caller resolved through exchange.access")
@transaction.atomic
def committee_meeting_add(
    *,
    actor: Actor,
    partnership: Partnership,
    held_on: datetime.date,
    title: str = "",
    minutes: Any = None,
    minutes_file: UploadedFile | None = None,
) -> CommitteeMeeting:
    """Record a meeting; its minutes are a partnership document, named by id (``minutes``) or
    uploaded here (``minutes_file``, checked as every document is). Permission: as
    ``agreement_save``. Nothing is kept if the upload is refused."""
    _require_writer(actor=actor, partnership=partnership)
    if minutes is not None and minutes_file is not None:
        raise ValidationError({"minutes": _("Give the minutes as a document id or as a file, not both.")})
    document = None
    if minutes_file is not None:
        document = partnership_document_upload(
            actor=actor,
            partnership=partnership,
            file=minutes_file,
            document_type=DocumentType.MINUTES,
            title=_("Minutes of %(date)s") % {"date": held_on.isoformat()},
        )
    elif minutes is not None:
        document = _minutes(partnership, minutes)
    row = CommitteeMeeting.objects.create(
        partnership=partnership,
        held_on=held_on,
        title=_text(title, field="title", max_length=200),
        minutes=document,
    )
    _audit(actor, row, "added", {"held_on": held_on.isoformat(), "minutes": str(document.pk) if document else None})
    return row


@through_access("a service writes the committee of a partnership its caller resolved through exchange.access")
@transaction.atomic
def committee_meeting_update(*, actor: Actor, meeting: CommitteeMeeting, data: dict[str, Any]) -> CommitteeMeeting:
    """Change a meeting's date, title or minutes (a document id, or null). Permission: as ``agreement_save``."""
    _require_writer(actor=actor, partnership=meeting.partnership)
    if "held_on" in data:
        meeting.held_on = data["held_on"]
    if "title" in data:
        meeting.title = _text(data["title"], field="title", max_length=200)
    if "minutes" in data:
        meeting.minutes = _minutes(meeting.partnership, data["minutes"]) if data["minutes"] else None
    meeting.save(update_fields=["held_on", "title", "minutes"])
    _audit(actor, meeting, "updated", {"fields": sorted(data)})
    return meeting


@through_access("a service writes the committee of a partnership its caller resolved through exchange.access")
@transaction.atomic
def committee_decision_add(
    *, actor: Actor, partnership: Partnership, decided_on: datetime.date, text: str, listings: Sequence[Any] = ()
) -> CommitteeDecision:
    """Record a decision and the grouped schemes it changes. Permission: as ``agreement_save``."""
    _require_writer(actor=actor, partnership=partnership)
    body = _text(text, field="text", required=True, max_length=10_000)
    changed = _grouped_listings(partnership, listings)
    row = CommitteeDecision.objects.create(partnership=partnership, decided_on=decided_on, text=body)
    row.listings.set(changed)
    _audit(actor, row, "added", {"decided_on": decided_on.isoformat(), "listings": [str(x.pk) for x in changed]})
    return row


@through_access("a service writes the committee of a partnership its caller resolved through exchange.access")
@transaction.atomic
def committee_decision_update(*, actor: Actor, decision: CommitteeDecision, data: dict[str, Any]) -> CommitteeDecision:
    """Change a decision's date, text or schemes (any subset). Permission: as ``agreement_save``."""
    _require_writer(actor=actor, partnership=decision.partnership)
    if "decided_on" in data:
        decision.decided_on = data["decided_on"]
    if "text" in data:
        decision.text = _text(data["text"], field="text", required=True, max_length=10_000)
    decision.save(update_fields=["decided_on", "text"])
    if "listings" in data:
        decision.listings.set(_grouped_listings(decision.partnership, data["listings"]))
    _audit(actor, decision, "updated", {"fields": sorted(data)})
    return decision


@through_access("a service writes the committee of a partnership its caller resolved through exchange.access")
@transaction.atomic
def committee_row_delete(*, actor: Actor, row: CommitteeMember | CommitteeMeeting | CommitteeDecision) -> None:
    """Remove a committee member, meeting or decision (a meeting's minutes stay among the
    documents). Permission: as ``agreement_save``."""
    _require_writer(actor=actor, partnership=row.partnership)
    _audit(actor, row, "deleted", {})
    row.delete()


# --- The review reminder ----------------------------------------------------------------


def _admin_emails(organisation_ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, str]]:
    """(user id, e-mail) of each active administrator of the organisations."""
    with unscoped("the review reminder e-mails every member government's administrators"):
        return list(
            Membership.objects.filter(
                organisation_id__in=organisation_ids, role=Role.ADMIN, user__is_active=True
            ).values_list("user_id", "user__email")
        )


def agreement_review_reminders_send(*, today: datetime.date | None = None) -> int:
    """Remind the member governments of every review date due within
    ``AGREEMENT_REVIEW_REMINDER_DAYS`` (and not yet past), once per review date.

    Runs daily from beat (``exchange.agreement_review_reminders``), across tenants.
    Each agreement is handled in its own transaction with its row locked, so two
    runs at once send one reminder. Returns the number of reminders sent.
    """
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=settings.AGREEMENT_REVIEW_REMINDER_DAYS)
    with unscoped("a daily sweep over every agreement's review date"):
        due = list(
            PartnershipAgreement.objects.filter(review_on__gte=today, review_on__lte=horizon)
            .exclude(review_reminded_for=models.F("review_on"))
            .exclude(partnership__status=PartnershipStatus.ENDED)
            .values_list("pk", flat=True)
        )
    sent = 0
    for pk in due:
        with unscoped("the review reminder of one agreement"), transaction.atomic():
            agreement = (
                PartnershipAgreement.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("partnership")
                .filter(pk=pk)
                .first()
            )
            if agreement is None or agreement.review_on is None or agreement.review_reminded_for == agreement.review_on:
                continue
            partnership = agreement.partnership
            recipients = list(access.agreement_reminder_recipients(partnership).values_list("pk", flat=True))
            data = {
                "partnership_id": str(partnership.pk),
                "title": partnership.name,
                "review_on": agreement.review_on.isoformat(),
                "url": f"{settings.SITE_URL}/partnerships/{partnership.pk}/",
            }
            events_emit_addressed(type="agreement.review_due", items=[(data, recipients)])
            subject = _("Review of “%(name)s” due on %(date)s") % {
                "name": partnership.name,
                "date": agreement.review_on.isoformat(),
            }
            body = _(
                "The agreement of the partnership “%(name)s” is due for review on %(date)s.\n\n"
                "Prepare the review with the other member governments:\n%(url)s\n"
            ) % {"name": partnership.name, "date": agreement.review_on.isoformat(), "url": data["url"]}
            for user_id, email in _admin_emails(recipients):
                email_enqueue(
                    key=f"agreement-review:{agreement.pk}:{agreement.review_on.isoformat()}:{user_id}",
                    to=email,
                    subject=subject,
                    body=body,
                )
            agreement.review_reminded_for = agreement.review_on
            agreement.save(update_fields=["review_reminded_for"])
            audit_record(
                actor=None,
                action="partnership.agreement_review_reminded",
                obj=partnership,
                changes={"review_on": agreement.review_on.isoformat(), "organisations": sorted(map(str, recipients))},
            )
            sent += 1
    return sent
