"""SDMX-CSV in and out of a profile, the imports' progress, and an indicator's series.

* ``GET /api/v1/profiles/{id}/export.csv``: every figure of a version (its readers).
* ``POST /api/v1/profiles/{id}/import/``: a file into a draft (the owner's admins and
  officials), validated and saved by a Celery task; ``202`` and the import's URL.
* ``GET /api/v1/imports/{id}/``: an import's status and errors (the importing
  organisation's own: django-scopes).
* ``GET /api/v1/reference/indicators/template.csv``: the header and one commented
  example per part (public).
* ``GET /api/v1/indicators/series/``: one indicator of one country across the
  years of its current published profiles (public ones anonymously).

Every profile is found through ``exchange.access.profile_visible_to``; who may
import is ``exchange.access.can_edit_observations``, asked before the body is read.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.tenancy import Actor
from config.api import ActorAPIView, ActorViewSet
from exchange import access
from exchange.api.import_jobs import JOB_FIELDS, ImportJobSerializer, ImportQueuedSerializer, accepted, uploaded_file
from exchange.models import Indicator, MigrationProfile, Observation, ProfileImport
from exchange.models.profiles import Sex
from exchange.profiles import sdmx
from exchange.profiles.imports import profile_import_create
from exchange.profiles.inputs import AGE_BAND
from exchange.profiles.selectors import indicator_series
from opportunities.api.reference_views import TAG, PublicReference

PROFILES_TAG = "profiles"


def _profile(actor: Actor, pk: Any) -> MigrationProfile:
    return get_object_or_404(access.profile_visible_to(actor=actor), pk=pk)


class ProfileExportView(ActorAPIView):
    @extend_schema(
        tags=[PROFILES_TAG],
        summary="Every figure of a profile version as SDMX-CSV",
        responses={(200, "text/csv"): OpenApiTypes.STR, 404: OpenApiResponse(description="Not a profile you read.")},
    )
    def get(self, request: Request, pk: Any) -> StreamingHttpResponse:
        profile = _profile(self.actor, pk)
        rows = (
            Observation.objects.filter(profile=profile)
            .select_related("indicator")
            .order_by("indicator__part", "indicator__position", "indicator_id", "time_period", "sex", "age")
        )
        response = StreamingHttpResponse(
            sdmx.export_lines(profile, rows.iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8"
        )
        name = f"profile-{profile.country}-{profile.year}-v{profile.version}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="An SDMX-CSV file, UTF-8 (GET /api/v1/reference/indicators/template.csv).")


class ProfileImportSerializer(ImportJobSerializer):
    profile = serializers.UUIDField(source="profile_id", read_only=True)

    class Meta:
        model = ProfileImport
        fields = ["id", "profile", *JOB_FIELDS]
        read_only_fields = fields


class ProfileImportCreateView(ActorAPIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=[PROFILES_TAG],
        summary="Upload an SDMX-CSV file into a draft profile (validated and saved in the background)",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            202: ImportQueuedSerializer,
            400: OpenApiResponse(description="No file, an empty one, not UTF-8, or too large (names `file`)."),
            409: OpenApiResponse(description="The profile is not a draft."),
        },
    )
    def post(self, request: Request, pk: Any) -> Response:
        profile = _profile(self.actor, pk)
        access.can_edit_observations(self.actor, profile).check()  # who asks comes before what they sent
        text, filename = uploaded_file(request)
        job = profile_import_create(actor=self.actor, profile=profile, text=text, filename=filename)
        return accepted(job, f"/api/v1/imports/{job.pk}/")


@extend_schema_view(
    retrieve=extend_schema(tags=[PROFILES_TAG], summary="An import's progress, and its errors row by row"),
)
class ProfileImportViewSet(mixins.RetrieveModelMixin, ActorViewSet):
    serializer_class = ProfileImportSerializer

    def queryset_for(self, actor: Actor) -> QuerySet[ProfileImport]:
        # Scoped to the actor's organisation (django-scopes): another's import is a 404.
        return ProfileImport.objects.all()


class TemplateView(PublicReference, ActorAPIView):
    @extend_schema(
        tags=[TAG],
        summary="An empty SDMX-CSV file for a profile's figures: the header and a commented example per part",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> HttpResponse:
        indicators = Indicator.objects.order_by("part", "position", "code")
        text = sdmx.template_text(indicators, year=timezone.localdate().year - 1)
        response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="corridor-profile-template.csv"'
        return response


class SeriesQuery(serializers.Serializer):
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2.")
    indicator = serializers.CharField(help_text="A code of GET /api/v1/reference/indicators/.")
    sex = serializers.ChoiceField(choices=Sex.choices, required=False, help_text="T, F or M; all if left out.")
    age = serializers.CharField(required=False, help_text="_T or a band (Y15-24); all if left out.")

    def validate_country(self, value: str) -> str:
        from opportunities.inputs import _country

        return _country(value)

    def validate_indicator(self, value: str) -> str:
        code = value.strip().upper()
        if not Indicator.objects.filter(code=code).exists():
            raise serializers.ValidationError(
                _("'%(code)s' is not in the indicator catalogue (GET /api/v1/reference/indicators/).") % {"code": value}
            )
        return code

    def validate_age(self, value: str) -> str:
        value = value.strip().upper()
        if not AGE_BAND.match(value):
            raise serializers.ValidationError(_("Age is _T (all ages) or a band such as Y15-24, Y_GE65 or Y_LT15."))
        return value


class SeriesPointSerializer(serializers.Serializer):
    year = serializers.IntegerField(source="profile.year", help_text="The profile's reference year.")
    time_period = serializers.IntegerField()
    sex = serializers.CharField()
    age = serializers.CharField()
    value = serializers.DecimalField(max_digits=20, decimal_places=4)
    source = serializers.CharField()  # type: ignore[assignment]  # the API's name; DRF's Field.source is unrelated
    profile = serializers.UUIDField(source="profile_id")
    version = serializers.IntegerField(source="profile.version")


class SeriesView(ActorAPIView):
    public = True
    permission_classes = [AllowAny]  # public profiles are read anonymously; the rest per profile_visible_to

    @extend_schema(
        tags=[PROFILES_TAG],
        summary="One indicator of one country across the years of its current published profiles",
        description=(
            "The figures of the published version of each reference year the caller may read (public "
            "profiles anonymously; members-only ones signed in); drafts and superseded versions never. "
            "Ordered by time period. Without `sex` or `age`, every breakdown comes, each row tagged."
        ),
        parameters=[
            OpenApiParameter("country", OpenApiTypes.STR, required=True, description="ISO 3166-1 alpha-2."),
            OpenApiParameter("indicator", OpenApiTypes.STR, required=True, description="A catalogue code."),
            OpenApiParameter("sex", OpenApiTypes.STR, required=False, description="T, F or M."),
            OpenApiParameter("age", OpenApiTypes.STR, required=False, description="_T or a band such as Y15-24."),
        ],
        responses=SeriesPointSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = SeriesQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = indicator_series(self.actor, **query.validated_data)
        return Response(SeriesPointSerializer(rows, many=True).data)
