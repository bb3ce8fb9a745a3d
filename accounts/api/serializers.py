"""API shapes for accounts. Input and output serializers are separate where they differ."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.access import can_see_suspension_reason
from accounts.models import ApiToken, AuditEvent, Invitation, Membership, Organisation, Role, User, VerificationStatus


@extend_schema_field(
    {
        "type": "string",
        "nullable": True,
        "pattern": "^[A-Z]{2}$",
        "description": "ISO 3166-1 alpha-2 code; null for an international agency.",
    }
)
class CountryCodeField(serializers.Field):
    """The organisation's country code, or null (agencies have none)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        return str(value.code if hasattr(value, "code") else value) or None


class OrganisationSummarySerializer(serializers.ModelSerializer):
    country = CountryCodeField()

    class Meta:
        model = Organisation
        fields = ["id", "name", "slug", "kind", "country"]
        read_only_fields = fields


class OrganisationSerializer(serializers.ModelSerializer):
    """Public fields, visible to every signed-in caller; the reason of a suspension only to the
    organisation's own members and the agencies' staff (``accounts.access.can_see_suspension_reason``;
    the context's ``actor``)."""

    country = CountryCodeField()
    focal_point = serializers.SerializerMethodField()
    suspension_reason = serializers.SerializerMethodField(
        help_text=_(
            "Why an agency suspended the organisation: shown to its own members and the agencies' staff, "
            "null for everyone else and when it is not suspended."
        )
    )

    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "slug",
            "kind",
            "country",
            "is_origin",
            "is_destination",
            "focal_point",
            "verification_status",
            "verified_at",
            "suspension_reason",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_suspension_reason(self, obj: Organisation) -> str | None:
        actor = self.context.get("actor")
        if obj.verification_status != VerificationStatus.SUSPENDED or actor is None:
            return None
        return obj.suspension_reason if can_see_suspension_reason(actor, obj) else None

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {"id": {"type": "string", "format": "uuid"}, "full_name": {"type": "string"}},
        }
    )
    def get_focal_point(self, obj: Organisation) -> dict[str, Any] | None:
        if obj.focal_point is None:
            return None
        return {"id": str(obj.focal_point.id), "full_name": obj.focal_point.full_name}


class MemberUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name"]
        read_only_fields = fields


class MembershipSerializer(serializers.ModelSerializer):
    user = MemberUserSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "created_at"]
        read_only_fields = ["id", "user", "created_at"]


class OrganisationReviewSerializer(serializers.Serializer):
    """The body of verify and reinstate: an optional note for the record."""

    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=5000,
        help_text=_("Optional: a note for the record, e-mailed to the organisation's administrators."),
    )


class OrganisationSuspendSerializer(serializers.Serializer):
    """The body of suspend: why (required; the organisation's members are shown it)."""

    reason = serializers.CharField(
        max_length=5000,
        help_text=_("Why the organisation is suspended: its members see it and its administrators are e-mailed it."),
    )


class MembershipUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class OrganisationPrivateSerializer(OrganisationSerializer):
    """What the organisation's own members see in addition to the public fields."""

    focal_point_id: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        source="focal_point", read_only=True
    )
    members = serializers.SerializerMethodField()
    pending_invitations = serializers.SerializerMethodField()

    class Meta(OrganisationSerializer.Meta):
        fields = [
            *OrganisationSerializer.Meta.fields,
            "focal_point_id",
            "require_two_factor",
            "is_active",
            "created_at",
            "members",
            "pending_invitations",
        ]
        read_only_fields = fields

    @extend_schema_field(MembershipSerializer(many=True))
    def get_members(self, obj: Organisation) -> list[dict[str, Any]]:
        return MembershipSerializer(self.context["members"], many=True).data  # type: ignore[return-value]  # many=True: a ReturnList

    @extend_schema_field(serializers.IntegerField())
    def get_pending_invitations(self, obj: Organisation) -> int:
        return self.context["pending_invitations"]


class OrganisationDetailSerializer(OrganisationSerializer):
    """Documentation only: the public fields always, the private ones for members only."""

    focal_point_id = serializers.UUIDField(required=False, allow_null=True)
    require_two_factor = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)
    created_at = serializers.DateTimeField(required=False)
    members = MembershipSerializer(many=True, required=False)
    pending_invitations = serializers.IntegerField(required=False)

    class Meta(OrganisationSerializer.Meta):
        fields = [
            *OrganisationSerializer.Meta.fields,
            "focal_point_id",
            "require_two_factor",
            "is_active",
            "created_at",
            "members",
            "pending_invitations",
        ]
        read_only_fields = OrganisationSerializer.Meta.fields


class OrganisationUpdateSerializer(serializers.Serializer):
    """Admins may change these; the focal point must be a member (checked by the service)."""

    name = serializers.CharField(max_length=200, required=False)
    focal_point = serializers.UUIDField(required=False, help_text=_("The user id of a member."))
    require_two_factor = serializers.BooleanField(required=False)


class MeMembershipSerializer(serializers.Serializer):
    organisation = OrganisationSummarySerializer()
    role = serializers.CharField()


def _time_zones() -> list[str]:
    import zoneinfo

    return sorted(zoneinfo.available_timezones())


class MeUserSerializer(serializers.ModelSerializer):
    language = serializers.ChoiceField(
        choices=[("", _("Follow the browser")), *settings.LANGUAGES],
        allow_blank=True,
        required=False,
        help_text=_("Empty to follow the browser's Accept-Language."),
    )
    time_zone = serializers.ChoiceField(choices=_time_zones(), required=False, help_text=_("An IANA time zone name."))

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "language", "time_zone"]
        read_only_fields = ["id", "email"]


class MeSerializer(serializers.Serializer):
    user = MeUserSerializer()
    memberships = MeMembershipSerializer(many=True)
    current_organisation = OrganisationSummarySerializer(allow_null=True)
    role = serializers.CharField(allow_null=True)


class InvitationSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)
    invited_by = MemberUserSerializer(read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "status", "invited_by", "created_at", "expires_at", "accepted_at"]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)


class ApiTokenSerializer(serializers.ModelSerializer):
    organisation = OrganisationSummarySerializer(read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "organisation", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text=_("The secret: shown in this response only."))

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "actor_email",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
        ]
        read_only_fields = fields


class OffboardingMovedItemSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()


class OffboardingMovedSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="What moved, as `model.field` (e.g. `listing.contact`).")
    name = serializers.CharField(help_text="What moved, in words (in the language of the request).")
    count = serializers.IntegerField()
    items = OffboardingMovedItemSerializer(many=True)


class OffboardingRemovedSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The membership that ended.")
    user = serializers.UUIDField()
    role = serializers.CharField()


class OffboardingResultSerializer(serializers.Serializer):
    """What removing a member did (accounts.offboarding.OffboardingResult.as_dict)."""

    removed = OffboardingRemovedSerializer()
    transfer_to = serializers.UUIDField(allow_null=True, help_text="The member who took over what moved.")
    moved = OffboardingMovedSerializer(many=True)
    tokens_revoked = serializers.IntegerField()
    sessions_ended = serializers.BooleanField()
    account_deactivated = serializers.BooleanField(
        help_text="True when this was their last organisation: they can no longer sign in."
    )
