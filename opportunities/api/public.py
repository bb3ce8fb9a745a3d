"""The public listings API: published listings marked public, for anyone, without a login.

Would-be migrants, journalists and researchers learn of legal routes from an
official source here. The endpoints answer the same for everyone: they run no
authentication (a token or session is ignored, never rejected), so every caller is
anonymous and the anonymous throttle applies. Anything that is not published with
``visibility=public`` — a draft, a listing in moderation, a members- or
partners-only listing, a closed or expired one — is a 404, exactly like a missing one.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.permissions import AllowAny

from accounts.tenancy import Actor
from config.api import ActorViewSet
from config.throttling import AnonThrottle
from opportunities.api.filters import ListingFilter
from opportunities.api.reference_views import ListFiltersSchema
from opportunities.api.serializers import ListingSerializer
from opportunities.models import Listing
from opportunities.selectors import public_listing_list

TAG = "Public listings"

# What readers outside the platform never see: the contact person (a civil
# servant's e-mail), the pending edit, the internal timestamps, and the WHO-list
# flag (the owner's and the moderators').
INTERNAL_FIELDS = frozenset(
    {"contact", "pending_revision", "submitted_at", "updated_at", "created_at", "safeguard_flag"}
)


class PublicListingSerializer(ListingSerializer):
    """A published public listing as anyone may read it: the listing without its internal fields."""

    class Meta(ListingSerializer.Meta):
        fields = [f for f in ListingSerializer.Meta.fields if f not in INTERNAL_FIELDS]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="Published public listings (no login needed)",
        description=(
            "Listings that are published with `visibility=public`, newest first, with the same query "
            "parameters as `GET /api/v1/listings/`. No authentication: every caller is anonymous and "
            "shares the anonymous rate limit."
        ),
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="One published public listing (no login needed)",
        description="Anything that is not published with `visibility=public` answers 404.",
    ),
)
class PublicListingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ActorViewSet):
    public = True
    requires_organisation = False
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonThrottle]
    serializer_class = PublicListingSerializer
    filterset_class = ListingFilter
    http_method_names = ["get", "head", "options"]
    schema = ListFiltersSchema()

    def queryset_for(self, actor: Actor) -> QuerySet[Listing]:
        # The same rows for every caller, whoever they are.
        return public_listing_list()

    def filter_queryset(self, queryset: QuerySet[Listing]) -> QuerySet[Listing]:  # type: ignore[override]
        # The query parameters filter the list; a detail is found by its id alone.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)
