"""Matches API: the caller's matches, their explanation, interest, the thread, the outcome."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.tenancy import Actor
from config.api import ActorViewSet
from exchange.dialogue import services
from exchange.dialogue.selectors import message_list
from exchange.matching.selectors import match_list
from exchange.models import Match, MatchState, Message
from opportunities.access import listing_visible_to
from opportunities.models import Listing

CONFLICT = OpenApiResponse(description="The match's state does not allow this.")


class MatchListingSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    owner = serializers.SerializerMethodField()
    country = serializers.CharField(source="owner_country")
    status = serializers.CharField()

    @extend_schema_field(
        {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}}}
    )
    def get_owner(self, listing: Listing) -> dict[str, str]:
        return {"id": str(listing.owner_id), "name": listing.owner.name}


class MatchSerializer(serializers.ModelSerializer):
    demand = MatchListingSerializer()
    supply = MatchListingSerializer()
    interest_by = serializers.SerializerMethodField()

    class Meta:
        model = Match
        fields = [
            "id",
            "demand",
            "supply",
            "score",
            "explanation",
            "state",
            "interest_by",
            "decision_reason",
            "created_at",
            "updated_at",
            "computed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}},
        }
    )
    def get_interest_by(self, match: Match) -> dict[str, str] | None:
        if match.interest_by is None:
            return None
        return {"id": str(match.interest_by_id), "name": match.interest_by.name}


class MessageSerializer(serializers.ModelSerializer):
    organisation = serializers.SerializerMethodField()
    author = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "organisation", "author", "body", "created_at"]
        read_only_fields = fields

    @extend_schema_field(
        {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}}}
    )
    def get_organisation(self, message: Message) -> dict[str, str]:
        return {"id": str(message.organisation_id), "name": message.organisation.name}

    @extend_schema_field({"type": "string", "nullable": True})
    def get_author(self, message: Message) -> str | None:
        return (message.author.full_name or message.author.email) if message.author else None


class MessageCreateSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=10_000)


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class MatchFilter(django_filters.FilterSet):
    listing = django_filters.UUIDFilter(method="filter_listing", help_text="Matches involving this listing.")
    min_score = django_filters.NumberFilter(field_name="score", lookup_expr="gte", help_text="0 to 1.")
    state = django_filters.ChoiceFilter(choices=MatchState.choices)

    class Meta:
        model = Match
        fields = ["listing", "min_score", "state"]

    def filter_listing(self, queryset: QuerySet[Match], name: str, value: Any) -> QuerySet[Match]:
        return queryset.filter(Q(demand_id=value) | Q(supply_id=value))

    def filter_queryset(self, queryset: QuerySet[Match]) -> QuerySet[Match]:
        value = self.form.cleaned_data.get("min_score")
        if value is not None and not 0 <= value <= 1:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"min_score": ["min_score must be between 0 and 1."]})
        return super().filter_queryset(queryset)


@extend_schema_view(
    list=extend_schema(summary="Matches involving the acting organisation's listings, best first"),
    retrieve=extend_schema(summary="One match with its explanation"),
)
class MatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ActorViewSet):
    serializer_class = MatchSerializer
    filterset_class = MatchFilter

    def queryset_for(self, actor: Actor) -> QuerySet[Match]:
        return match_list(actor=actor).order_by("-score", "-created_at", "id")

    def _read(self, match: Match) -> dict[str, Any]:
        return MatchSerializer(self.get_queryset().get(pk=match.pk)).data

    @extend_schema(
        summary="Express interest in a suggested match; the message opens the thread",
        request=MessageCreateSerializer,
        responses={200: MatchSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def interest(self, request: Request, pk: str | None = None) -> Response:
        body = MessageCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        match = services.match_express_interest(
            actor=self.actor, match=self.get_object(), message=body.validated_data["message"]
        )
        return Response(self._read(match))

    @extend_schema(methods=["GET"], summary="The thread, oldest first", responses=MessageSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        summary="Add a message to the thread",
        request=MessageCreateSerializer,
        responses={201: MessageSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def messages(self, request: Request, pk: str | None = None) -> Response:
        match = self.get_object()
        if request.method == "GET":
            return Response(MessageSerializer(message_list(actor=self.actor, match=match), many=True).data)
        body = MessageCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        posted = services.match_post_message(actor=self.actor, match=match, message=body.validated_data["message"])
        return Response(MessageSerializer(posted).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Accept (the party that did not express interest)",
        request=DecisionSerializer,
        responses={200: MatchSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def accept(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, accept=True)

    @extend_schema(
        summary="Decline (the party that did not express interest)",
        request=DecisionSerializer,
        responses={200: MatchSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def decline(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, accept=False)

    def _decide(self, request: Request, *, accept: bool) -> Response:
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        match = services.match_decide(
            actor=self.actor, match=self.get_object(), accept=accept, reason=body.validated_data["reason"]
        )
        return Response(self._read(match))


@extend_schema_view(
    list=extend_schema(
        summary="Matches of one listing that involve the acting organisation",
        parameters=[OpenApiParameter("listing_id", str, OpenApiParameter.PATH)],
    )
)
class ListingMatchViewSet(mixins.ListModelMixin, ActorViewSet):
    serializer_class = MatchSerializer
    filterset_class = MatchFilter

    def queryset_for(self, actor: Actor) -> QuerySet[Match]:
        listing_id = self.kwargs.get("listing_id")
        if listing_id is None:  # schema generation
            return match_list(actor=actor)
        if not listing_visible_to(actor=actor).filter(pk=listing_id).exists():
            raise Http404
        return (
            match_list(actor=actor).filter(Q(demand_id=listing_id) | Q(supply_id=listing_id)).order_by("-score", "id")
        )
