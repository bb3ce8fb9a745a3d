"""Origin-government consent (issue [12], as in Germany's Triple Win).

* ``GET /api/v1/consents/``: the consents the caller's government is asked for,
  pending and decided (an agency's list is empty);
* ``GET /api/v1/listings/{listing_id}/consents/``: one listing's consents: all of
  them for its owner and the agencies, its own country's for an origin government;
* ``POST /api/v1/listings/{listing_id}/consents/{country}/accept/`` and ``/refuse/``
  (an optional ``reason``): the origin government's administrators and officials.

Who may read and decide is ``opportunities.access`` (``consent_listings_visible_to``,
``listing_consents``, ``consents_of_government``, ``can_decide_consent``); a consent
the caller may not read is a 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.tenancy import Actor
from config.api import ActorAPIView, ActorViewSet
from opportunities import access, inputs, services
from opportunities.models import Listing, OriginConsent


class ConsentListingSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    status = serializers.CharField()
    owner_country = serializers.CharField()
    owner_name = serializers.CharField(source="owner.name")


class ConsentSerializer(serializers.ModelSerializer):
    listing = ConsentListingSerializer(read_only=True)

    class Meta:
        model = OriginConsent
        fields = ["id", "listing", "country", "status", "reason", "decided_at", "created_at"]
        read_only_fields = fields


def consent_listing(actor: Actor, listing_id: Any) -> Listing:
    """The listing whose consents the actor may read, or a 404."""
    return get_object_or_404(access.consent_listings_visible_to(actor=actor), pk=listing_id)


@extend_schema_view(list=extend_schema(summary="The consents the caller's government is asked for"))
class ConsentViewSet(mixins.ListModelMixin, ActorViewSet):
    serializer_class = ConsentSerializer

    def queryset_for(self, actor: Actor) -> QuerySet[OriginConsent]:
        return (
            access.consents_of_government(actor=actor)
            .select_related("listing", "listing__owner")
            .order_by("-created_at", "id")
        )


@extend_schema_view(
    list=extend_schema(
        summary="A listing's consents: all for its owner and the agencies, its own for an origin government"
    )
)
class ListingConsentViewSet(mixins.ListModelMixin, ActorViewSet):
    serializer_class = ConsentSerializer
    pagination_class = None

    def queryset_for(self, actor: Actor) -> QuerySet[OriginConsent]:
        listing_id = self.kwargs.get("listing_id")
        if listing_id is None:  # schema generation
            return access.consents_of_government(actor=actor)
        listing = consent_listing(actor, listing_id)
        return access.listing_consents(actor, listing).select_related("listing", "listing__owner")


def _decision_schema(summary: str) -> Any:
    return extend_schema(
        summary=summary,
        request=inputs.ReasonSerializer,
        responses={
            200: ConsentSerializer,
            403: OpenApiResponse(description="Not an administrator or official of that country's government."),
            404: OpenApiResponse(description="No such consent the caller may read."),
            409: OpenApiResponse(description="Already decided, or the listing is no longer published."),
        },
    )


class ConsentDecisionView(ActorAPIView):
    """Accept or refuse (``accept`` is set per route)."""

    accept = True

    def decide(self, request: Request, listing_id: Any, country: str) -> Response:
        listing = consent_listing(self.actor, listing_id)
        code = country.upper()
        if not access.listing_consents(self.actor, listing).filter(country=code).exists():
            raise Http404
        body = inputs.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        consent = services.consent_decide(
            actor=self.actor, listing=listing, country=code, accept=self.accept, reason=body.validated_data["reason"]
        )
        return Response(ConsentSerializer(consent).data)


class ConsentAcceptView(ConsentDecisionView):
    accept = True

    @_decision_schema("The origin government accepts: its country is admitted")
    def post(self, request: Request, listing_id: Any, country: str) -> Response:
        return self.decide(request, listing_id, country)


class ConsentRefuseView(ConsentDecisionView):
    accept = False

    @_decision_schema("The origin government refuses (with an optional reason): its country stays out")
    def post(self, request: Request, listing_id: Any, country: str) -> Response:
        return self.decide(request, listing_id, country)
