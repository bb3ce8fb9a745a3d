"""Partnerships: the writes (create, change, join, leave, documents).

The reads are in ``exchange.partnerships.selectors``, the checks of an uploaded
file in ``exchange.partnerships.documents`` and every "who may" rule in
``exchange.access``. Who sees what (``partnership_visible_to``):

* the **members** of a partnership see it: confirmed members, and governments that
  were invited and have not answered yet. An invited government needs to read the
  partnership (its name, kind, the other members, the grouped listings, the
  documents) to decide whether to join, and it was named by a member on purpose;
  a government that declined or left no longer sees it.
* once a partnership is **in force and public**, every signed-in organisation (and
  the anonymous actor, should a public endpoint ever serve it) may read it. Its
  documents stay members-only, and non-members see only the confirmed members.
* anyone else gets a 404, exactly as for a missing partnership.

Who may do what (each service says it again):

* create: an official or admin of a government;
* change (name, kind, status, dates, public, listings, matches, invite more
  members), upload documents: an official or admin of a *confirmed* member;
* confirm or decline an invitation: an official or admin of the invited government;
* leave: an official or admin of a confirmed member (not the last one);
* delete a document: an official or admin of the organisation that uploaded it.

Services raise ``ValidationError`` with a dict naming the field (400),
``PermissionDenied`` (403) and ``StateConflict`` (409). Each owns its transaction
and writes one audit row.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, OrganisationKind
from accounts.selectors import organisation_list
from accounts.services import audit_record
from accounts.tenancy import Actor, through_access
from config.errors import StateConflict
from exchange import access
from exchange.access import match_visible_to
from exchange.models import (
    DocumentType,
    Match,
    MatchState,
    MemberState,
    Partnership,
    PartnershipDocument,
    PartnershipMember,
    PartnershipStatus,
)
from exchange.models.partnerships import STATUS_TRANSITIONS
from exchange.partnerships.documents import validate_document_file
from exchange.partnerships.selectors import membership_of
from opportunities.access import listing_visible_to
from opportunities.models import Listing

# --- Validation helpers -----------------------------------------------------------------


def _dedupe(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _require_confirmed_writer(*, actor: Actor, partnership: Partnership) -> PartnershipMember | None:
    membership = membership_of(actor=actor, partnership=partnership)
    access.can_change_partnership(actor, membership).check()
    return membership


def _resolve_governments(ids: Sequence[uuid.UUID]) -> list[Organisation]:
    """Active government organisations for ``ids``; any other id is a 400 naming ``members``.

    One message for an unknown id, an inactive organisation and an agency: the
    caller learns nothing it could not read from the organisation directory.
    """
    ids = _dedupe(ids)
    found = {org.pk: org for org in organisation_list().filter(pk__in=ids, kind=OrganisationKind.GOVERNMENT)}
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        raise ValidationError(
            {
                "members": [
                    _("'%(id)s' is not an active government organisation: only governments can be members.")
                    % {"id": pk}
                    for pk in missing
                ]
            }
        )
    return [found[pk] for pk in ids]


def _resolve_listings(*, actor: Actor, ids: Sequence[uuid.UUID], member_ids: set[uuid.UUID]) -> list[Listing]:
    ids = _dedupe(ids)
    found = {
        listing.pk: listing for listing in listing_visible_to(actor=actor).filter(pk__in=ids).only("id", "owner_id")
    }
    errors = []
    for pk in ids:
        listing = found.get(pk)
        if listing is None:
            errors.append(_("No listing you can see has the id '%(id)s'.") % {"id": pk})
        elif listing.owner_id not in member_ids:
            errors.append(_("Listing '%(id)s' is not posted by a member government.") % {"id": pk})
    if errors:
        raise ValidationError({"listings": errors})
    return [found[pk] for pk in ids]


def _resolve_matches(*, actor: Actor, ids: Sequence[uuid.UUID], member_ids: set[uuid.UUID]) -> list[Match]:
    ids = _dedupe(ids)
    found = {
        match.pk: match
        for match in match_visible_to(actor=actor)
        .filter(pk__in=ids)
        .only("id", "state", "demand_owner_id", "supply_owner_id")
    }
    errors = []
    for pk in ids:
        match = found.get(pk)
        if match is None:
            errors.append(_("No match you can see has the id '%(id)s'.") % {"id": pk})
        elif match.state != MatchState.AGREED:
            errors.append(
                _("Match '%(id)s' is %(state)s: only agreed matches can be grouped in a partnership.")
                % {"id": pk, "state": match.state}
            )
        elif match.demand_owner_id not in member_ids or match.supply_owner_id not in member_ids:
            errors.append(_("Match '%(id)s' is not between two member governments.") % {"id": pk})
    if errors:
        raise ValidationError({"matches": errors})
    return [found[pk] for pk in ids]


def _validate_dates(
    *, status: str, signed_on: datetime.date | None, in_force_from: datetime.date | None, ends_on: datetime.date | None
) -> None:
    """The dates each status needs, and their order (the model's constraints, with messages)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if status in (PartnershipStatus.SIGNED, PartnershipStatus.IN_FORCE) and signed_on is None:
        add("signed_on", _("A signed partnership needs the date it was signed (signed_on)."))
    if status == PartnershipStatus.IN_FORCE and in_force_from is None:
        add("in_force_from", _("A partnership in force needs the date it entered into force (in_force_from)."))
    if status == PartnershipStatus.ENDED and ends_on is None:
        add("ends_on", _("An ended partnership needs the date it ended (ends_on)."))
    if signed_on and in_force_from and in_force_from < signed_on:
        add("in_force_from", _("in_force_from cannot be before signed_on."))
    if ends_on and in_force_from and ends_on < in_force_from:
        add("ends_on", _("ends_on cannot be before in_force_from."))
    if ends_on and signed_on and ends_on < signed_on:
        add("ends_on", _("ends_on cannot be before signed_on."))
    if errors:
        raise ValidationError(errors)


def _validate_transition(old: str, new: str) -> None:
    if new != old and new not in STATUS_TRANSITIONS[old]:
        allowed = ", ".join(STATUS_TRANSITIONS[old]) or _("nothing (it is final)")
        raise ValidationError(
            {
                "status": _("A partnership that is %(old)s can move to %(allowed)s, not to %(new)s.")
                % {"old": old, "new": new, "allowed": allowed}
            }
        )


def _ids(objects: Iterable[Any]) -> list[str]:
    return sorted(str(obj.pk) for obj in objects)


def _date(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


# --- Writes -----------------------------------------------------------------------------


@through_access("a service writes a partnership its caller resolved through exchange.access")
@transaction.atomic
def partnership_create(
    *,
    actor: Actor,
    name: str,
    kind: str,
    members: Sequence[uuid.UUID],
    listings: Sequence[uuid.UUID] = (),
    matches: Sequence[uuid.UUID] = (),
    status: str = PartnershipStatus.NEGOTIATING,
    signed_on: datetime.date | None = None,
    in_force_from: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    public: bool = False,
) -> Partnership:
    """Create a partnership. The actor's organisation becomes its first confirmed member;
    every organisation in ``members`` is invited and confirms (or declines) itself.

    Permission: an official or admin of a government (PermissionDenied otherwise).
    A partnership may be recorded in any status (an agreement signed years ago is
    still worth recording), provided its dates fit that status. Raises
    ValidationError naming ``name``, ``members``, ``listings``, ``matches`` or a date.
    """
    access.can_create_partnership(actor).check()
    creator = actor.organisation
    assert creator is not None  # a government's official or admin
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("A name is required.")})
    others = _resolve_governments([pk for pk in members if pk != creator.pk])
    if not others:
        raise ValidationError({"members": _("Name at least one other government: a partnership has two or more.")})
    if len({str(creator.country)} | {str(org.country) for org in others}) < 2:
        raise ValidationError({"members": _("A partnership is between the governments of at least two countries.")})
    _validate_dates(status=status, signed_on=signed_on, in_force_from=in_force_from, ends_on=ends_on)
    member_ids = {creator.pk} | {org.pk for org in others}
    grouped_listings = _resolve_listings(actor=actor, ids=listings, member_ids=member_ids)
    grouped_matches = _resolve_matches(actor=actor, ids=matches, member_ids=member_ids)

    now = timezone.now()
    partnership = Partnership.objects.create(
        name=name,
        kind=kind,
        status=status,
        signed_on=signed_on,
        in_force_from=in_force_from,
        ends_on=ends_on,
        public=public,
        created_by_organisation=creator,
        created_by=actor.user,
    )
    PartnershipMember.objects.bulk_create(
        [
            PartnershipMember(
                partnership=partnership,
                organisation=creator,
                state=MemberState.CONFIRMED,
                invited_at=now,
                confirmed_at=now,
            ),
            *(
                PartnershipMember(partnership=partnership, organisation=org, invited_by=creator, invited_at=now)
                for org in others
            ),
        ]
    )
    partnership.listings.set(grouped_listings)
    partnership.matches.set(grouped_matches)
    audit_record(
        actor=actor,
        action="partnership.created",
        obj=partnership,
        changes={
            "name": name,
            "kind": kind,
            "status": status,
            "members": [str(creator.pk), *(str(org.pk) for org in others)],
            "listings": _ids(grouped_listings),
            "matches": _ids(grouped_matches),
            "signed_on": _date(signed_on),
            "in_force_from": _date(in_force_from),
            "ends_on": _date(ends_on),
            "public": public,
        },
    )
    return partnership


PARTNERSHIP_EDITABLE = ("name", "kind", "status", "signed_on", "in_force_from", "ends_on", "public")


@through_access("a service writes a partnership its caller resolved through exchange.access")
@transaction.atomic
def partnership_update(*, actor: Actor, partnership: Partnership, data: dict[str, Any]) -> Partnership:
    """Change a partnership; only the keys present in ``data`` are touched.

    * ``status`` moves negotiating → signed → in_force → ended (or straight to
      ended); the dates the new status needs must be present, in order.
    * ``members`` invites more governments (a government that declined or left is
      invited again); existing members are kept, whether listed or not: a member
      leaves on its own, with ``partnership_leave``.
    * ``listings`` and ``matches`` replace the grouped sets. Grouped listings the
      actor cannot read (another member's draft) are kept as they are; only
      newly grouped ones are checked (visible to the actor, posted by a member;
      agreed matches between two members).

    Permission: an official or admin of a confirmed member (PermissionDenied).
    Raises ValidationError naming the field.
    """
    partnership = Partnership.objects.select_for_update().get(pk=partnership.pk)
    _require_confirmed_writer(actor=actor, partnership=partnership)
    changes: dict[str, Any] = {}
    unknown = set(data) - {*PARTNERSHIP_EDITABLE, "members", "listings", "matches"}
    if unknown:
        raise ValidationError({key: _("This field cannot be changed.") for key in sorted(unknown)})

    if "name" in data:
        data["name"] = (data["name"] or "").strip()
        if not data["name"]:
            raise ValidationError({"name": _("A name is required.")})
    if "status" in data:
        _validate_transition(partnership.status, data["status"])
    merged = {key: data.get(key, getattr(partnership, key)) for key in PARTNERSHIP_EDITABLE}
    _validate_dates(
        status=merged["status"],
        signed_on=merged["signed_on"],
        in_force_from=merged["in_force_from"],
        ends_on=merged["ends_on"],
    )

    rows = {row.organisation_id: row for row in partnership.memberships.select_for_update()}
    invited: list[Organisation] = []
    if "members" in data:
        for org in _resolve_governments(data["members"]):
            row = rows.get(org.pk)
            if row is None or not row.is_active:
                invited.append(org)
    member_ids = {pk for pk, row in rows.items() if row.is_active} | {org.pk for org in invited}

    listing_change: dict[str, list[str]] | None = None
    if "listings" in data:
        current = set(partnership.listings.values_list("pk", flat=True))
        readable = set(listing_visible_to(actor=actor).filter(pk__in=current).values_list("pk", flat=True))
        wanted = set(_dedupe(data["listings"]))
        added = [pk for pk in _dedupe(data["listings"]) if pk not in current]
        _resolve_listings(actor=actor, ids=added, member_ids=member_ids)
        removed = readable - wanted
        if added or removed:
            partnership.listings.remove(*removed)  # type: ignore[arg-type]  # pks are accepted; the stubs assume int pks
            partnership.listings.add(*added)
            listing_change = {"added": sorted(map(str, added)), "removed": sorted(map(str, removed))}

    match_change: dict[str, list[str]] | None = None
    if "matches" in data:
        current = set(partnership.matches.values_list("pk", flat=True))
        wanted = set(_dedupe(data["matches"]))
        added = [pk for pk in _dedupe(data["matches"]) if pk not in current]
        _resolve_matches(actor=actor, ids=added, member_ids=member_ids)
        removed = current - wanted
        if added or removed:
            partnership.matches.remove(*removed)  # type: ignore[arg-type]  # pks are accepted; the stubs assume int pks
            partnership.matches.add(*added)
            match_change = {"added": sorted(map(str, added)), "removed": sorted(map(str, removed))}

    now = timezone.now()
    for org in invited:
        row = rows.get(org.pk)
        if row is None:
            PartnershipMember.objects.create(
                partnership=partnership, organisation=org, invited_by=actor.organisation, invited_at=now
            )
        else:
            row.state, row.invited_by, row.invited_at = MemberState.INVITED, actor.organisation, now
            row.confirmed_at = row.left_at = None
            row.save(update_fields=["state", "invited_by", "invited_at", "confirmed_at", "left_at"])

    fields = []
    for key in PARTNERSHIP_EDITABLE:
        if key in data and data[key] != getattr(partnership, key):
            old, new = getattr(partnership, key), data[key]
            changes[key] = [
                _date(old) if isinstance(old, datetime.date) else old,
                _date(new) if isinstance(new, datetime.date) else new,
            ]
            setattr(partnership, key, new)
            fields.append(key)
    if invited:
        changes["members"] = {"invited": sorted(str(org.pk) for org in invited)}
    if listing_change:
        changes["listings"] = listing_change
    if match_change:
        changes["matches"] = match_change
    if changes:
        partnership.save(update_fields=[*fields, "updated_at"])
        audit_record(actor=actor, action="partnership.updated", obj=partnership, changes=changes)
    return partnership


def _locked_membership(*, actor: Actor, partnership: Partnership) -> PartnershipMember | None:
    return (
        PartnershipMember.objects.select_for_update()
        .filter(partnership=partnership, organisation=actor.organisation)
        .first()
    )


def _detach_member_items(*, partnership: Partnership, organisation: Organisation) -> dict[str, list[str]]:
    """Ungroup what a departing member brought: its listings, and matches it is a party to."""
    listings = list(partnership.listings.filter(owner=organisation).values_list("pk", flat=True))
    matches = list(
        partnership.matches.filter(Q(demand_owner=organisation) | Q(supply_owner=organisation)).values_list(
            "pk", flat=True
        )
    )
    partnership.listings.remove(*listings)  # type: ignore[arg-type]  # pks are accepted; the stubs assume int pks
    partnership.matches.remove(*matches)  # type: ignore[arg-type]  # pks are accepted; the stubs assume int pks
    return {"listings_removed": sorted(map(str, listings)), "matches_removed": sorted(map(str, matches))}


@through_access("a service writes a partnership its caller resolved through exchange.access")
@transaction.atomic
def partnership_confirm(*, actor: Actor, partnership: Partnership) -> PartnershipMember:
    """The invited government joins. Permission: its officials and admins.

    PermissionDenied if the actor's organisation was not invited; StateConflict if
    it has confirmed already.
    """
    membership = _locked_membership(actor=actor, partnership=partnership)
    access.can_answer_invitation(actor, membership, confirm=True).check()
    assert membership is not None  # the check above denies a missing membership
    membership.state, membership.confirmed_at = MemberState.CONFIRMED, timezone.now()
    membership.save(update_fields=["state", "confirmed_at"])
    audit_record(
        actor=actor, action="partnership.member_confirmed", obj=partnership, changes={"state": ["invited", "confirmed"]}
    )
    return membership


@through_access("a service writes a partnership its caller resolved through exchange.access")
@transaction.atomic
def partnership_decline(*, actor: Actor, partnership: Partnership) -> PartnershipMember:
    """The invited government says no; it stops seeing the partnership (unless public
    and in force). Permission: its officials and admins. StateConflict once confirmed
    (a confirmed member leaves instead)."""
    membership = _locked_membership(actor=actor, partnership=partnership)
    access.can_answer_invitation(actor, membership, confirm=False).check()
    assert membership is not None  # the check above denies a missing membership
    membership.state, membership.left_at = MemberState.DECLINED, timezone.now()
    membership.save(update_fields=["state", "left_at"])
    detached = _detach_member_items(partnership=partnership, organisation=membership.organisation)
    audit_record(
        actor=actor,
        action="partnership.member_declined",
        obj=partnership,
        changes={"state": ["invited", "declined"], **detached},
    )
    return membership


@through_access("a service writes a partnership its caller resolved through exchange.access")
@transaction.atomic
def partnership_leave(*, actor: Actor, partnership: Partnership) -> PartnershipMember:
    """A confirmed member withdraws; its listings and the matches it is a party to are
    ungrouped. Permission: its officials and admins. StateConflict for an invitation
    not yet answered (decline it) and for the last confirmed member (end the
    partnership instead, so that it is not left with no one to keep it)."""
    membership = _locked_membership(actor=actor, partnership=partnership)
    access.can_leave(actor, membership).check()
    assert membership is not None  # the check above denies a missing membership
    if membership.state != MemberState.CONFIRMED:
        raise StateConflict(_("Your organisation has not confirmed its membership: decline the invitation instead."))
    others = (
        PartnershipMember.objects.select_for_update()
        .filter(partnership=partnership, state=MemberState.CONFIRMED)
        .exclude(pk=membership.pk)
    )
    if not others.exists():
        raise StateConflict(_("Your organisation is the last confirmed member: end the partnership instead."))
    membership.state, membership.left_at = MemberState.LEFT, timezone.now()
    membership.save(update_fields=["state", "left_at"])
    detached = _detach_member_items(partnership=partnership, organisation=membership.organisation)
    audit_record(
        actor=actor,
        action="partnership.member_left",
        obj=partnership,
        changes={"state": ["confirmed", "left"], **detached},
    )
    return membership


# --- Documents --------------------------------------------------------------------------


@through_access("a service writes a partnership its caller resolved through exchange.access")
@transaction.atomic
def partnership_document_upload(
    *, actor: Actor, partnership: Partnership, file: UploadedFile, document_type: str, title: str = ""
) -> PartnershipDocument:
    """Store a document for the partnership's members.

    Permission: an official or admin of a confirmed member (PermissionDenied).
    Accepts PDF, DOCX, ODT, PNG and JPEG up to ``PARTNERSHIP_DOCUMENT_MAX_BYTES``,
    checked by extension *and* content; raises ValidationError naming ``file`` or
    ``document_type``. The file is stored under a random name before the row is
    written; if writing the row or the audit fails, the stored file is removed.
    """
    _require_confirmed_writer(actor=actor, partnership=partnership)
    if document_type not in DocumentType.values:
        raise ValidationError(
            {"document_type": _("Choose one of: %(types)s.") % {"types": ", ".join(DocumentType.values)}}
        )
    name, content_type = validate_document_file(file)
    assert file.size is not None  # validate_document_file refuses a file of unknown size
    document = PartnershipDocument(
        partnership=partnership,
        original_filename=name,
        title=(title or "").strip()[:200],
        document_type=document_type,
        content_type=content_type,
        size=file.size,
        uploaded_by_organisation=actor.organisation,
        uploaded_by=actor.user,
    )
    # The file is written before the row: if anything after it fails, remove it again
    # so that no orphan is left in storage.
    document.file.save(name, file, save=False)
    try:
        document.save()
        audit_record(
            actor=actor,
            action="partnership.document_uploaded",
            obj=partnership,
            changes={
                "document": str(document.pk),
                "document_type": document_type,
                "filename": name,
                "size": document.size,
                "content_type": content_type,
            },
        )
    except BaseException:
        document.file.storage.delete(document.file.name)  # type: ignore[arg-type]  # saved just above
        raise
    return document


@through_access("a service writes a partnership its caller resolved through exchange.access")
@transaction.atomic
def partnership_document_delete(*, actor: Actor, document: PartnershipDocument) -> None:
    """Delete a document and, after commit, its file.

    Permission: an official or admin of the organisation that uploaded it, while it
    is still an active member (the caller found the document through
    ``exchange.partnerships.selectors.partnership_document_list``). PermissionDenied
    otherwise.
    """
    access.can_delete_document(actor, document).check()
    storage, stored = document.file.storage, document.file.name
    assert stored is not None  # a stored document always has its file
    details = {
        "document": str(document.pk),
        "document_type": document.document_type,
        "filename": document.original_filename,
    }
    partnership = document.partnership
    document.delete()
    audit_record(actor=actor, action="partnership.document_deleted", obj=partnership, changes=details)
    transaction.on_commit(lambda: storage.delete(stored))
