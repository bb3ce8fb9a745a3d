"""The API's read shapes of listings: the detail, the list, history and revisions.

What a write must satisfy (``ListingWriteSerializer``, shared with the pages) is in
``opportunities.inputs``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from accounts.tenancy import Actor
from opportunities import access
from opportunities.inputs import (
    WRITE_FIELDS,
    AllocationSerializer,
    LanguageLevelSerializer,
    StayOverrideSerializer,
    TranslationSerializer,
    revision_changes,
)
from opportunities.models import Listing, ListingRevision, ListingTransition, OccupationLine
from opportunities.translations import choose, reader_language, translation_dicts

# --- Read shapes -------------------------------------------------------------------------


class OwnerSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    country = serializers.CharField()


class OccupationLineReadSerializer(serializers.ModelSerializer):
    isco_code = serializers.CharField(source="occupation_id")
    isco_title = serializers.CharField(source="occupation.title")
    isco_level = serializers.IntegerField(source="occupation.level")
    languages = LanguageLevelSerializer(many=True)

    class Meta:
        model = OccupationLine
        fields = [
            "isco_code",
            "isco_title",
            "isco_level",
            "quantity",
            "skill_level",
            "min_experience_years",
            "languages",
            "qualification_notes",
        ]
        read_only_fields = fields


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "full_name", "email"]
        read_only_fields = fields


class DisplayTextSerializer(serializers.Serializer):
    """The listing's text in the reader's language, or the authoritative text (opportunities.translations)."""

    language = serializers.CharField(help_text=_("The language of this text (blank: not given)."))
    authoritative = serializers.BooleanField(
        help_text=_("True: the listing's own text; false: a translation of it into the reader's language.")
    )
    authoritative_language = serializers.CharField(help_text=_("The language of the authoritative text."))
    title = serializers.CharField()
    summary = serializers.CharField()
    description = serializers.CharField()


class ListingSerializer(serializers.ModelSerializer):
    """A listing as its readers see it."""

    owner = OwnerSerializer(read_only=True)
    occupation_lines = OccupationLineReadSerializer(many=True, read_only=True)
    allocations = AllocationSerializer(many=True, read_only=True)
    stay_overrides = StayOverrideSerializer(many=True, read_only=True)
    contact = ContactSerializer(read_only=True, allow_null=True)
    total_quantity = serializers.IntegerField(read_only=True, help_text=_("Sum of the occupation lines' quantities."))
    translations = serializers.SerializerMethodField()
    display = serializers.SerializerMethodField()
    pending_revision = serializers.SerializerMethodField()
    safeguard_flag = serializers.SerializerMethodField()

    class Meta:
        model = Listing
        fields = [
            "id",
            "owner",
            "owner_country",
            "status",
            "published_at",
            "submitted_at",
            "created_at",
            "updated_at",
            "total_quantity",
            *[
                f
                for f in WRITE_FIELDS
                if f not in ("occupation_lines", "allocations", "stay_overrides", "contact", "translations")
            ],
            "allocations",
            "stay_overrides",
            "contact",
            "occupation_lines",
            "translations",
            "display",
            "pending_revision",
            "safeguard_flag",
        ]
        read_only_fields = fields

    @extend_schema_field(TranslationSerializer(many=True))
    def get_translations(self, listing: Listing) -> list[dict[str, str]]:
        return translation_dicts(listing)

    @extend_schema_field(DisplayTextSerializer)
    def get_display(self, listing: Listing) -> dict[str, Any]:
        """The text in the reader's language (the profile's, else Accept-Language) when there is one."""
        actor = self.context.get("actor") or Actor.anonymous()
        values = {"text_language": listing.text_language, "title": listing.title}
        values.update(summary=listing.summary, description=listing.description)
        return choose(values, translation_dicts(listing), reader_language(actor.user)).as_json()

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "description": "The pending edit of a published listing; null for readers other than its owner "
            "and the agencies.",
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "created_at": {"type": "string", "format": "date-time"},
            },
        }
    )
    def get_pending_revision(self, listing: Listing) -> dict[str, Any] | None:
        pending = getattr(listing, "pending_revisions", None)
        if not pending or not access.can_see_revisions(self.context.get("actor", Actor.anonymous()), listing):
            return None
        return {"id": str(pending[0].id), "created_at": pending[0].created_at.isoformat()}

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "description": "The WHO health workforce safeguard flag (a demand listing recruiting ISCO-08 22xx/32xx "
            "health workers from a country on the WHO list): null when not flagged, and for readers other than "
            "its owner and the agencies. It cannot be published unless government_agreement names the "
            "government-to-government agreement (satisfied).",
            "properties": {
                "rule": {"type": "string"},
                "list_year": {"type": "integer"},
                "countries": {"type": "array", "items": {"type": "string"}},
                "isco_groups": {"type": "array", "items": {"type": "string"}},
                "government_agreement": {"type": "string"},
                "satisfied": {"type": "boolean"},
            },
        }
    )
    def get_safeguard_flag(self, listing: Listing) -> dict[str, Any] | None:
        if not access.can_see_safeguard_flag(self.context.get("actor", Actor.anonymous()), listing):
            return None
        flag = access.safeguard_flag(listing)
        return None if flag is None else flag.as_dict()


class ListingTransitionSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    organisation = serializers.SerializerMethodField()

    class Meta:
        model = ListingTransition
        fields = ["from_status", "to_status", "action", "actor", "organisation", "reason", "created_at"]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "string",
            "nullable": True,
            "description": "Who acted (null: the system, or not shown: only the owner and the agencies see "
            "who acted and why).",
        }
    )
    def get_actor(self, obj: ListingTransition) -> str | None:
        return obj.actor.full_name or obj.actor.email if obj.actor else None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_organisation(self, obj: ListingTransition) -> str | None:
        return obj.organisation.name if obj.organisation else None


class PublicTransitionSerializer(ListingTransitionSerializer):
    """A step of a listing's life as any reader sees it: what and when, not who or why."""

    def get_actor(self, obj: ListingTransition) -> str | None:
        return None

    def get_organisation(self, obj: ListingTransition) -> str | None:
        return None

    def to_representation(self, instance: ListingTransition) -> dict[str, Any]:
        return {**super().to_representation(instance), "reason": ""}


# The history as each audience reads it (opportunities.access.listing_audience).
TRANSITION_SERIALIZERS = {
    access.Audience.INSIDER: ListingTransitionSerializer,
    access.Audience.OUTSIDER: PublicTransitionSerializer,
}


class ListingRevisionSerializer(serializers.ModelSerializer):
    changes = serializers.SerializerMethodField()

    class Meta:
        model = ListingRevision
        fields = ["id", "status", "created_at", "decided_at", "reason", "changes", "data"]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "description": 'Field by field: {field: {"from": current value, "to": proposed value}}.',
            "additionalProperties": {"type": "object", "properties": {"from": {}, "to": {}}},
        }
    )
    def get_changes(self, revision: ListingRevision) -> dict[str, Any]:
        return revision_changes(revision)
