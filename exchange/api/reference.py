"""``GET /api/v1/reference/indicators/``: the indicator catalogue of the extended migration profiles.

Public reference data like the ISCO and ISIC lists: anyone may read it, unpaginated.
``docs/profiles.md`` lists every indicator with its source.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from accounts.tenancy import Actor
from config.api import ActorViewSet
from exchange.models import Disaggregation, Indicator, IndicatorUnit, ProfilePart
from opportunities.api.reference_views import ACCEPT_LANGUAGE, TAG, PublicReference


class IndicatorSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="Name in the request language.")
    part = serializers.ChoiceField(
        choices=ProfilePart.choices,
        read_only=True,
        help_text="1 migration data, 2 impact on development, 3 labour market, 4 migration management capacity.",
    )
    unit = serializers.ChoiceField(choices=IndicatorUnit.choices, read_only=True)
    disaggregations = serializers.ListField(
        child=serializers.ChoiceField(choices=Disaggregation.choices),
        read_only=True,
        help_text="The breakdowns an observation may carry besides the total: sex (F, M), age.",
    )
    source_code = serializers.CharField(
        read_only=True, help_text="The indicator's code at that source (a WDI series, an SDG indicator), if any."
    )

    class Meta:
        model = Indicator
        fields = [
            "code",
            "name",
            "name_en",
            "name_fr",
            "name_es",
            "part",
            "unit",
            "disaggregations",
            "source",
            "source_code",
            "definition",
        ]
        read_only_fields = fields
        extra_kwargs = {"source": {"help_text": "The international source the indicator mirrors."}}


class IndicatorFilter(django_filters.FilterSet):
    part = django_filters.TypedChoiceFilter(
        choices=ProfilePart.choices,
        coerce=int,
        help_text="Only the indicators of one part (1 to 4).",
        error_messages={"invalid_choice": _("Part must be 1, 2, 3 or 4; “%(value)s” is not.")},
    )

    class Meta:
        model = Indicator
        fields = ["part"]


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="List the indicators of the extended migration profiles",
        description=(
            "Every indicator of the catalogue, part by part, with its unit, the breakdowns it allows and the "
            "international source it mirrors (UN DESA, World Bank/KNOMAD, ILOSTAT, UNHCR, the SDG indicators)."
        ),
        parameters=[ACCEPT_LANGUAGE],
        responses=IndicatorSerializer(many=True),
    )
)
class IndicatorViewSet(PublicReference, mixins.ListModelMixin, ActorViewSet):
    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilter

    def queryset_for(self, actor: Actor) -> QuerySet[Indicator]:
        return Indicator.objects.order_by("part", "position", "code")
