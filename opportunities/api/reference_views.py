"""The public reference lists: occupations, sectors, countries, languages, currencies, CEFR levels.

Anyone may read them (no token needed), none is paginated: the lists are small
and clients filter with query parameters instead. Titles and names follow the
request language (``Accept-Language`` or the signed-in user's choice: en, fr, es).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django_countries import countries
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.tenancy import Actor
from config.api import ActorAPIView, ActorViewSet
from config.api_schema import AutoSchema
from opportunities.api.reference_filters import OccupationFilter, SectorFilter
from opportunities.api.reference_serializers import (
    CefrLevelSerializer,
    CountrySerializer,
    CurrencySerializer,
    LanguageSerializer,
    OccupationDetailSerializer,
    OccupationSerializer,
    SectorSerializer,
)
from opportunities.models import CefrLevel, Currency, Language, Occupation, Sector
from opportunities.search import normalise
from opportunities.selectors import SEARCH_LIMIT, currency_list, language_list, occupation_list, sector_list

if TYPE_CHECKING:
    from rest_framework.pagination import BasePagination
    from rest_framework.permissions import _PermissionClass

TAG = "Reference data"
ACCEPT_LANGUAGE = OpenApiParameter(
    name="Accept-Language",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="The language of `title`/`name`: `en`, `fr` or `es`; anything else falls back to English "
    "(a signed-in user's own choice takes precedence).",
)


class ListFiltersSchema(AutoSchema):
    """Query filters apply to the list only: a detail operation documents no 400 for them."""

    def _has_filters(self) -> bool:
        return self._is_list_view() and super()._has_filters()


class PublicReference:
    # Anonymous callers may read; no pagination.
    public = True
    permission_classes: Sequence[_PermissionClass] = [AllowAny]
    pagination_class: type[BasePagination] | None = None


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="List or search ISCO-08 occupations",
        description=(
            "All 619 ISCO-08 groups in code order, or with `q` the best matches first (at most "
            f"{SEARCH_LIMIT}). `q` searches the group titles in English, French and Spanish and the job titles "
            "and alternative labels of the ESCO occupations in each unit group; digits match a code prefix."
        ),
        parameters=[ACCEPT_LANGUAGE],
        responses=OccupationSerializer(many=True),
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="One ISCO-08 group, with its ancestors and children",
        description="`parents` runs from the major group down to the direct parent; `children` are in code order.",
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="ISCO-08 code, e.g. 2221."),
            ACCEPT_LANGUAGE,
        ],
        responses=OccupationDetailSerializer,
    ),
)
class OccupationViewSet(PublicReference, mixins.ListModelMixin, mixins.RetrieveModelMixin, ActorViewSet):
    filterset_class = OccupationFilter
    schema = ListFiltersSchema()
    lookup_field = "code"
    lookup_value_regex = "[0-9]{1,4}"

    def queryset_for(self, actor: Actor) -> QuerySet[Occupation]:
        return occupation_list()

    def get_serializer_class(self) -> type[OccupationSerializer]:
        return OccupationDetailSerializer if self.action == "retrieve" else OccupationSerializer

    def filter_queryset(self, queryset: QuerySet[Occupation]) -> QuerySet[Occupation]:  # type: ignore[override]
        if self.action != "list":
            return queryset
        queryset = super().filter_queryset(queryset)
        if self.request.query_params.get("q", "").strip():
            queryset = queryset[:SEARCH_LIMIT]
        return queryset


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="List ISIC Rev.4 sectors",
        description="The 21 sections (A–U) and 88 divisions in UNSD order, each section followed by its divisions.",
        parameters=[ACCEPT_LANGUAGE],
        responses=SectorSerializer(many=True),
    )
)
class SectorViewSet(PublicReference, mixins.ListModelMixin, ActorViewSet):
    serializer_class = SectorSerializer
    filterset_class = SectorFilter

    def queryset_for(self, actor: Actor) -> QuerySet[Sector]:
        return sector_list()


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="List ISO 639-1 languages",
        description="Sorted by name in the request language.",
        parameters=[ACCEPT_LANGUAGE],
        responses=LanguageSerializer(many=True),
    )
)
class LanguageViewSet(PublicReference, mixins.ListModelMixin, ActorViewSet):
    serializer_class = LanguageSerializer

    def queryset_for(self, actor: Actor) -> QuerySet[Language]:
        return language_list()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        languages = sorted(self.get_queryset(), key=lambda lang: normalise(lang.name))
        return Response(self.get_serializer(languages, many=True).data)


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="List ISO 4217 currencies",
        description="Active currencies in code order; funds, precious metals and testing codes are left out.",
        parameters=[ACCEPT_LANGUAGE],
        responses=CurrencySerializer(many=True),
    )
)
class CurrencyViewSet(PublicReference, mixins.ListModelMixin, ActorViewSet):
    serializer_class = CurrencySerializer

    def queryset_for(self, actor: Actor) -> QuerySet[Currency]:
        return currency_list()


class CountryListView(PublicReference, ActorAPIView):
    @extend_schema(
        tags=[TAG],
        summary="List countries (ISO 3166-1)",
        description="Sorted by name in the request language.",
        parameters=[ACCEPT_LANGUAGE],
        responses=CountrySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        rows = [{"code": country.code, "name": str(country.name)} for country in countries]
        return Response(CountrySerializer(rows, many=True).data)


class CefrLevelListView(PublicReference, ActorAPIView):
    @extend_schema(
        tags=[TAG],
        summary="List CEFR language levels",
        description="The Council of Europe's Common European Framework of Reference levels, A1 to C2.",
        parameters=[ACCEPT_LANGUAGE],
        responses=CefrLevelSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        rows = [{"code": level.value, "name": str(level.label)} for level in CefrLevel]
        return Response(CefrLevelSerializer(rows, many=True).data)
