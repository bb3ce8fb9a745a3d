"""The platform statistics and the open data, for anyone (each reader counts what it may see).

* ``GET /api/v1/statistics/``: the tables the caller gets, each with its URL and its CSV's.
* ``GET /api/v1/statistics/{name}/`` (``?from=&to=``, ``?format=csv``) and
  ``GET /api/v1/statistics/{name}.csv``: one table.
* ``GET /api/v1/open-data/``: the open datasets, each with its schema.org ``Dataset``
  (JSON-LD) and its DCAT catalogue entry; ``GET /api/v1/open-data/{dataset}.csv``: one.

Who counts what is ``exchange.statistics.selectors`` (docs/statistics.md); the open
data are public published figures only, with the ``<5`` rule.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import ActorAPIView
from exchange.statistics import opendata
from exchange.statistics.inputs import parse_period
from exchange.statistics.output import table_csv, table_payload
from exchange.statistics.selectors import TABLES, TITLES, reads_moderation, statistics_table

TAG = "Statistics and open data"
PERIOD = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="The first day counted, inclusive."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="The last day counted, inclusive."),
]


class CSVRenderer(BaseRenderer):
    """Lets ``?format=csv`` through content negotiation; the views answer the CSV themselves."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> Any:
        return data


class CSVOrJSONErrors:
    """A refusal or an error stays JSON (the API's one error shape), even on a ``.csv`` URL."""

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(response, Response) and response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


class ColumnSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        # "label" would shadow Field.label as a class attribute: declare the fields by name.
        return {
            "key": serializers.CharField(),
            "label": serializers.CharField(help_text="In the request language."),
            "numeric": serializers.BooleanField(),
        }


class PeriodOutSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return {"from": serializers.DateField(allow_null=True), "to": serializers.DateField(allow_null=True)}


class TableSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=list(TABLES))
    title = serializers.CharField()
    period = PeriodOutSerializer()
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(
        child=serializers.DictField(),
        help_text='One object per row, keyed by the columns\' keys; a count of fewer than 5 people may be "<5".',
    )


class TableLinkSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=list(TABLES))
    title = serializers.CharField()
    url = serializers.CharField()
    csv_url = serializers.CharField()


class StatisticsIndexView(ActorAPIView):
    public = True
    requires_organisation = False
    permission_classes = [AllowAny]

    @extend_schema(
        tags=[TAG],
        summary="The statistics tables you may read",
        description="Moderation turnaround is listed for agency staff only.",
        responses=TableLinkSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        tables = [name for name in TABLES if name != "moderation-turnaround" or reads_moderation(self.actor)]
        return Response(
            [
                {
                    "name": name,
                    "title": str(TITLES[name]),
                    "url": request.build_absolute_uri(f"/api/v1/statistics/{name}/"),
                    "csv_url": request.build_absolute_uri(f"/api/v1/statistics/{name}.csv"),
                }
                for name in tables
            ]
        )


class StatisticsTableView(CSVOrJSONErrors, ActorAPIView):
    public = True
    requires_organisation = False
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        tags=[TAG],
        summary="One statistics table (JSON, or CSV with ?format=csv)",
        parameters=[
            *PERIOD,
            OpenApiParameter("format", str, enum=["json", "csv"], description="csv: the same rows as a CSV file."),
        ],
        responses={
            200: TableSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            400: OpenApiResponse(description="A bad `from` or `to` (the body names the field)."),
            404: OpenApiResponse(description="No such table (moderation turnaround: agency staff only)."),
        },
    )
    def get(self, request: Request, name: str, **kwargs: Any) -> Response | HttpResponse:
        if name not in TABLES or (name == "moderation-turnaround" and not reads_moderation(self.actor)):
            raise Http404
        period = parse_period(request.query_params)
        table = statistics_table(actor=self.actor, name=name, period=period)
        if self.format_kwarg == "csv" or request.query_params.get("format") == "csv":
            return table_csv(table)
        return Response(table_payload(table, period))


class DatasetSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    csv_url = serializers.CharField()
    jsonld = serializers.DictField(help_text="A schema.org Dataset description (JSON-LD).")
    dcat = serializers.DictField(help_text="A DCAT catalogue entry (dcat:Dataset).")


class OpenDataIndexView(ActorAPIView):
    public = True
    requires_organisation = False
    permission_classes = [AllowAny]

    @extend_schema(
        tags=[TAG],
        summary="The open datasets (public published figures, fewer than 5 people shown as <5)",
        responses=DatasetSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return Response(opendata.catalogue(base_url=request.build_absolute_uri("/").rstrip("/")))


class OpenDataDownloadView(CSVOrJSONErrors, ActorAPIView):
    public = True
    requires_organisation = False
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        tags=[TAG],
        summary="One open dataset as CSV",
        responses={(200, "text/csv"): OpenApiTypes.STR, 404: OpenApiResponse(description="No such dataset.")},
    )
    def get(self, request: Request, dataset: str, **kwargs: Any) -> HttpResponse:
        if dataset not in opendata.DATASETS:
            raise Http404
        return opendata.dataset_csv(dataset)
