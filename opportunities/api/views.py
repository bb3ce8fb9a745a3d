"""Listings API: CRUD, the moderation actions, history, revisions, CSV export.

Every lookup starts from ``listing_list(actor)`` (config.api.ActorViewSet), so a
listing the actor may not read is a 404 for every method and action.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.tenancy import Actor
from config.api import ActorViewSet
from config.db_router import read_from_replica
from config.pagination import IdsFirstPagination
from config.statements import precompiled
from config.web import csv_rows
from opportunities import access, inputs, services
from opportunities.api import serializers as s
from opportunities.api.filters import ListingFilter
from opportunities.api.lean import ListingWriter, OrjsonRenderer
from opportunities.models import Listing
from opportunities.selectors import listing_list, listing_rows, translated

# The listing id a precompiled detail statement is compiled for, and swapped for the one asked.
SLOT = uuid.UUID("00000000-0000-4000-8000-000000000000")

CONFLICT = OpenApiResponse(description="The listing's status does not allow this (e.g. approving a draft).")


def _transition_action(name: str, summary: str, *, with_reason: bool = False) -> Any:
    url_path = name.replace("_", "-")

    def handler(self: ListingViewSet, request: Request, pk: str | None = None) -> Response:
        reason = ""
        if with_reason:
            body = inputs.ReasonSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            reason = body.validated_data["reason"]
        try:
            # The scoped queryset, not a listing read first: the service finds and locks it in one statement.
            listing = services.listing_transition(
                actor=self.actor, listing=self._listings_to_change(), action=name, reason=reason
            )
        except Listing.DoesNotExist:
            raise Http404 from None
        return Response(self._read(listing))

    # The router maps the URL to the method by its name, so name it before decorating.
    handler.__name__ = handler.__qualname__ = name
    handler = action(detail=True, methods=["post"], url_path=url_path, url_name=url_path)(handler)
    return extend_schema(
        summary=summary,
        request=inputs.ReasonSerializer if with_reason else None,
        responses={200: s.ListingSerializer, 409: CONFLICT},
    )(handler)


@extend_schema_view(
    list=extend_schema(summary="Listings the acting organisation may see, filtered and searched"),
    retrieve=extend_schema(summary="One listing"),
    create=extend_schema(
        summary="Post a listing (a draft until submitted and approved)",
        request=inputs.ListingWriteSerializer,
        responses={201: s.ListingSerializer},
    ),
    partial_update=extend_schema(
        summary="Edit a draft (in place) or a published listing (as a revision for moderation)",
        request=inputs.ListingWriteSerializer,
        responses={200: s.ListingSerializer, 409: CONFLICT},
    ),
    destroy=extend_schema(summary="Delete a draft", responses={204: None, 409: CONFLICT}),
)
class ListingViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ActorViewSet,
):
    serializer_class = s.ListingSerializer
    filterset_class = ListingFilter
    pagination_class = IdsFirstPagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    renderer_classes = [OrjsonRenderer, *ActorViewSet.renderer_classes[1:]]

    def queryset_for(self, actor: Actor) -> QuerySet[Listing]:
        # With the translations, which the rules of an edit and a revision's diff read; the
        # lean list and detail choose their own columns (listing_rows), the export none.
        return translated(listing_list(actor=actor))

    # The two hot reads: the same visible, filtered queryset, read as rows (lean.py).

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        writer = ListingWriter(self.actor)
        # A list (and a search) may be a moment old: read it from the replica if there is one.
        with read_from_replica():
            rows = listing_rows(self.filter_queryset(self.get_queryset()))
            page = self.paginate_queryset(rows)
            if page is None:
                return Response([writer.listing(row) for row in rows])
            return self.get_paginated_response([writer.listing(row) for row in page])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # As get_object: the lookup runs on the filtered queryset (the filters are no-ops
        # without query parameters, so a plain detail request skips building them).
        pk = self._lookup()
        if request.query_params:
            row = listing_rows(self.filter_queryset(self.get_queryset())).filter(pk=pk).first()
        else:
            # The hot path: the statement compiled once per shape of actor the read rule tells apart.
            rows = precompiled(
                ("listing detail", *access.listing_read_key(self.actor)),
                lambda: listing_rows(self.get_queryset()).filter(pk=SLOT).order_by(),  # one row: its primary key
                slot=SLOT,
            ).run(pk)
            row = rows[0] if rows else None
        if row is None:
            raise Http404
        return Response(ListingWriter(self.actor).listing(row))

    def _lookup(self) -> uuid.UUID:
        try:
            return uuid.UUID(str(self.kwargs[self.lookup_url_kwarg or self.lookup_field]))
        except ValueError:
            raise Http404 from None

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        access.can_post(self.actor).check()  # who asks comes before what they sent
        body = inputs.ListingWriteSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        listing = services.listing_create(actor=self.actor, data=body.validated_data)
        return Response(self._read(listing), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        listing = self.get_object()
        body = inputs.ListingWriteSerializer(
            listing, data=request.data, partial=True, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        payload = inputs.json_payload({**inputs.listing_write_data(listing), **body.validated_data})
        listing = services.listing_update(actor=self.actor, listing=listing, data=body.validated_data, payload=payload)
        return Response(self._read(listing))

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.listing_delete(actor=self.actor, listing=self._listing_to_change())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _listing_to_change(self) -> Listing:
        """As ``get_object``, without the lines and revisions a write does not read."""
        listing = get_object_or_404(self.get_queryset().prefetch_related(None), pk=self._lookup())
        self.check_object_permissions(self.request, listing)
        return listing

    def _listings_to_change(self) -> QuerySet[Listing]:
        """What ``_listing_to_change`` reads, as a queryset for a service to read under its lock.

        The viewset's permission classes have no rule per object (``IsAuthenticated``): who may
        change the listing is ``opportunities.access``'s to say, which the service asks.
        """
        return self.get_queryset().filter(pk=self._lookup())

    def _read(self, listing: Listing) -> dict[str, Any]:
        # What the detail answers, after a write: in one statement (lean.py), as ListingSerializer.
        return ListingWriter(self.actor).listing(listing_rows(self.get_queryset()).get(pk=listing.pk))

    submit = _transition_action("submit", "Submit a draft (or a listing with changes requested) for moderation")
    approve = _transition_action("approve", "Approve a submitted listing, or a published listing's pending revision")
    request_changes = _transition_action(
        "request_changes", "Send a submitted listing (or a pending revision) back with a reason", with_reason=True
    )
    reject = _transition_action(
        "reject", "Reject a submitted listing (or a pending revision) with a reason", with_reason=True
    )
    withdraw = _transition_action("withdraw", "Withdraw a published listing")
    close = _transition_action("close", "Close a published listing (places filled)")

    @extend_schema(
        summary="The listing's history: every step with who and why for the owner and the agencies; "
        "for other readers, when it was published, closed, withdrawn or expired",
        responses=s.ListingTransitionSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def history(self, request: Request, pk: str | None = None) -> Response:
        listing = self.get_object()
        transitions = access.listing_history(self.actor, listing)
        serializer = s.TRANSITION_SERIALIZERS[access.listing_audience(self.actor, listing)]
        return Response(serializer(transitions, many=True).data)

    @extend_schema(
        summary="Revisions of a published listing, each with a field-by-field diff (the owner and the agencies)",
        responses=s.ListingRevisionSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def revisions(self, request: Request, pk: str | None = None) -> Response:
        listing = self.get_object()
        revisions = list(access.listing_revisions(self.actor, listing))
        for revision in revisions:
            revision.listing = listing  # each diff is against the listing as read here, once
        return Response(s.ListingRevisionSerializer(revisions, many=True).data)

    @extend_schema(
        summary="CSV of every listing the caller can see, with the list's filters",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def export(self, request: Request) -> StreamingHttpResponse:
        listings = self.filter_queryset(listing_list(actor=self.actor))
        response = StreamingHttpResponse(_csv_rows(listings), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="corridor-listings.csv"'
        return response


CSV_COLUMNS = [
    ("id", _("id")),
    ("title", _("title")),
    ("direction", _("direction")),
    ("scheme_type", _("scheme type")),
    ("status", _("status")),
    ("owner", _("owner")),
    ("owner_country", _("owner country")),
    ("partner_countries", _("partner countries")),
    ("occupations", _("occupations (ISCO-08 × quantity)")),
    ("total_quantity", _("total quantity")),
    ("starts_on", _("window starts")),
    ("ends_on", _("window ends")),
    ("application_deadline", _("application deadline")),
    ("published_at", _("published")),
    ("visibility", _("visibility")),
]


def csv_values(listing: Listing) -> list[Any]:
    """One listing as a CSV row, in the order of ``CSV_COLUMNS`` (shared with the web export)."""
    lines = " ".join(f"{line.occupation_id}×{line.quantity}" for line in listing.occupation_lines.all())
    row = {
        "id": listing.pk,
        "title": listing.title,
        "direction": listing.direction,
        "scheme_type": listing.scheme_type,
        "status": listing.status,
        "owner": listing.owner.name,
        "owner_country": listing.owner_country,
        "partner_countries": " ".join(listing.partner_countries),
        "occupations": lines,
        "total_quantity": listing.total_quantity,
        "starts_on": listing.starts_on,
        "ends_on": listing.ends_on,
        "application_deadline": listing.application_deadline,
        "published_at": listing.published_at.isoformat() if listing.published_at else "",
        "visibility": listing.visibility,
    }
    return [row[key] for key, _label in CSV_COLUMNS]


def csv_header() -> list[Any]:
    return [label for _key, label in CSV_COLUMNS]


def _csv_rows(listings: QuerySet[Listing]) -> Iterator[str]:
    return csv_rows(csv_header(), (csv_values(listing) for listing in listings.iterator(chunk_size=500)))
