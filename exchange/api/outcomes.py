"""The outcomes ledger API: a listing's entries, its derived figures, CSV out and in.

* ``GET/POST /api/v1/listings/{id}/outcomes/``: the history (filters
  ``origin_country``, ``period``, ``stage``), and a new entry or correction;
* ``GET .../outcomes/summary/``: the derived figures (exchange/outcomes/summary.py);
* ``GET .../outcomes/export.csv`` and ``.../outcomes/summary.csv``;
* ``POST .../outcomes/import/``: a CSV file, validated and saved by a Celery task
  (``202``); ``GET /api/v1/outcome-imports/{id}/``: its progress and row errors.

Entries are never changed nor deleted: there is no PUT, PATCH or DELETE (405).
Every listing is found through ``exchange.access.ledger_listings_visible_to`` (any
other listing's ledger is a 404, also for governments that read the listing); who
may write is ``exchange.access.can_record_outcomes``, asked before the body is read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.tenancy import Actor
from config.api import ActorAPIView, ActorViewSet
from exchange import access
from exchange.api.import_jobs import JOB_FIELDS, ImportJobSerializer, ImportQueuedSerializer, accepted, uploaded_file
from exchange.models import OutcomeEntry, OutcomeImport, OutcomeStage
from exchange.outcomes import services
from exchange.outcomes.imports import COLUMNS, outcome_import_create
from exchange.outcomes.inputs import OutcomeEntryInput
from exchange.outcomes.selectors import entry_list
from exchange.outcomes.summary import SEXES, STAGES, outcome_summary
from opportunities.models import Listing

TAG = "outcomes"
NOT_FOUND = OpenApiResponse(description="Not a listing whose ledger you read.")


def ledger_listing(actor: Actor, pk: Any) -> Listing:
    return get_object_or_404(access.ledger_listings_visible_to(actor=actor), pk=pk)


class OrganisationRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ReporterSerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.CharField()


class OutcomeEntrySerializer(serializers.ModelSerializer):
    listing = serializers.UUIDField(source="listing_id", read_only=True)
    match = serializers.UUIDField(source="match_id", read_only=True, allow_null=True)
    origin_country = serializers.CharField(read_only=True)
    isco_code = serializers.CharField(source="occupation_id", read_only=True, allow_null=True)
    corrects = serializers.UUIDField(source="corrects_id", read_only=True, allow_null=True)
    corrected_by = serializers.UUIDField(
        read_only=True, allow_null=True, help_text="The entry that corrects this one (then it counts no more)."
    )
    organisation = OrganisationRefSerializer(read_only=True, help_text="The organisation it was reported for.")
    reported_by = serializers.SerializerMethodField()

    class Meta:
        model = OutcomeEntry
        fields = [
            "id",
            "listing",
            "match",
            "origin_country",
            "isco_code",
            "period",
            "stage",
            "sex",
            "count",
            "corrects",
            "corrected_by",
            "reason",
            "organisation",
            "reported_by",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ReporterSerializer(allow_null=True))
    def get_reported_by(self, entry: OutcomeEntry) -> dict[str, str] | None:
        """The person, for the reporting organisation's members and the agencies (else null)."""
        actor = self.context.get("actor")
        if actor is None or not access.can_see_reporter(actor, entry):
            return None
        user = entry.reported_by
        name = (user.full_name if user is not None else "") or entry.reported_by_email
        return {"name": name, "email": entry.reported_by_email}


class OutcomeFilter(django_filters.FilterSet):
    origin_country = django_filters.CharFilter(method="filter_upper", help_text="ISO 3166-1 alpha-2.")
    period = django_filters.CharFilter(help_text="A year (2025) or a month (2025-04), exactly.")
    stage = django_filters.ChoiceFilter(choices=OutcomeStage.choices)

    class Meta:
        model = OutcomeEntry
        fields = ["origin_country", "period", "stage"]

    def filter_upper(self, queryset: QuerySet[OutcomeEntry], name: str, value: str) -> QuerySet[OutcomeEntry]:
        return queryset.filter(**{name: value.strip().upper()})


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="A listing's outcomes ledger: every entry, corrected ones included",
        responses={200: OutcomeEntrySerializer(many=True), 404: NOT_FOUND},
    ),
    create=extend_schema(
        tags=[TAG],
        summary="Record an entry, or a correction of one (corrects + reason)",
        request=OutcomeEntryInput,
        responses={
            201: OutcomeEntrySerializer,
            400: OpenApiResponse(description="A rule the entry breaks, naming the field."),
            403: OpenApiResponse(description="Not a writer of this ledger, or not for that origin."),
            404: NOT_FOUND,
        },
    ),
)
class OutcomeEntryViewSet(mixins.ListModelMixin, ActorViewSet):
    serializer_class = OutcomeEntrySerializer
    filterset_class = OutcomeFilter

    def queryset_for(self, actor: Actor) -> QuerySet[OutcomeEntry]:
        listing_id = self.kwargs.get("listing_id")
        if listing_id is None:  # schema generation
            return access.outcome_entries_visible_to(actor=actor)
        return entry_list(ledger_listing(actor, listing_id))

    def create(self, request: Request, listing_id: Any = None) -> Response:
        listing = ledger_listing(self.actor, listing_id)
        access.can_record_outcomes(self.actor, listing).check()  # who asks comes before what they sent
        body = request.data
        data = body.dict() if hasattr(body, "dict") else dict(body) if isinstance(body, dict) else {}
        entry = services.outcome_record(actor=self.actor, listing=listing, data=data)
        saved = entry_list(listing).get(pk=entry.pk)
        return Response(self.get_serializer(saved).data, status=status.HTTP_201_CREATED)


def _json_schema_summary() -> dict[str, Any]:
    share = {
        "type": "object",
        "properties": {
            "target": {"type": "number", "nullable": True},
            "actual": {"type": "number", "nullable": True},
            "met": {"type": "boolean", "nullable": True},
        },
    }
    figures = {
        "type": "object",
        "properties": {
            "stages": {"type": "object", "additionalProperties": {"type": "object"}},
            "quota": {"type": "integer", "nullable": True},
            "quota_used": {"type": "integer"},
            "quota_remaining": {"type": "integer", "nullable": True},
            "women_share": {"type": "object", "additionalProperties": share},
            "completion_rate": {"type": "number", "nullable": True},
            "return_rate": {"type": "number", "nullable": True},
            "re_engagement_rate": {"type": "number", "nullable": True},
        },
    }
    return {
        "type": "object",
        "properties": {"total": figures, "by_origin": {"type": "object", "additionalProperties": figures}},
    }


class OutcomeSummaryView(ActorAPIView):
    @extend_schema(
        tags=[TAG],
        summary="A listing's derived outcome figures, per origin country and in total",
        responses={200: _json_schema_summary(), 404: NOT_FOUND},
    )
    def get(self, request: Request, listing_id: Any) -> Response:
        return Response(outcome_summary(ledger_listing(self.actor, listing_id)))


def _csv_lines(rows: Iterator[list[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _csv_response(lines: Iterator[str], name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


EXPORT_HEADER = ["id", *COLUMNS, "corrected_by", "organisation", "created_at"]


class OutcomeExportView(ActorAPIView):
    @extend_schema(
        tags=[TAG],
        summary="A listing's ledger as CSV (the import's columns, with id, corrected_by, organisation, created_at)",
        responses={(200, "text/csv"): OpenApiTypes.STR, 404: NOT_FOUND},
    )
    def get(self, request: Request, listing_id: Any) -> StreamingHttpResponse:
        listing = ledger_listing(self.actor, listing_id)
        # Rendered now, inside the request's scope: a ledger is small (a few thousand rows at most).
        entries = list(entry_list(listing))

        def rows() -> Iterator[list[Any]]:
            yield EXPORT_HEADER
            for e in entries:
                yield [
                    e.pk,
                    e.origin_country,
                    e.period,
                    e.stage,
                    e.sex,
                    e.count,
                    e.occupation_id,
                    e.corrects_id,
                    e.reason,
                    e.match_id,
                    getattr(e, "corrected_by", None),
                    e.organisation.name,
                    e.created_at.isoformat(),
                ]

        return _csv_response(_csv_lines(rows()), f"outcomes-{listing.pk}.csv")


class OutcomeSummaryCsvView(ActorAPIView):
    @extend_schema(
        tags=[TAG],
        summary="A listing's derived outcome figures as CSV: one row per origin (and the total) and stage",
        responses={(200, "text/csv"): OpenApiTypes.STR, 404: NOT_FOUND},
    )
    def get(self, request: Request, listing_id: Any) -> StreamingHttpResponse:
        listing = ledger_listing(self.actor, listing_id)
        summary = outcome_summary(listing)

        def rows() -> Iterator[list[Any]]:
            yield [
                "origin_country",
                "stage",
                *SEXES,
                "total",
                "women_share",
                "women_target",
                "women_target_met",
                "quota",
                "quota_used",
                "quota_remaining",
                "completion_rate",
                "return_rate",
                "re_engagement_rate",
            ]
            groups = [("_T", summary["total"]), *summary["by_origin"].items()]
            for origin, figures in groups:
                for stage in STAGES:
                    counts, share = figures["stages"][stage], figures["women_share"][stage]
                    yield [
                        origin,
                        stage,
                        *(counts[sex] for sex in SEXES),
                        counts["total"],
                        share["actual"],
                        share["target"],
                        "" if share["met"] is None else str(share["met"]).lower(),
                        figures["quota"],
                        figures["quota_used"],
                        figures["quota_remaining"],
                        figures["completion_rate"],
                        figures["return_rate"],
                        figures["re_engagement_rate"],
                    ]

        return _csv_response(_csv_lines(rows()), f"outcomes-summary-{listing.pk}.csv")


class OutcomeUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A CSV file, UTF-8 (docs/outcomes.md: the columns).")


class OutcomeImportCreateView(ActorAPIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=[TAG],
        summary="Upload a CSV file of entries into a listing's ledger (validated and saved in the background)",
        request={"multipart/form-data": OutcomeUploadSerializer},
        responses={
            202: ImportQueuedSerializer,
            400: OpenApiResponse(description="No file, an empty one, not UTF-8, or too large (names `file`)."),
            403: OpenApiResponse(description="Not a writer of this ledger."),
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, listing_id: Any) -> Response:
        listing = ledger_listing(self.actor, listing_id)
        access.can_record_outcomes(self.actor, listing).check()  # who asks comes before what they sent
        text, filename = uploaded_file(request)
        job = outcome_import_create(actor=self.actor, listing=listing, text=text, filename=filename)
        return accepted(job, f"/api/v1/outcome-imports/{job.pk}/")


class OutcomeImportSerializer(ImportJobSerializer):
    listing = serializers.UUIDField(source="listing_id", read_only=True)

    class Meta:
        model = OutcomeImport
        fields = ["id", "listing", *JOB_FIELDS]
        read_only_fields = fields


@extend_schema_view(
    retrieve=extend_schema(tags=[TAG], summary="An outcomes import's progress, and its errors row by row"),
)
class OutcomeImportViewSet(mixins.RetrieveModelMixin, ActorViewSet):
    serializer_class = OutcomeImportSerializer

    def queryset_for(self, actor: Actor) -> QuerySet[OutcomeImport]:
        # Scoped to the actor's organisation (django-scopes): another's import is a 404.
        return OutcomeImport.objects.all()
