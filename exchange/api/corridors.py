"""Corridor API: ``GET /api/v1/corridors/{origin}-{destination}/`` (docs/corridors.md).

Everything comes from ``exchange.corridors.selectors.corridor_view``, which reads
through the access layer: the response holds only what the caller may see. A code
that is not two different known ISO 3166-1 alpha-2 codes in upper case is a 404,
as on the page.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import ActorAPIView
from exchange.corridors import selectors
from exchange.models import MatchState, OutcomeStage

TAG = "corridors"


class CorridorListingSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    status = serializers.CharField()
    direction = serializers.CharField()
    owner_country = serializers.CharField()
    quantity = serializers.IntegerField(source="total_quantity", help_text="Places (demand) or workers (supply).")


class MajorGroupSerializer(serializers.Serializer):
    group = serializers.CharField(help_text="ISCO-08 major group (1 digit).")
    title = serializers.CharField()
    places = serializers.IntegerField(help_text="Places offered by the published demand listings.")
    workers = serializers.IntegerField(help_text="Workers offered by the published supply listings.")


class CorridorPartnershipSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField()
    in_force_from = serializers.DateField(allow_null=True)


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "enum": ["<5"]}]})
class CellField(serializers.Field):
    """A count, or ``"<5"`` for a small cell shown outside the corridor's two governments and the agencies."""

    def to_representation(self, value: Any) -> Any:
        return value


class PipelineSerializer(serializers.Serializer):
    exact = serializers.BooleanField(
        help_text='True for the corridor\'s two governments and the agencies; otherwise counts of 1 to 4 read "<5".'
    )
    stages = serializers.DictField(child=CellField(), help_text="Stage: people, sexes summed (effective entries).")


class FigureSerializer(serializers.Serializer):
    period = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=20, decimal_places=4, coerce_to_string=False)


class CountryProfileSerializer(serializers.Serializer):
    profile = serializers.UUIDField(allow_null=True, help_text="The current published profile, or null.")
    year = serializers.IntegerField(allow_null=True)
    version = serializers.IntegerField(allow_null=True)
    figures = serializers.DictField(child=FigureSerializer(), help_text="Indicator code: latest figure (total).")


class MeetingSerializer(serializers.Serializer):
    group = serializers.CharField(help_text="The ISCO group where the two rows meet.")
    shortage = serializers.CharField(help_text="The destination's shortage (ISCO code).")
    surplus = serializers.CharField(help_text="The origin's surplus (ISCO code).")


class CorridorSuggestionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    isco_code = serializers.CharField()
    state = serializers.CharField()


class CorridorSerializer(serializers.Serializer):
    origin = serializers.CharField()
    destination = serializers.CharField()
    listings = CorridorListingSerializer(many=True)
    by_isco_major_group = MajorGroupSerializer(many=True)
    matches_by_state = serializers.DictField(child=serializers.IntegerField(), help_text=str(MatchState.values))
    partnerships = CorridorPartnershipSerializer(many=True)
    outcomes = PipelineSerializer(help_text=str(OutcomeStage.values))
    profiles = serializers.DictField(child=CountryProfileSerializer(), help_text="Keyed by the two country codes.")
    meeting = MeetingSerializer(many=True)
    suggestions = CorridorSuggestionSerializer(many=True)


def corridor_data(view: selectors.CorridorView) -> dict[str, Any]:
    """The corridor as the API gives it (the page shows the same figures)."""
    return {
        "origin": view.origin,
        "destination": view.destination,
        "listings": view.listings,
        "by_isco_major_group": view.by_major_group,
        "matches_by_state": view.matches,
        "partnerships": view.partnerships,
        "outcomes": {"exact": view.pipeline.exact, "stages": view.pipeline.as_dict()},
        "profiles": {
            code: {
                "profile": shown.profile.pk if shown.profile else None,
                "year": shown.profile.year if shown.profile else None,
                "version": shown.profile.version if shown.profile else None,
                "figures": shown.figures,
            }
            for code, shown in view.profiles.items()
        },
        "meeting": [
            {"group": m["group"], "shortage": m["shortage"].occupation_id, "surplus": m["surplus"].occupation_id}
            for m in view.meeting
        ],
        "suggestions": [{"id": s.pk, "isco_code": s.occupation_id, "state": s.state} for s in view.suggestions],
    }


class CorridorAPIView(ActorAPIView):
    @extend_schema(
        tags=[TAG],
        summary="The corridor from an origin to a destination country, as the caller may see it",
        description=(
            "Listings both ways (the destination's demand open to the origin, the origin's supply open to the "
            "destination), places against workers by ISCO major group, the caller's matches by state, "
            "partnerships in force, the outcome pipeline of the corridor's schemes (exact for the two "
            'governments and the agencies, counts of 1 to 4 as "<5" otherwise), the two countries\' current '
            "published profile figures, the shortages and surpluses that meet, and the open suggestions. "
            "A bad corridor code (not two different known upper-case alpha-2 codes) is a 404."
        ),
        responses={200: CorridorSerializer, 404: OpenApiResponse(description="Not a corridor.")},
    )
    def get(self, request: Request, origin: str, destination: str) -> Response:
        pair = selectors.parse_corridor(origin, destination)
        if pair is None:
            raise Http404(_("Not a corridor: two different ISO 3166-1 alpha-2 codes, such as MD-IT."))
        view = selectors.corridor_view(actor=self.actor, origin=pair[0], destination=pair[1])
        return Response(CorridorSerializer(corridor_data(view)).data)
