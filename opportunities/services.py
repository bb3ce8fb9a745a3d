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
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchVectorField
from django.db import connection, transaction
from django.db.models import BooleanField, CharField, F, Func, JSONField, OuterRef, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record
from accounts.tenancy import Actor, through_access, unscoped
from config.errors import StateConflict
from opportunities import access, safeguards
from opportunities.models import (
    ConsentStatus,
    EscoOccupation,
    Listing,
    ListingRevision,
    ListingStatus,
    ListingTransition,
    ListingTranslation,
    Occupation,
    OccupationLine,
    OriginConsent,
    RevisionStatus,
)
from opportunities.search import both_forms, normalise
from opportunities.selectors import translated
from opportunities.translations import TEXT_FIELDS, translation_dicts


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

SCALAR_EXCLUDE = ("occupation_lines", "contact", "translations")


def _apply(listing: Listing, data: dict[str, Any]) -> None:
    """Copy validated data onto the listing and replace its lines; recompute derived columns.

    The search vector is written by the listing's own INSERT or UPDATE (``_vector``).
    Lines equal to the ones read with the listing under its lock (``_locked``) are left
    as they are rather than deleted and inserted again.
    """
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
    rows = None if lines is None else [_line_values(position, line) for position, line in enumerate(lines)]
    if lines is not None:
        listing.total_quantity = sum(line["quantity"] for line in lines)
        listing.isco_prefixes = sorted(
            {line["isco_code"][:n] for line in lines for n in range(1, len(line["isco_code"]) + 1)}
        )
    translations = data.get("translations")
    codes = _line_codes(listing) if rows is None else [row["occupation_id"] for row in rows]
    listing.search_vector = _vector(
        listing, translation_dicts(listing) if translations is None else translations, codes
    )
    listing.save()
    # Not the expression: a later read of the attribute loads the stored vector.
    listing.__dict__.pop("search_vector", None)
    if rows is not None and rows != getattr(listing, "line_json", None):
        listing.occupation_lines.all().delete()
        OccupationLine.objects.bulk_create(OccupationLine(listing=listing, **row) for row in rows)
    if translations is not None and _same_translations(listing, translations):
        pass  # as they are (an approved revision that did not touch them): nothing to write
    elif translations is not None:
        # Replace semantics: the body's translations are all the listing has.
        access.translation_rows().filter(listing=listing).delete()
        if translations:
            ListingTranslation.objects.bulk_create(
                ListingTranslation(
                    listing=listing, **{name: item.get(name) or "" for name in ("language", *TEXT_FIELDS)}
                )
                for item in translations
            )


def _line_values(position: int, line: dict[str, Any]) -> dict[str, Any]:
    """An occupation line's columns (``OccupationLine``'s keyword arguments) from a validated line."""
    return {
        "position": position,
        "occupation_id": line["isco_code"],
        "quantity": line["quantity"],
        "skill_level": line["skill_level"],
        "min_experience_years": line.get("min_experience_years"),
        "languages": [dict(item) for item in line.get("languages") or []],
        "qualification_notes": line.get("qualification_notes") or "",
    }


def _line_codes(listing: Listing) -> list[str]:
    """The ISCO codes of the listing's stored lines: as read with it under its lock, else one read."""
    current = getattr(listing, "line_json", None)
    if current is not None:
        return [row["occupation_id"] for row in current]
    if listing._state.adding:
        return []
    return list(listing.occupation_lines.values_list("occupation_id", flat=True))


def _same_translations(listing: Listing, translations: list[dict[str, Any]]) -> bool:
    """Whether ``translations`` are what the listing has, as read with it under its lock
    (``selectors.translated``); unknown (not read with it) counts as different."""
    current = getattr(listing, "translation_json", None)
    if current is None:
        return False

    def key(items: Any) -> list[tuple[str, ...]]:
        return sorted(tuple(str(item.get(name) or "") for name in ("language", *TEXT_FIELDS)) for item in items)

    return key(current) == key(translations)


_CONFIGS = ("english", "french", "spanish", "simple")


def _multilingual(column: str, weight: str) -> str:
    parts = " || ".join(f"to_tsvector('{config}', v.{column})" for config in _CONFIGS)
    return f"setweight({parts}, '{weight}')"


def _vector_sql(placeholders: tuple[str, str, str, str]) -> str:
    """The listing's tsvector from its four texts, each bound once: the title (weight A),
    the summary (B), the description (C) and its occupations' titles (D)."""
    title, summary, description, occupations = placeholders
    vector = " || ".join(
        _multilingual(column, weight)
        for column, weight in (("title", "A"), ("summary", "B"), ("description", "C"), ("occupations", "D"))
    )
    texts = f"{title}::text AS title, {summary}::text AS summary, {description}::text AS description"
    return f"(SELECT {vector} FROM (SELECT {texts}, {occupations}::text AS occupations) AS v)"  # noqa: S608


# Built from constants only; every value is a bound parameter. _INDEX_SQL rewrites one
# listing's vector from its stored lines (_index, the load data); _VECTOR_SQL is the same
# expression inside the listing's own INSERT or UPDATE (_vector).
_INDEX_SQL = f"""
UPDATE opportunities_listing SET search_vector =
    {_vector_sql(("%(title)s", "%(summary)s", "%(description)s", "%(occupations)s"))}
WHERE id = %(id)s
"""  # noqa: S608
_VECTOR_SQL = _vector_sql(("%s", "%s", "%s", "%s"))


def _texts(listing: Listing, translations: list[dict[str, Any]]) -> dict[str, str]:
    """The listing's text fields with their translations', as the vector indexes them.

    The translations' text is indexed with the listing's own, field by field under the
    same weights, so a search in any of the listing's languages finds it. Text is
    indexed under every language configuration, as written and without accents.
    """
    return {
        name: " | ".join(
            both_forms(value) for value in [getattr(listing, name), *(t.get(name) or "" for t in translations)] if value
        )
        for name in TEXT_FIELDS
    }


def _titles_rows(codes: Any) -> tuple[QuerySet[Occupation, Any], QuerySet[EscoOccupation, Any]]:
    """The own titles (English, French, Spanish) of the occupations ``codes`` names, in code
    order, and their ESCO job titles, in ESCO code order (``codes``: a list or a subquery)."""
    own = (
        Occupation.objects.filter(code__in=codes)
        .order_by("code")
        .values_list(
            Func(F("title_en"), F("title_fr"), F("title_es"), template="ARRAY[%(expressions)s]", output_field=_TITLES),
        )
    )
    esco = EscoOccupation.objects.filter(occupation_id__in=codes).order_by("esco_code").values_list("title_en")
    return own, esco


_TITLES = ArrayField(CharField())


def _occupation_text(own: list[list[str]], esco: list[str]) -> str:
    """The occupations' part of the vector: their titles in English, French and Spanish, as
    written and without accents, then their ESCO job titles: a search for "nurses",
    "infirmier" or "enfermera" finds a listing whose line is 2221 though its text never
    says so. (Queries add a prefix match on their last word, which bridges stems such as
    Spanish "enfermer" and "enfermeri".)"""
    return " | ".join([*(both_forms(title) for titles in own for title in titles), *(normalise(t) for t in esco)])


def _occupation_titles(listing: Listing, codes: list[str]) -> str:
    """``_occupation_text`` for ``codes``: as read with the listing under its lock when they are
    its stored lines' (``_locked``), else in one statement."""
    if getattr(listing, "line_json", None) is not None and set(codes) == set(_line_codes(listing)):
        return _occupation_text(getattr(listing, "own_titles", []), getattr(listing, "esco_titles", []))
    if not codes:
        return ""
    own, esco = (rows.query.sql_with_params() for rows in _titles_rows(list(dict.fromkeys(codes))))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ARRAY({own[0]}), ARRAY({esco[0]})", [*own[1], *esco[1]])
        own_titles, esco_titles = cursor.fetchone()
    return _occupation_text(own_titles, esco_titles)


def _vector(listing: Listing, translations: list[dict[str, Any]], codes: list[str]) -> RawSQL:
    """The listing's search vector as an expression of its INSERT or UPDATE (its text, its
    translations' and the titles of the occupations ``codes`` names): what ``_index`` writes."""
    texts = _texts(listing, translations)
    params = [texts["title"], texts["summary"], texts["description"], _occupation_titles(listing, codes)]
    return RawSQL(_VECTOR_SQL, params, output_field=SearchVectorField())  # noqa: S611 - constant SQL, bound values


def _index(listing: Listing, translations: list[dict[str, Any]] | None = None) -> None:
    """Recompute the stored full-text vector from the stored lines, in a statement of its own
    (the load data's path; the services write it with the listing, ``_vector``)."""
    texts = _texts(listing, translation_dicts(listing) if translations is None else translations)
    codes = list(listing.occupation_lines.values_list("occupation_id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(_INDEX_SQL, {"id": listing.pk, **texts, "occupations": _occupation_titles(listing, codes)})


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


# The columns of a line that _line_values writes (all but the id and the listing).
_LINE_COLUMNS = (
    "position",
    "occupation_id",
    "quantity",
    "skill_level",
    "min_experience_years",
    "languages",
    "qualification_notes",
)


def _locked(listing: Listing | QuerySet[Listing]) -> Listing:
    """The listing, locked (``FOR UPDATE OF`` its row alone), with what a write compares itself
    against, read in the same statement: its translations (``translation_json``), its lines
    (``line_json``, as ``_line_values`` writes them), their occupations' titles (``own_titles``,
    ``esco_titles``: the vector's) and its pending revision (``pending_revision``: id and data).

    ``listing``: the listing, or the caller's scoped queryset narrowed to it (then the read that
    finds it for the caller and the lock are one statement; ``Listing.DoesNotExist`` if it is not
    visible to them).

    Under READ COMMITTED a statement that waited for the lock returns the row as the writer
    it waited for left it, but its subqueries still see the data as it was when the statement
    began. Every write of a listing's lines and translations updates its row under this lock,
    so a row changed since (``as_read`` false) is read again, now that the lock is held: one
    more statement, only after such a wait. A revision's decision, which leaves the row as it
    is, is checked by its own UPDATE (``_decide_revision``).
    """
    rows = listing if isinstance(listing, QuerySet) else Listing.objects.filter(pk=listing.pk)
    lines = OccupationLine.objects.filter(listing=OuterRef("pk")).order_by("position")
    line_json = lines.values(json=JSONObject(**{name: name for name in _LINE_COLUMNS}))
    own, esco = _titles_rows(OccupationLine.objects.filter(listing=OuterRef(OuterRef("pk"))).values("occupation_id"))
    pending = (
        access.feedback_rows()[1]
        .filter(listing=OuterRef("pk"), status=RevisionStatus.PENDING)
        .order_by("-created_at")
        .values(json=JSONObject(id="id", data="data"))[:1]
    )
    locked = (
        translated(rows.prefetch_related(None).select_related("owner"))
        .select_for_update(of=("self",))
        .defer("search_vector")
        .annotate(
            line_json=ArraySubquery(line_json),
            own_titles=ArraySubquery(own),
            esco_titles=ArraySubquery(esco),
            pending_revision=Subquery(pending, output_field=JSONField()),
            as_read=RawSQL(_AS_READ_SQL, (), output_field=BooleanField()),  # noqa: S611 - constant SQL
        )
    )
    found = locked.get()
    return found if found.as_read else locked.get()


# The locked row is the version the statement's snapshot saw (no writer changed it while the
# statement waited for the lock): its xmin is the one a read of the same row in that snapshot finds.
_AS_READ_SQL = (
    '"opportunities_listing"."xmin" = '
    '(SELECT r."xmin" FROM "opportunities_listing" r WHERE r."id" = "opportunities_listing"."id")'
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
    listing = _locked(listing)
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
def listing_transition(*, actor: Actor, listing: Listing | QuerySet[Listing], action: str, reason: str = "") -> Listing:
    """Move a listing along the workflow.

    Owners' admins and officials submit, withdraw and close; agency moderators
    approve, request changes and reject (the latter two with a reason the owner
    sees). On a published listing with a pending revision, the moderators' three
    actions decide the revision instead, and the listing stays published.
    Raises PermissionDenied (wrong role), InvalidTransition (wrong state) and
    ValidationError (missing reason). ``listing`` may be the caller's scoped queryset
    narrowed to the listing (``_locked``: ``Listing.DoesNotExist`` if it is not there).
    """
    from django.core.exceptions import ValidationError

    step = access.WORKFLOW[action]
    listing = _locked(listing)
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
        _request_consents(listing, actor=actor)  # before "published": its readers depend on them
        _after_commit(listing, "published")
    elif from_status == ListingStatus.PUBLISHED:
        _after_commit(listing, step.target)
    if step.who == "moderator":
        _after_commit(listing, f"moderated:{action}", reason)
    return listing


def _decide_revision(*, actor: Actor, listing: Listing, action: str, reason: str) -> Listing:
    from opportunities.inputs import ListingWriteSerializer

    # Read in the lock's statement; the decision's UPDATE below confirms it is still pending.
    pending = getattr(listing, "pending_revision", None)
    if pending is None:
        raise InvalidTransition(_("This listing is published and has no pending revision to decide."))
    now = timezone.now()
    serializer = None
    if action == "approve":
        # The rules are checked against the listing's owner, not the moderator approving it.
        serializer = ListingWriteSerializer(data=pending["data"], context={"owner": listing.owner})
        serializer.is_valid(raise_exception=True)
        # The WHO-list rule holds for the listing as the revision would make it.
        access.can_publish_under_safeguards(safeguards.flag_values(serializer.validated_data)).check()
    status = {"approve": RevisionStatus.APPROVED, "request_changes": RevisionStatus.CHANGES_REQUESTED}.get(
        action, RevisionStatus.REJECTED
    )
    # Decided once: the UPDATE sees what another decision or a newer edit committed while this
    # one waited for the lock (which the read of the pending revision, in the lock's statement, may not).
    decided = listing.revisions.filter(pk=pending["id"], status=RevisionStatus.PENDING).update(
        status=status, decided_by=actor.user, decided_at=now, reason=reason
    )
    if not decided:
        raise InvalidTransition(_("This listing is published and has no pending revision to decide."))
    if serializer is not None:
        _apply(listing, serializer.validated_data)
        _request_consents(listing, actor=actor)
        _after_commit(listing, "revised")
    _record(listing, actor=actor, action=f"revision_{action}", from_status=listing.status, reason=reason)
    _after_commit(listing, f"moderated:revision_{action}", reason)
    return listing


# --- Origin-government consent --------------------------------------------------------------------


def _request_consents(listing: Listing, *, actor: Actor | None) -> list[OriginConsent]:
    """A ``pending`` consent for each origin country of a published listing that requires
    one and has none yet; ``consent.requested`` to that country's government (inside the
    transaction). Earlier decisions stand."""
    if not listing.requires_origin_consent:
        return []
    existing = set(OriginConsent.objects.filter(listing=listing).values_list("country", flat=True))
    created = OriginConsent.objects.bulk_create(
        OriginConsent(listing=listing, country=country)
        for country in access.origin_countries(listing)
        if country not in existing
    )
    for consent in created:
        audit_record(
            actor=actor,
            action="consent.requested",
            obj=listing,
            organisation=listing.owner,
            changes={"country": consent.country, "status": ConsentStatus.PENDING},
        )
        _after_commit(listing, f"consent_requested:{consent.country}")
    return created


@through_access("a service writes a consent its caller resolved through opportunities.access")
@transaction.atomic
def consent_decide(*, actor: Actor, listing: Listing, country: str, accept: bool, reason: str = "") -> OriginConsent:
    """The origin government accepts or refuses a listing's recruitment from its country.

    The caller found the consent through ``access.listing_consents``. Raises
    PermissionDenied (not that country's government's admin or official) and
    StateConflict (already decided, or the listing is no longer published). On
    acceptance the country is admitted: the listing is matched again and that
    country's alerts hear of it (``admitted:<country>``); a refusal keeps it out.
    """
    consent = OriginConsent.objects.select_for_update().select_related("listing").get(listing=listing, country=country)
    access.can_decide_consent(actor, consent).check()  # who, then the state as it is under the lock
    consent.status = ConsentStatus.ACCEPTED if accept else ConsentStatus.REFUSED
    consent.decided_by, consent.decided_at, consent.reason = actor.user, timezone.now(), (reason or "").strip()
    consent.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    audit_record(
        actor=actor,
        action=f"consent.{consent.status}",
        obj=consent.listing,
        changes={"country": consent.country, "status": consent.status, **({"reason": reason} if reason else {})},
    )
    _after_commit(consent.listing, f"consent_decided:{consent.country}")
    if accept:
        _after_commit(consent.listing, f"admitted:{consent.country}")
    return consent


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
