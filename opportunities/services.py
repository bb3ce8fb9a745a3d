"""Writes for listings: creation, edits, revisions and the moderation workflow.

Each service owns its transaction, records the transition and an audit row, and
sends side effects after commit (``on_commit`` hooks other apps register through
``opportunities.signals``). Permission assumptions are in each docstring; the
services raise ``django.core.exceptions.PermissionDenied`` (403),
``InvalidTransition`` (409) and expect already-validated data
(``opportunities.inputs.ListingWriteSerializer``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection, transaction
from django.db.models import OuterRef
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record
from accounts.tenancy import Actor, through_access, unscoped
from config.errors import StateConflict
from opportunities import access
from opportunities.models import (
    Listing,
    ListingRevision,
    ListingStatus,
    ListingTransition,
    OccupationLine,
    RevisionStatus,
)
from opportunities.search import both_forms, normalise


class InvalidTransition(StateConflict):
    """The listing is not in a state that allows this action (an HTTP 409)."""


# Other apps subscribe to listing events in their AppConfig.ready():
# * LISTING_OUTBOX hooks run *inside* the transaction of the change, so what they
#   write (notification events and deliveries, task-outbox rows for matching and
#   suggestions) commits or rolls back with it;
# * LISTING_HOOKS run after commit, for work that may be lost in a crash (none today:
#   anything owed goes through an outbox instead).
# Each takes (listing, event, reason) / (listing_id, event).
LISTING_OUTBOX: list[Callable[[Listing, str, str], None]] = []
LISTING_HOOKS: list[Callable[[str, str], None]] = []


def _after_commit(listing: Listing, event: str, reason: str = "") -> None:
    for outbox in LISTING_OUTBOX:
        outbox(listing, event, reason)
    listing_id = str(listing.pk)
    for hook in LISTING_HOOKS:
        transaction.on_commit(functools.partial(hook, listing_id, event))


# --- Writing the listing's fields -------------------------------------------------------------

SCALAR_EXCLUDE = ("occupation_lines", "contact")


def _apply(listing: Listing, data: dict[str, Any]) -> None:
    """Copy validated data onto the listing and replace its lines; recompute derived columns."""
    for field, value in data.items():
        if field in SCALAR_EXCLUDE:
            continue
        setattr(listing, field, value)
    if "contact" in data:
        listing.contact_id = data["contact"]
    if listing.contact_id is None and listing.owner.focal_point_id:
        listing.contact_id = listing.owner.focal_point_id
    listing.owner_country = str(listing.owner.country)
    lines = data.get("occupation_lines")
    if lines is not None:
        listing.total_quantity = sum(line["quantity"] for line in lines)
        listing.isco_prefixes = sorted(
            {line["isco_code"][:n] for line in lines for n in range(1, len(line["isco_code"]) + 1)}
        )
        # The new lines' codes are known: the vector is written by the listing's own
        # INSERT or UPDATE, not by a second statement after the lines (as _index).
        codes = [line["isco_code"] for line in lines]
        listing.search_vector = RawSQL(_VECTOR_SQL, _vector_params(listing, codes))  # noqa: S611 - constant SQL, bound values
    listing.save()
    if lines is not None:
        # Not the expression: a later read of the attribute loads the stored vector.
        listing.__dict__.pop("search_vector", None)
        listing.occupation_lines.all().delete()
        OccupationLine.objects.bulk_create(
            OccupationLine(
                listing=listing,
                position=position,
                occupation_id=line["isco_code"],
                quantity=line["quantity"],
                skill_level=line["skill_level"],
                min_experience_years=line.get("min_experience_years"),
                languages=[dict(item) for item in line.get("languages") or []],
                qualification_notes=line.get("qualification_notes") or "",
            )
            for position, line in enumerate(lines)
        )
    else:
        _index(listing)


_CONFIGS = ("english", "french", "spanish", "simple")


def _multilingual(weight: str) -> str:
    parts = " || ".join(f"to_tsvector('{config}', %s)" for config in _CONFIGS)
    return f"setweight({parts}, '{weight}')"


# Built from constants only; every value is a bound parameter: the title, the summary,
# the description and the occupations' titles, each once per configuration (_vector_params).
_VECTOR_SQL = " || ".join(_multilingual(weight) for weight in "ABCD")
_INDEX_SQL = f"UPDATE opportunities_listing SET search_vector = {_VECTOR_SQL} WHERE id = %s"  # noqa: S608


def _index(listing: Listing) -> None:
    """Recompute the stored full-text vector from the listing's stored lines (see ``_vector_params``)."""
    codes = list(listing.occupation_lines.values_list("occupation_id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(_INDEX_SQL, [*_vector_params(listing, codes), listing.pk])


def _vector_params(listing: Listing, codes: list[str]) -> list[str]:
    """The text of the full-text vector, in the order of ``_VECTOR_SQL``'s parameters.

    Text is indexed under every language configuration, as written and without
    accents, and so are the titles of the listing's occupations in English, French
    and Spanish plus their ESCO job titles: a search for "nurses", "infirmier" or
    "enfermera" finds a listing whose line is 2221 though its text never says so.
    (Queries add a prefix match on their last word, which bridges stems such as
    Spanish "enfermer" and "enfermeri".) One statement reads the occupations with
    their ESCO titles; the ESCO titles follow the ISCO ones, in ESCO code order.
    """
    from opportunities.models import EscoOccupation, Occupation

    esco = EscoOccupation.objects.filter(occupation_id=OuterRef("code")).order_by("esco_code")
    occupations = Occupation.objects.filter(code__in=codes).annotate(
        esco_codes=ArraySubquery(esco.values("esco_code")), esco_titles=ArraySubquery(esco.values("title_en"))
    )
    titles: list[str] = []
    esco_titles: list[tuple[str, str]] = []
    for o in occupations:
        titles += [both_forms(getattr(o, f"title_{lang}")) for lang in ("en", "fr", "es")]
        esco_titles += zip(o.esco_codes, o.esco_titles, strict=True)
    titles += [normalise(title) for _code, title in sorted(esco_titles)]
    return vector_params(
        both_forms(listing.title), both_forms(listing.summary), both_forms(listing.description), " | ".join(titles)
    )


def vector_params(title: str, summary: str, description: str, occupations: str) -> list[str]:
    """``_VECTOR_SQL``'s parameters (``_INDEX_SQL``'s, less the listing id that ends them)."""
    return [text for text in (title, summary, description, occupations) for _config in _CONFIGS]


def _record(listing: Listing, *, actor: Actor | None, action: str, from_status: str, reason: str = "") -> None:
    ListingTransition.objects.create(
        listing=listing,
        from_status=from_status,
        to_status=listing.status,
        action=action,
        actor=actor.user if actor else None,
        organisation=actor.organisation if actor else None,
        reason=reason,
    )
    audit_record(
        actor=actor,
        action=f"listing.{action}",
        obj=listing,
        organisation=actor.organisation if actor and actor.organisation else listing.owner,
        changes={"from": from_status, "to": listing.status, **({"reason": reason} if reason else {})},
    )


# --- Create, edit, delete -------------------------------------------------------------------------


@through_access("a service writes the history of a listing its caller resolved through opportunities.access")
@transaction.atomic
def listing_create(*, actor: Actor, data: dict[str, Any]) -> Listing:
    """Create a draft owned by the actor's organisation. Needs an admin or official."""
    access.can_post(actor).check()
    listing = Listing(owner=actor.organisation, created_by=actor.user, status=ListingStatus.DRAFT)
    _apply(listing, data)
    _record(listing, actor=actor, action="created", from_status=ListingStatus.DRAFT)
    return listing


@through_access("a service writes the history of a listing its caller resolved through opportunities.access")
@transaction.atomic
def listing_update(*, actor: Actor, listing: Listing, data: dict[str, Any], payload: dict[str, Any]) -> Listing:
    """Edit a listing (owner's admins and officials).

    Drafts and listings with changes requested change in place. A published
    listing gets a pending revision instead (``payload``: the full write body, as
    JSON), which moderators approve while the published version stays live; a
    newer edit supersedes the pending one.
    """
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    access.can_edit(actor, listing).check()  # who, then the state as it is under the lock
    if listing.status in (ListingStatus.DRAFT, ListingStatus.CHANGES_REQUESTED):
        _apply(listing, data)
        audit_record(actor=actor, action="listing.edited", obj=listing, changes={"fields": sorted(data)})
        return listing
    if listing.status == ListingStatus.PUBLISHED:
        listing.revisions.filter(status=RevisionStatus.PENDING).update(status=RevisionStatus.SUPERSEDED)
        revision = ListingRevision.objects.create(listing=listing, data=payload, created_by=actor.user)
        audit_record(
            actor=actor, action="listing.revision_proposed", obj=listing, changes={"revision": str(revision.pk)}
        )
    return listing


@through_access("a service writes the history of a listing its caller resolved through opportunities.access")
@transaction.atomic
def listing_delete(*, actor: Actor, listing: Listing) -> None:
    """Delete a draft (owner's admins and officials); anything else stays as history."""
    access.can_delete(actor, listing).check()
    audit_record(actor=actor, action="listing.deleted", obj=listing)
    listing.delete()


# --- The moderation workflow -----------------------------------------------------------------------------


@through_access("a service writes the history of a listing its caller resolved through opportunities.access")
@transaction.atomic
def listing_transition(*, actor: Actor, listing: Listing, action: str, reason: str = "") -> Listing:
    """Move a listing along the workflow.

    Owners' admins and officials submit, withdraw and close; agency moderators
    approve, request changes and reject (the latter two with a reason the owner
    sees). On a published listing with a pending revision, the moderators' three
    actions decide the revision instead, and the listing stays published.
    Raises PermissionDenied (wrong role), InvalidTransition (wrong state) and
    ValidationError (missing reason).
    """
    from django.core.exceptions import ValidationError

    step = access.WORKFLOW[action]
    listing = Listing.objects.select_for_update().select_related("owner").get(pk=listing.pk)
    access.can_transition(actor, listing, action).check()  # who, then the state as it is under the lock
    reason = (reason or "").strip()
    if step.needs_reason and not reason:
        raise ValidationError({"reason": _("Give the owner a reason.")})
    if step.who == "moderator" and listing.status == ListingStatus.PUBLISHED:
        return _decide_revision(actor=actor, listing=listing, action=action, reason=reason)
    from_status = listing.status
    listing.status = step.target
    now = timezone.now()
    fields = ["status", "updated_at"]
    if step.target == ListingStatus.SUBMITTED:
        listing.submitted_at = now
        fields.append("submitted_at")
    if step.target == ListingStatus.PUBLISHED:
        listing.published_at = now
        fields.append("published_at")
    listing.save(update_fields=fields)
    _record(listing, actor=actor, action=action, from_status=from_status, reason=reason)
    if step.target == ListingStatus.PUBLISHED:
        _after_commit(listing, "published")
    elif from_status == ListingStatus.PUBLISHED:
        _after_commit(listing, step.target)
    if step.who == "moderator":
        _after_commit(listing, f"moderated:{action}", reason)
    return listing


def _decide_revision(*, actor: Actor, listing: Listing, action: str, reason: str) -> Listing:
    from opportunities.inputs import ListingWriteSerializer

    revision = listing.revisions.select_for_update().filter(status=RevisionStatus.PENDING).first()
    if revision is None:
        raise InvalidTransition(_("This listing is published and has no pending revision to decide."))
    now = timezone.now()
    if action == "approve":
        # The rules are checked against the listing's owner, not the moderator approving it.
        serializer = ListingWriteSerializer(data=revision.data, context={"owner": listing.owner})
        serializer.is_valid(raise_exception=True)
        _apply(listing, serializer.validated_data)
        revision.status = RevisionStatus.APPROVED
        _after_commit(listing, "revised")
    else:
        revision.status = RevisionStatus.CHANGES_REQUESTED if action == "request_changes" else RevisionStatus.REJECTED
    revision.decided_by, revision.decided_at, revision.reason = actor.user, now, reason
    revision.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    _record(listing, actor=actor, action=f"revision_{action}", from_status=listing.status, reason=reason)
    _after_commit(listing, f"moderated:revision_{action}", reason)
    return listing


def listings_expire(*, today: Any = None) -> int:
    """Expire published listings whose deadline has passed. Idempotent; returns how many."""
    today = today or timezone.localdate()
    expired = 0
    with unscoped("maintenance over every organisation's listings"):
        ids = list(access.live_listings().filter(application_deadline__lt=today).values_list("pk", flat=True))
        for pk in ids:
            with transaction.atomic():
                listing = Listing.objects.select_for_update(skip_locked=True).filter(access.LIVE, pk=pk).first()
                if listing is None:
                    continue
                previous = listing.status
                listing.status = ListingStatus.EXPIRED
                listing.save(update_fields=["status", "updated_at"])
                _record(listing, actor=None, action="expired", from_status=previous)
                _after_commit(listing, ListingStatus.EXPIRED)
                expired += 1
    return expired
