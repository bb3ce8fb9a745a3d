"""Suggestions API: a destination's shortage meeting an origin's surplus, with no listing pair yet.

Every lookup starts from ``exchange.access.suggestion_visible_to(actor)`` (the two
countries' governments and the agencies), so any other suggestion is a 404; who may
dismiss or act on one is ``exchange.access.can_decide_suggestion``, asked before the
body is read.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.tenancy import Actor
from config.api import ActorViewSet
from exchange import access
from exchange.models import Suggestion, SuggestionState
from exchange.profiles import services
from opportunities.access import listing_visible_to
from opportunities.inputs import _country
from opportunities.models import Listing

CONFLICT = OpenApiResponse(description="The suggestion is not open (dismissed or acted on already).")


class SuggestionSerializer(serializers.ModelSerializer):
    destination_country = serializers.CharField(read_only=True)
    origin_country = serializers.CharField(read_only=True)
    isco_code = serializers.CharField(source="occupation_id", read_only=True)
    isco_title = serializers.CharField(source="occupation.title", read_only=True)
    listing = serializers.SerializerMethodField()

    class Meta:
        model = Suggestion
        fields = [
            "id",
            "destination_country",
            "origin_country",
            "isco_code",
            "isco_title",
            "evidence",
            "state",
            "reason",
            "listing",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uuid", "nullable": True})
    def get_listing(self, suggestion: Suggestion) -> str | None:
        """The listing that acted on it, if the reader may read that listing (else null)."""
        if suggestion.listing_id is None:
            return None
        readable: set[Any] = self.context.get("readable_listings", set())
        return str(suggestion.listing_id) if suggestion.listing_id in readable else None


class SuggestionFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=SuggestionState.choices)
    destination_country = django_filters.CharFilter(method="filter_country", help_text="ISO 3166-1 alpha-2.")
    origin_country = django_filters.CharFilter(method="filter_country", help_text="ISO 3166-1 alpha-2.")
    isco_code = django_filters.CharFilter(field_name="occupation_id", help_text="ISCO-08 group of the suggestion.")

    class Meta:
        model = Suggestion
        fields = ["state", "destination_country", "origin_country", "isco_code"]

    def filter_country(self, queryset: QuerySet[Suggestion], name: str, value: str) -> QuerySet[Suggestion]:
        try:
            code = _country(value)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({name: exc.detail}) from exc
        return queryset.filter(**{name: code})


class DismissInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the suggestion does not fit (required).")


class ActOnInput(serializers.Serializer):
    listing = serializers.UUIDField(help_text="A listing of the caller's organisation that acts on the suggestion.")

    def __init__(self, *args: Any, actor: Actor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor  # None only when the schema generator describes the body

    def validate_listing(self, value: Any) -> Listing:
        assert self.actor is not None
        # Resolved through the read rule, then narrowed to the caller's own: another
        # tenant's listing, readable or not, is refused with the same words as a missing one.
        listing = listing_visible_to(actor=self.actor).filter(pk=value, owner=self.actor.organisation).first()
        if listing is None:
            raise serializers.ValidationError(_("Choose one of your organisation's listings."))
        return listing


@extend_schema_view(
    list=extend_schema(summary="Suggestions from evidence that concern the caller's country (all, for agencies)"),
    retrieve=extend_schema(summary="One suggestion, with its evidence"),
)
class SuggestionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ActorViewSet):
    serializer_class = SuggestionSerializer
    filterset_class = SuggestionFilter

    def queryset_for(self, actor: Actor) -> QuerySet[Suggestion]:
        return access.suggestion_visible_to(actor=actor).select_related("occupation")

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        instance = args[0] if args else None
        rows = instance if isinstance(instance, list | QuerySet) else [instance] if instance is not None else []
        ids = {row.listing_id for row in rows if row.listing_id is not None}
        actor = getattr(self, "actor", None)  # None only while the schema generator describes the view
        readable = set()
        if actor is not None and ids:
            readable = set(listing_visible_to(actor=actor).filter(pk__in=ids).values_list("pk", flat=True))
        kwargs.setdefault("context", {**self.get_serializer_context(), "readable_listings": readable})
        return super().get_serializer(*args, **kwargs)

    def _read(self, suggestion: Suggestion) -> dict[str, Any]:
        return self.get_serializer(self.get_queryset().get(pk=suggestion.pk)).data

    @extend_schema(
        summary="Dismiss an open suggestion, saying why",
        request=DismissInput,
        responses={200: SuggestionSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        suggestion = self.get_object()
        access.can_decide_suggestion(self.actor, suggestion).check()  # who asks comes before what they sent
        body = DismissInput(data=request.data)
        body.is_valid(raise_exception=True)
        changed = services.suggestion_dismiss(
            actor=self.actor, suggestion=suggestion, reason=body.validated_data["reason"]
        )
        return Response(self._read(changed))

    @extend_schema(
        summary="Record the listing that turned an open suggestion into an opportunity",
        request=ActOnInput,
        responses={200: SuggestionSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="act-on", filterset_class=None)
    def act_on(self, request: Request, pk: str | None = None) -> Response:
        suggestion = self.get_object()
        access.can_decide_suggestion(self.actor, suggestion).check()  # who asks comes before what they sent
        body = ActOnInput(data=request.data, actor=self.actor)
        body.is_valid(raise_exception=True)
        changed = services.suggestion_act_on(
            actor=self.actor, suggestion=suggestion, listing=body.validated_data["listing"]
        )
        return Response(self._read(changed))
