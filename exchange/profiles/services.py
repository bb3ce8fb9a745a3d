"""Writes for migration profiles: create, edit (or open the next version), publish, delete.

Each service owns its transaction, asks ``exchange.access`` and raises from its
decision (403 or 409), and records an audit row. The caller resolved the profile
through ``exchange.access.profile_visible_to``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record
from accounts.tenancy import Actor, through_access
from exchange import access
from exchange.models import MigrationProfile, Observation, ProfileSkill, ProfileStatus, Suggestion, SuggestionState
from exchange.models.profiles import NARRATIVE_PARTS
from opportunities.models import Listing

# The fields a government writes (the narratives with their languages, and the visibility).
PROFILE_FIELDS = ("visibility", *NARRATIVE_PARTS, *(f"{part}_language" for part in NARRATIVE_PARTS))


@through_access("a service writes a profile of the actor's own country")
@transaction.atomic
def profile_create(*, actor: Actor, data: dict[str, Any]) -> MigrationProfile:
    """A draft of the actor's country for ``data["year"]``. ValidationError if one exists already."""
    from django.core.exceptions import ValidationError

    access.can_create_profile(actor, str(data["country"])).check()
    if MigrationProfile.objects.filter(country=data["country"], year=data["year"]).exists():
        raise ValidationError(
            {"year": _("This country has a profile for this year already: edit it, or open its next version.")}
        )
    profile = MigrationProfile(owner=actor.org, created_by=actor.user, country=data["country"], year=data["year"])
    for field in PROFILE_FIELDS:
        if field in data:
            setattr(profile, field, data[field])
    profile.save()
    audit_record(actor=actor, action="profile.created", obj=profile)
    return profile


@through_access("a service writes a profile its caller resolved through exchange.access")
@transaction.atomic
def profile_update(*, actor: Actor, profile: MigrationProfile, data: dict[str, Any]) -> MigrationProfile:
    """Edit a draft in place; a published version's edit opens (or continues) the next version.

    Returns the version that changed: the draft itself, or the next version's draft.
    """
    profile = MigrationProfile.objects.select_for_update().get(pk=profile.pk)
    access.can_edit_profile(actor, profile).check()
    if profile.status == ProfileStatus.PUBLISHED:
        draft = MigrationProfile.objects.filter(country=profile.country, year=profile.year, status=ProfileStatus.DRAFT)
        target = draft.first() or _next_version(actor, profile)
    else:
        target = profile
    changed = sorted(field for field in PROFILE_FIELDS if field in data and getattr(target, field) != data[field])
    for field in changed:
        setattr(target, field, data[field])
    target.save()
    audit_record(actor=actor, action="profile.edited", obj=target, changes={"fields": changed})
    return target


def _next_version(actor: Actor, published: MigrationProfile) -> MigrationProfile:
    """The next version as a draft, starting from the published one's content."""
    latest = MigrationProfile.objects.filter(country=published.country, year=published.year).order_by("-version")
    following = MigrationProfile(
        owner=published.owner,
        created_by=actor.user,
        country=published.country,
        year=published.year,
        version=latest.values_list("version", flat=True)[0] + 1,
        previous=published,
        status=ProfileStatus.DRAFT,
        **{field: getattr(published, field) for field in PROFILE_FIELDS},
    )
    following.save()
    # The next version starts from the published figures and skills rows.
    for rows in (published.observations.all(), published.skills.all()):
        _copy_rows(rows, to=following)
    return following


def _copy_rows(rows: QuerySet[Any], *, to: MigrationProfile) -> None:
    """Copies of a profile's rows (figures or skills rows) for another version: new ids, same values."""
    copies = []
    for row in rows:
        row.pk, row.profile = None, to
        copies.append(row)
    rows.model._default_manager.bulk_create(copies)


@through_access("a service writes a profile its caller resolved through exchange.access")
@transaction.atomic
def profile_publish(*, actor: Actor, profile: MigrationProfile) -> MigrationProfile:
    """Publish a draft; the version it revises is superseded and stays readable as history."""
    profile = MigrationProfile.objects.select_for_update().get(pk=profile.pk)
    access.can_publish_profile(actor, profile).check()
    superseded = MigrationProfile.objects.filter(
        country=profile.country, year=profile.year, status=ProfileStatus.PUBLISHED
    ).update(status=ProfileStatus.SUPERSEDED, updated_at=timezone.now())
    profile.status, profile.published_at = ProfileStatus.PUBLISHED, timezone.now()
    profile.save(update_fields=["status", "published_at", "updated_at"])
    audit_record(actor=actor, action="profile.published", obj=profile, changes={"superseded": superseded})
    # Its shortages and surpluses (and those of the version it superseded) change the suggestions.
    from exchange.tasks import enqueue_suggestions_refresh

    enqueue_suggestions_refresh([str(profile.country)])  # the task outbox: published after commit
    return profile


@through_access("a service writes a profile its caller resolved through exchange.access")
@transaction.atomic
def profile_delete(*, actor: Actor, profile: MigrationProfile) -> None:
    access.can_delete_profile(actor, profile).check()
    audit_record(actor=actor, action="profile.deleted", obj=profile)
    profile.delete()


@through_access("a service writes a figure of a profile its caller resolved through exchange.access")
@transaction.atomic
def observation_save(
    *, actor: Actor, profile: MigrationProfile, data: dict[str, Any], observation: Observation | None = None
) -> Observation:
    """Add a figure to a draft profile, or change one (``data`` validated by ``ObservationInput``)."""
    profile = MigrationProfile.objects.select_for_update().get(pk=profile.pk)
    access.can_edit_observations(actor, profile).check()
    row = observation or Observation(profile=profile)
    for field, value in data.items():
        setattr(row, field, value)
    row.save()
    audit_record(
        actor=actor,
        action="profile.observation_saved",
        obj=profile,
        changes={"observation": str(row.pk), "indicator": row.indicator_id, "time_period": row.time_period},
    )
    return row


@through_access("a service writes a figure of a profile its caller resolved through exchange.access")
@transaction.atomic
def observation_delete(*, actor: Actor, observation: Observation) -> None:
    profile = MigrationProfile.objects.select_for_update().get(pk=observation.profile_id)
    access.can_edit_observations(actor, profile).check()
    audit_record(
        actor=actor, action="profile.observation_deleted", obj=profile, changes={"observation": str(observation.pk)}
    )
    observation.delete()


@through_access("a service writes a skills row of a profile its caller resolved through exchange.access")
@transaction.atomic
def skill_save(
    *, actor: Actor, profile: MigrationProfile, data: dict[str, Any], skill: ProfileSkill | None = None
) -> ProfileSkill:
    """Add a skills row to a draft profile, or change one (``data`` validated by ``SkillInput``).

    The owner's administrators and officials, while the profile is a draft
    (``access.can_edit_skills``: PermissionDenied or a 409 otherwise).
    """
    profile = MigrationProfile.objects.select_for_update().get(pk=profile.pk)
    access.can_edit_skills(actor, profile).check()
    row = skill or ProfileSkill(profile=profile)
    for field, value in data.items():
        setattr(row, field, value)
    row.save()
    audit_record(
        actor=actor,
        action="profile.skill_saved",
        obj=profile,
        changes={
            "skill": str(row.pk),
            "kind": row.kind,
            "isco_code": row.occupation_id,
            "time_period": row.time_period,
        },
    )
    return row


@through_access("a service writes a skills row of a profile its caller resolved through exchange.access")
@transaction.atomic
def skill_delete(*, actor: Actor, skill: ProfileSkill) -> None:
    profile = MigrationProfile.objects.select_for_update().get(pk=skill.profile_id)
    access.can_edit_skills(actor, profile).check()
    audit_record(actor=actor, action="profile.skill_deleted", obj=profile, changes={"skill": str(skill.pk)})
    skill.delete()


# --- Suggestions from evidence (exchange.profiles.suggestions finds them) -----------------------


@through_access("a service decides on a suggestion its caller resolved through exchange.access")
@transaction.atomic
def suggestion_dismiss(*, actor: Actor, suggestion: Suggestion, reason: str) -> Suggestion:
    """Dismiss an open suggestion, saying why (the officials and admins of either government;
    ``access.can_decide_suggestion``: PermissionDenied, or a 409 when it is not open)."""
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    access.can_decide_suggestion(actor, suggestion).check()
    suggestion.state, suggestion.reason = SuggestionState.DISMISSED, reason
    suggestion.decided_by, suggestion.decided_at = actor.user, timezone.now()
    suggestion.save(update_fields=["state", "reason", "decided_by", "decided_at", "updated_at"])
    audit_record(actor=actor, action="suggestion.dismissed", obj=suggestion, changes={"reason": reason})
    return suggestion


@through_access("a service decides on a suggestion its caller resolved through exchange.access")
@transaction.atomic
def suggestion_act_on(*, actor: Actor, suggestion: Suggestion, listing: Listing) -> Suggestion:
    """Record that ``listing`` (the caller's own, resolved through ``opportunities.access``)
    turned an open suggestion into an opportunity. Same permission as dismissing."""
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    access.can_decide_suggestion(actor, suggestion).check()
    suggestion.state, suggestion.listing = SuggestionState.ACTED_ON, listing
    suggestion.decided_by, suggestion.decided_at = actor.user, timezone.now()
    suggestion.save(update_fields=["state", "listing", "decided_by", "decided_at", "updated_at"])
    audit_record(actor=actor, action="suggestion.acted_on", obj=suggestion, changes={"listing": str(listing.pk)})
    return suggestion
