"""Migration profiles API: a country's evidence for a reference year, in versions.

Every lookup starts from ``exchange.access.profile_visible_to(actor)``, so a
profile the caller may not read is a 404 for every method and action; who may
change what is asked of ``exchange.access`` by the services.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import can_act_for_government
from accounts.tenancy import Actor
from config.api import ActorViewSet
from exchange import access
from exchange.models import MigrationProfile, Observation, ProfileSkill, ProfileStatus, ProfileVisibility
from exchange.models.profiles import NARRATIVE_PARTS
from exchange.profiles import services
from exchange.profiles.inputs import ObservationInput, SkillInput
from opportunities.inputs import CountryCodeField
from opportunities.models import Language

CONFLICT = OpenApiResponse(description="The profile's status does not allow this (e.g. publishing a published one).")
NARRATIVE_MAX = 20_000


def _language(value: str) -> None:
    if value and not Language.objects.filter(code=value).exists():
        raise serializers.ValidationError(_("'%(code)s' is not an ISO 639-1 language code.") % {"code": value})


class ProfileWriteSerializer(serializers.Serializer):
    """A profile as its government writes it: country and year on creation, then the narratives."""

    country = CountryCodeField(help_text="ISO 3166-1 alpha-2: the government's own country.")
    year = serializers.IntegerField(min_value=1950, max_value=2100, help_text="The reference year.")
    visibility = serializers.ChoiceField(choices=ProfileVisibility.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for part in NARRATIVE_PARTS:
            self.fields[part] = serializers.CharField(
                required=False, allow_blank=True, max_length=NARRATIVE_MAX, trim_whitespace=True
            )
            self.fields[f"{part}_language"] = serializers.CharField(
                required=False, allow_blank=True, max_length=2, validators=[_language]
            )
        if self.partial:  # country and year name the profile; they never change
            for field in ("country", "year"):
                self.fields[field].read_only = True

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) & {"country", "year"}) if self.partial else []
        if unknown:
            raise serializers.ValidationError(
                {field: [_("A profile's country and year never change; create another profile.")] for field in unknown}
            )
        return attrs


class ProfileSerializer(serializers.ModelSerializer):
    owner = serializers.SerializerMethodField()
    country = serializers.CharField(read_only=True)
    previous = serializers.UUIDField(source="previous_id", read_only=True, allow_null=True)

    class Meta:
        model = MigrationProfile
        fields = [
            "id",
            "owner",
            "country",
            "year",
            "version",
            "previous",
            "status",
            "visibility",
            *(field for part in NARRATIVE_PARTS for field in (part, f"{part}_language")),
            "created_at",
            "updated_at",
            "published_at",
        ]
        read_only_fields = fields

    def get_owner(self, profile: MigrationProfile) -> dict[str, str]:
        return {"id": str(profile.owner_id), "name": profile.owner.name}


class ProfileFilter(django_filters.FilterSet):
    country = django_filters.CharFilter(method="filter_country", help_text="ISO 3166-1 alpha-2.")
    year = django_filters.NumberFilter()
    status = django_filters.ChoiceFilter(choices=ProfileStatus.choices)

    class Meta:
        model = MigrationProfile
        fields = ["country", "year", "status"]

    def filter_country(self, queryset: QuerySet[MigrationProfile], name: str, value: str) -> QuerySet[MigrationProfile]:
        from opportunities.inputs import _country

        try:
            code = _country(value)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"country": exc.detail}) from exc
        return queryset.filter(country=code)


@extend_schema_view(
    list=extend_schema(summary="Migration profiles the caller may read, newest year first"),
    retrieve=extend_schema(summary="One version of a country's profile"),
    create=extend_schema(
        summary="Start a country's profile for a year (a draft; the narratives may follow)",
        request=ProfileWriteSerializer,
        responses={201: ProfileSerializer},
    ),
    partial_update=extend_schema(
        summary="Edit a draft, or open the next version of a published profile (returned)",
        request=ProfileWriteSerializer,
        responses={200: ProfileSerializer, 409: CONFLICT},
    ),
    destroy=extend_schema(summary="Delete a draft", responses={204: None, 409: CONFLICT}),
)
class ProfileViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ActorViewSet,
):
    serializer_class = ProfileSerializer
    filterset_class = ProfileFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def queryset_for(self, actor: Actor) -> QuerySet[MigrationProfile]:
        return access.profile_visible_to(actor=actor).select_related("owner")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        can_act_for_government(self.actor).check()  # who asks comes before what they sent
        body = ProfileWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        profile = services.profile_create(actor=self.actor, data=body.validated_data)
        return Response(self._read(profile), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        profile = self.get_object()
        access.can_edit_profile(self.actor, profile).check()  # who asks comes before what they sent
        body = ProfileWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changed = services.profile_update(actor=self.actor, profile=profile, data=body.validated_data)
        return Response(self._read(changed))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.profile_delete(actor=self.actor, profile=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _read(self, profile: MigrationProfile) -> dict[str, Any]:
        return ProfileSerializer(self.get_queryset().get(pk=profile.pk), context=self.get_serializer_context()).data

    @extend_schema(
        summary="Publish a draft (the version it revises is superseded)",
        request=None,
        responses={200: ProfileSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        profile = services.profile_publish(actor=self.actor, profile=self.get_object())
        return Response(self._read(profile))

    @extend_schema(
        summary="Every version of this country's profile for this year that the caller may read, newest first",
        responses=ProfileSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def versions(self, request: Request, pk: str | None = None) -> Response:
        profile = self.get_object()
        versions = self.get_queryset().filter(country=profile.country, year=profile.year).order_by("-version")
        return Response(ProfileSerializer(versions, many=True, context=self.get_serializer_context()).data)


class ObservationSerializer(serializers.ModelSerializer):
    indicator = serializers.CharField(source="indicator_id", read_only=True)
    unit = serializers.CharField(source="indicator.unit", read_only=True)

    class Meta:
        model = Observation
        fields = ["id", "indicator", "sex", "age", "time_period", "value", "unit", "source", "comment"]
        read_only_fields = fields


class ProfileRowViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ActorViewSet,
    ABC,
):
    """The rows of a profile version (its figures, its skills rows) under ``/profiles/{profile_pk}/``.

    A profile the caller may not read is a 404 for every method; the owner's
    writers change rows of a draft only (``access.can_edit_profile_rows``, asked
    before the body is validated); the service of each kind writes.
    """

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    model: type[Observation] | type[ProfileSkill]
    input_class: type[ObservationInput] | type[SkillInput]
    related: tuple[str, ...] = ("profile",)

    def _profile(self) -> MigrationProfile:
        return get_object_or_404(access.profile_visible_to(actor=self.actor), pk=self.kwargs.get("profile_pk"))

    def queryset_for(self, actor: Actor) -> QuerySet[Any]:
        profiles = access.profile_visible_to(actor=actor)
        rows = self.model.objects.filter(profile__in=profiles, profile_id=self.kwargs.get("profile_pk"))
        return rows.select_related(*self.related)

    @abstractmethod
    def write_row(self, profile: MigrationProfile, data: dict[str, Any], row: Any = None) -> Any:
        """Add ``row`` (None) or change it, through the kind's service."""

    @abstractmethod
    def remove_row(self, row: Any) -> None:
        """Remove a row through the kind's service."""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._profile()  # a profile the caller may not read is a 404, not an empty list
        return super().list(request, *args, **kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        profile = self._profile()
        access.can_edit_profile_rows(self.actor, profile).check()  # who asks comes before what they sent
        body = self.input_class(data=request.data, profile=profile)
        body.is_valid(raise_exception=True)
        row = self.write_row(profile, body.validated_data)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        row = self.get_object()
        profile = row.profile  # found through profile_visible_to with the row
        access.can_edit_profile_rows(self.actor, profile).check()
        body = self.input_class(row, data=request.data, partial=True, profile=profile)
        body.is_valid(raise_exception=True)
        return Response(self.get_serializer(self.write_row(profile, body.validated_data, row)).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.remove_row(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="The figures of a profile version"),
    retrieve=extend_schema(summary="One figure"),
    create=extend_schema(
        summary="Add a figure to a draft profile",
        request=ObservationInput,
        responses={201: ObservationSerializer, 409: CONFLICT},
    ),
    partial_update=extend_schema(
        summary="Change a figure of a draft profile",
        request=ObservationInput,
        responses={200: ObservationSerializer, 409: CONFLICT},
    ),
    destroy=extend_schema(summary="Remove a figure from a draft profile", responses={204: None, 409: CONFLICT}),
)
class ObservationViewSet(ProfileRowViewSet):
    """``/profiles/{profile_pk}/observations/``: the figures."""

    serializer_class = ObservationSerializer
    model = Observation
    input_class = ObservationInput
    related = ("indicator", "profile")

    def write_row(self, profile: MigrationProfile, data: dict[str, Any], row: Any = None) -> Observation:
        return services.observation_save(actor=self.actor, profile=profile, data=data, observation=row)

    def remove_row(self, row: Any) -> None:
        services.observation_delete(actor=self.actor, observation=row)


class SkillSerializer(serializers.ModelSerializer):
    isco_code = serializers.CharField(source="occupation_id", read_only=True)
    isco_title = serializers.CharField(source="occupation.title", read_only=True)
    isic_code = serializers.CharField(source="sector_id", read_only=True, allow_null=True)

    class Meta:
        model = ProfileSkill
        fields = ["id", "kind", "isco_code", "isco_title", "isic_code", "severity", "source", "time_period", "comment"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="The skills rows (shortages, surpluses, diaspora skills) of a profile version"),
    retrieve=extend_schema(summary="One skills row"),
    create=extend_schema(
        summary="Add a skills row to a draft profile",
        request=SkillInput,
        responses={201: SkillSerializer, 409: CONFLICT},
    ),
    partial_update=extend_schema(
        summary="Change a skills row of a draft profile",
        request=SkillInput,
        responses={200: SkillSerializer, 409: CONFLICT},
    ),
    destroy=extend_schema(summary="Remove a skills row from a draft profile", responses={204: None, 409: CONFLICT}),
)
class SkillViewSet(ProfileRowViewSet):
    """``/profiles/{profile_pk}/skills/``: shortages, surpluses and diaspora skills."""

    serializer_class = SkillSerializer
    model = ProfileSkill
    input_class = SkillInput
    related = ("occupation", "profile")

    def write_row(self, profile: MigrationProfile, data: dict[str, Any], row: Any = None) -> ProfileSkill:
        return services.skill_save(actor=self.actor, profile=profile, data=data, skill=row)

    def remove_row(self, row: Any) -> None:
        services.skill_delete(actor=self.actor, skill=row)
