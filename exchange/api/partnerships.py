"""Partnerships API: agreements between governments, their members and documents.

Every lookup starts from the actor (``config.api.ActorViewSet``):

* ``/partnerships/`` from ``partnership_list(actor)``: members (invited or
  confirmed) and, for public partnerships in force, everyone signed in;
* ``/partnerships/{id}/documents/`` from the partnerships the actor's organisation
  is an active member of, so a public reader (and anyone else) gets a 404 there.

Reads are ``exchange.partnerships.selectors``; who may change what is decided by
the services in ``exchange.partnerships.services``; a download is
``exchange.web.downloads.document_response``, shared with the pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import django_filters
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Organisation
from accounts.tenancy import Actor
from config.api import ActorAPIView, ActorViewSet
from config.api_schema import ErrorDetail
from config.filters import StrictBooleanFilter
from exchange import access
from exchange.models import (
    DocumentType,
    MemberState,
    Partnership,
    PartnershipDocument,
    PartnershipKind,
    PartnershipMember,
    PartnershipStatus,
)
from exchange.models.partnerships import (
    ACTIVE_MEMBER_STATES,
    CommitteeDecision,
    CommitteeMeeting,
    CommitteeMember,
)
from exchange.partnerships import selectors, services
from exchange.partnerships.documents import DOCUMENT_TYPES
from exchange.web.downloads import document_response
from opportunities.access import listing_visible_to

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

UUID_PATTERN = "[0-9a-fA-F-]{36}"
MAX_MEMBERS = 50
MAX_GROUPED = 500

CONFLICT = OpenApiResponse(
    response=ErrorDetail, description="The membership's state does not allow this (e.g. confirming twice)."
)


# --- Serializers ----------------------------------------------------------------------


class OrganisationBriefSerializer(serializers.ModelSerializer):
    country = serializers.CharField(help_text=_("ISO 3166-1 alpha-2."))

    class Meta:
        model = Organisation
        fields = ["id", "name", "slug", "country"]
        read_only_fields = fields


class PartnershipMemberSerializer(serializers.ModelSerializer):
    organisation = OrganisationBriefSerializer(read_only=True)

    class Meta:
        model = PartnershipMember
        fields = ["organisation", "state", "invited_at", "confirmed_at", "left_at"]
        read_only_fields = fields


def _actor(serializer: serializers.Serializer) -> Actor:
    return serializer.context.get("actor") or Actor.anonymous()


def _own_row(partnership: Partnership, actor: Actor) -> PartnershipMember | None:
    if actor.organisation is None:
        return None
    return next((m for m in partnership.memberships.all() if m.organisation_id == actor.organisation.pk), None)


def _is_active_member(partnership: Partnership, actor: Actor) -> bool:
    row = _own_row(partnership, actor)
    return row is not None and row.is_active


class PartnershipSerializer(serializers.ModelSerializer):
    """A partnership as the reader may see it.

    Members see every membership row (declined and departed governments included)
    and every grouped match; non-members (readers of a public partnership in force)
    see the confirmed members and only what they could read anyway. ``listings``
    holds only the grouped listings the reader may read.
    """

    members = serializers.SerializerMethodField(help_text=_("Ids of the member governments (invited or confirmed)."))
    memberships = serializers.SerializerMethodField()
    listings = serializers.SerializerMethodField(help_text=_("Ids of the grouped listings you may read."))
    matches = serializers.SerializerMethodField(help_text=_("Ids of the grouped agreed matches."))
    my_membership = serializers.SerializerMethodField(
        help_text=_("Your organisation's state in this partnership, or null if it is not a member.")
    )
    created_by_organisation = serializers.UUIDField(source="created_by_organisation_id", read_only=True)

    class Meta:
        model = Partnership
        fields = [
            "id",
            "name",
            "kind",
            "status",
            "signed_on",
            "in_force_from",
            "ends_on",
            "public",
            "members",
            "memberships",
            "listings",
            "matches",
            "my_membership",
            "created_by_organisation",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _rows(self, partnership: Partnership) -> list[PartnershipMember]:
        rows = list(partnership.memberships.all())
        if _is_active_member(partnership, _actor(self)):
            return rows
        return [row for row in rows if row.state == MemberState.CONFIRMED]

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_members(self, partnership: Partnership) -> list[str]:
        return [str(row.organisation_id) for row in self._rows(partnership) if row.state in ACTIVE_MEMBER_STATES]

    @extend_schema_field(PartnershipMemberSerializer(many=True))
    def get_memberships(self, partnership: Partnership) -> list[dict[str, Any]]:
        return PartnershipMemberSerializer(self._rows(partnership), many=True).data  # type: ignore[return-value]  # many=True: a ReturnList

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_listings(self, partnership: Partnership) -> list[str]:
        return sorted(str(listing.pk) for listing in getattr(partnership, "visible_listings", []))

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_matches(self, partnership: Partnership) -> list[str]:
        actor = _actor(self)
        matches = getattr(partnership, "attached_matches", [])
        if not _is_active_member(partnership, actor):
            org = actor.organisation.pk if actor.organisation else None
            matches = [m for m in matches if org in (m.demand_owner_id, m.supply_owner_id)]
        return sorted(str(m.pk) for m in matches)

    @extend_schema_field(serializers.ChoiceField(choices=MemberState.choices, allow_null=True))
    def get_my_membership(self, partnership: Partnership) -> str | None:
        row = _own_row(partnership, _actor(self))
        return row.state if row is not None else None


class _DatesMixin(serializers.Serializer):
    signed_on = serializers.DateField(required=False, allow_null=True, help_text=_("Required from status signed on."))
    in_force_from = serializers.DateField(
        required=False, allow_null=True, help_text=_("Required for status in_force; not before signed_on.")
    )
    ends_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_("Required for status ended; not before signed_on or in_force_from."),
    )
    public = serializers.BooleanField(
        required=False, help_text=_("Once in force, readable by every signed-in organisation (documents excepted).")
    )


def _id_list(help_text: StrOrPromise, **kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=serializers.UUIDField(), help_text=help_text, **kwargs)


class PartnershipCreateSerializer(_DatesMixin):
    """The body of POST /partnerships/."""

    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=PartnershipKind.choices)
    members = _id_list(
        _("Ids of the other governments, each invited to confirm; your organisation is added as a confirmed member."),
        allow_empty=False,
        max_length=MAX_MEMBERS,
    )
    listings = _id_list(
        _("Ids of listings to group: each visible to you and posted by a member."),
        required=False,
        max_length=MAX_GROUPED,
    )
    matches = _id_list(
        _("Ids of agreed matches to group, each between two members."), required=False, max_length=MAX_GROUPED
    )
    status = serializers.ChoiceField(
        choices=PartnershipStatus.choices,
        required=False,
        help_text=_("negotiating unless given: an agreement already signed or in force can be recorded as such."),
    )


class PartnershipUpdateSerializer(_DatesMixin):
    """The body of PATCH /partnerships/{id}/: any subset."""

    name = serializers.CharField(max_length=200, required=False)
    kind = serializers.ChoiceField(choices=PartnershipKind.choices, required=False)
    status = serializers.ChoiceField(
        choices=PartnershipStatus.choices,
        required=False,
        help_text=_("negotiating → signed → in_force → ended (or straight to ended); ended is final."),
    )
    members = _id_list(
        _("Governments to invite. Existing members stay whether listed or not (a member leaves with /leave/)."),
        required=False,
        max_length=MAX_MEMBERS,
    )
    listings = _id_list(
        _("The grouped listings (replaces the set; listings you cannot read are kept)."),
        required=False,
        max_length=MAX_GROUPED,
    )
    matches = _id_list(_("The grouped agreed matches (replaces the set)."), required=False, max_length=MAX_GROUPED)


class PartnershipDocumentSerializer(serializers.ModelSerializer):
    uploaded_by_organisation = OrganisationBriefSerializer(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = PartnershipDocument
        fields = [
            "id",
            "title",
            "document_type",
            "original_filename",
            "content_type",
            "size",
            "uploaded_by_organisation",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, document: PartnershipDocument) -> str:
        return reverse(
            "partnership-document-download",
            kwargs={"partnership_pk": str(document.partnership_id), "pk": str(document.pk)},
        )


class PartnershipDocumentUploadSerializer(serializers.Serializer):
    """The multipart body of POST /partnerships/{id}/documents/."""

    file = serializers.FileField(
        max_length=200,
        allow_empty_file=False,
        help_text=_("PDF, DOCX, ODT, PNG or JPEG, checked by extension and content; size limited by the server."),
    )
    document_type = serializers.ChoiceField(choices=DocumentType.choices)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# --- Filters --------------------------------------------------------------------------


class PartnershipFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", max_length=200, help_text=_("In the name.")
    )
    kind = django_filters.ChoiceFilter(choices=PartnershipKind.choices)
    status = django_filters.ChoiceFilter(choices=PartnershipStatus.choices)
    public = StrictBooleanFilter()
    member = django_filters.UUIDFilter(
        method="filter_member", help_text=_("Partnerships of which this organisation is a confirmed member.")
    )

    class Meta:
        model = Partnership
        fields: list[str] = []

    @extend_schema_field(OpenApiTypes.UUID)
    def filter_member(self, queryset: QuerySet[Partnership], name: str, value: Any) -> QuerySet[Partnership]:
        confirmed = PartnershipMember.objects.filter(
            partnership=OuterRef("pk"), organisation_id=value, state=MemberState.CONFIRMED
        )
        return queryset.filter(Exists(confirmed))


# --- Views ----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Partnerships of the acting organisation, and public ones in force"),
    retrieve=extend_schema(summary="One partnership"),
)
class PartnershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ActorViewSet):
    serializer_class = PartnershipSerializer
    filterset_class = PartnershipFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def queryset_for(self, actor: Actor) -> QuerySet[Partnership]:
        return selectors.partnership_list(actor=actor)

    def _read(self, partnership: Partnership) -> Any:
        return PartnershipSerializer(
            self.get_queryset().get(pk=partnership.pk), context=self.get_serializer_context()
        ).data

    @extend_schema(
        summary="Create a partnership and invite the other governments to confirm",
        request=PartnershipCreateSerializer,
        responses={201: PartnershipSerializer},
    )
    def create(self, request: Request) -> Response:
        access.can_create_partnership(self.actor).check()  # who asks comes before what they sent
        body = PartnershipCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        partnership = services.partnership_create(actor=self.actor, **body.validated_data)
        return Response(self._read(partnership), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a partnership (confirmed members' officials and admins)",
        request=PartnershipUpdateSerializer,
        responses={200: PartnershipSerializer},
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        partnership = self.get_object()
        body = PartnershipUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        partnership = services.partnership_update(
            actor=self.actor, partnership=partnership, data=dict(body.validated_data)
        )
        return Response(self._read(partnership))

    @extend_schema(
        summary="Confirm your organisation's invitation to join",
        request=None,
        responses={200: PartnershipSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        partnership = self.get_object()
        services.partnership_confirm(actor=self.actor, partnership=partnership)
        return Response(self._read(partnership))

    @extend_schema(
        summary="Decline your organisation's invitation",
        request=None,
        responses={204: None, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def decline(self, request: Request, pk: str | None = None) -> Response:
        services.partnership_decline(actor=self.actor, partnership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Withdraw your organisation from the partnership",
        request=None,
        responses={204: None, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def leave(self, request: Request, pk: str | None = None) -> Response:
        services.partnership_leave(actor=self.actor, partnership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


PARTNERSHIP_PK = OpenApiParameter(
    "partnership_pk", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The partnership's id."
)


@extend_schema_view(
    list=extend_schema(summary="Documents of a partnership (members only)"),
    retrieve=extend_schema(summary="One document's details (members only)"),
)
@extend_schema(parameters=[PARTNERSHIP_PK])
class PartnershipDocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ActorViewSet):
    """Documents are for the partnership's members (invited or confirmed): a public
    reader of a public partnership, like any outsider, gets a 404 here."""

    serializer_class = PartnershipDocumentSerializer
    parser_classes = [MultiPartParser, FormParser]
    http_method_names = ["get", "post", "delete", "head", "options"]

    def queryset_for(self, actor: Actor) -> QuerySet[PartnershipDocument]:
        partnership_pk = getattr(self, "kwargs", {}).get("partnership_pk")
        documents = selectors.partnership_document_list(actor=actor)
        return documents.filter(partnership_id=partnership_pk) if partnership_pk else documents.none()

    def _partnership(self) -> Partnership:
        return get_object_or_404(access.partnership_member_of(actor=self.actor), pk=self.kwargs["partnership_pk"])

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._partnership()  # 404 for anyone but a member, rather than an empty list
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Upload a document (confirmed members' officials and admins)",
        request=PartnershipDocumentUploadSerializer,
        responses={201: PartnershipDocumentSerializer},
    )
    def create(self, request: Request, partnership_pk: str | None = None) -> Response:
        partnership = self._partnership()
        body = PartnershipDocumentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        document = services.partnership_document_upload(
            actor=self.actor, partnership=partnership, **body.validated_data
        )
        return Response(
            PartnershipDocumentSerializer(self.get_queryset().get(pk=document.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Delete a document (the uploading organisation's officials and admins)", responses={204: None}
    )
    def destroy(self, request: Request, partnership_pk: str | None = None, pk: str | None = None) -> Response:
        services.partnership_document_delete(actor=self.actor, document=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Download a document, as an attachment (members only)",
        # The file is served with the content type checked at upload: one of the accepted document types.
        responses={
            (200, content_type): OpenApiResponse(
                response=OpenApiTypes.BINARY,
                description="The file, with its own content type, `Content-Disposition: attachment` and "
                "`X-Content-Type-Options: nosniff`.",
            )
            for content_type in sorted(set(DOCUMENT_TYPES.values()))
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, partnership_pk: str | None = None, pk: str | None = None) -> FileResponse:
        document = self.get_object()
        return document_response(document)


# --- The agreement and its joint committee ------------------------------------------------------
#
# ``/partnerships/{id}/agreement/`` is read by the partnership's readers, per field
# (``access.agreement_audience``): a reader of a public partnership in force who is not a
# member gets the summary, the dates and the parties, and never ``text`` or
# ``named_parties`` as such. The committee routes are for the active members only: to
# anyone else they answer 404, a public reader included.

AGREEMENT_MEMBERS_ONLY = ("text",)


class AgreementSerializer(serializers.Serializer):
    """The agreement as its reader may see it (``text`` only for the members)."""

    summary = serializers.CharField(help_text=_("Public once the partnership is public and in force."))
    text = serializers.CharField(required=False, help_text=_("The signed text; present for members only."))
    signed_on = serializers.DateField(allow_null=True, help_text=_("The partnership's signature date."))
    in_force_from = serializers.DateField(allow_null=True, help_text=_("The partnership's entry-into-force date."))
    review_on = serializers.DateField(allow_null=True)
    parties = serializers.ListField(
        child=serializers.CharField(), help_text=_("The confirmed member governments, then the other named parties.")
    )
    named_parties = serializers.ListField(child=serializers.CharField())
    updated_at = serializers.DateTimeField()


class AgreementInputSerializer(serializers.Serializer):
    """The body of PUT /partnerships/{id}/agreement/: the whole agreement (what is left out is cleared)."""

    summary = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000)
    text = serializers.CharField(required=False, allow_blank=True, default="", max_length=500_000)
    review_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text=_("Not before the signature date.")
    )
    named_parties = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        default=list,
        max_length=20,
        help_text=_("Parties that are not member governments here."),
    )


def agreement_data(actor: Actor, partnership: Partnership) -> dict[str, Any] | None:
    """The agreement's fields the actor may read, or None if none is recorded."""
    from exchange.partnerships.agreements import agreement_of, agreement_parties
    from opportunities.access import Audience

    agreement = agreement_of(partnership)
    if agreement is None:
        return None
    data: dict[str, Any] = {
        "summary": agreement.summary,
        "text": agreement.text,
        "signed_on": partnership.signed_on,
        "in_force_from": partnership.in_force_from,
        "review_on": agreement.review_on,
        "parties": agreement_parties(partnership, agreement),
        "named_parties": list(agreement.named_parties),
        "updated_at": agreement.updated_at,
    }
    if access.agreement_audience(actor, partnership) is not Audience.INSIDER:
        for key in AGREEMENT_MEMBERS_ONLY:
            data.pop(key)
    return data


@extend_schema(parameters=[PARTNERSHIP_PK])
class PartnershipAgreementView(ActorAPIView):
    """GET: the partnership's readers (per field); PUT: a confirmed member's officials and admins."""

    def _partnership(self, partnership_pk: str) -> Partnership:
        return get_object_or_404(access.partnership_visible_to(actor=self.actor), pk=partnership_pk)

    @extend_schema(
        summary="The partnership's agreement (the text for members only)",
        responses={200: AgreementSerializer, 404: OpenApiResponse(ErrorDetail, description="No agreement recorded.")},
    )
    def get(self, request: Request, partnership_pk: str) -> Response:
        data = agreement_data(self.actor, self._partnership(partnership_pk))
        if data is None:
            raise NotFound(_("No agreement is recorded for this partnership."))
        return Response(AgreementSerializer(data).data)

    @extend_schema(
        summary="Record or replace the agreement (confirmed members' officials and admins)",
        request=AgreementInputSerializer,
        responses={200: AgreementSerializer},
    )
    def put(self, request: Request, partnership_pk: str) -> Response:
        from exchange.partnerships.agreements import agreement_save

        partnership = self._partnership(partnership_pk)
        body = AgreementInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        agreement_save(actor=self.actor, partnership=partnership, **body.validated_data)
        return Response(AgreementSerializer(agreement_data(self.actor, partnership)).data)


class CommitteeMemberSerializer(serializers.ModelSerializer):
    organisation = serializers.UUIDField(
        source="organisation_id", help_text=_("One of the partnership's confirmed member governments.")
    )

    class Meta:
        model = CommitteeMember
        fields = ["id", "name", "organisation", "role", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"role": {"required": False}}


class CommitteeMeetingSerializer(serializers.ModelSerializer):
    minutes = serializers.UUIDField(
        source="minutes_id",
        required=False,
        allow_null=True,
        help_text=_("The id of a document of this partnership (upload it first under documents/)."),
    )
    minutes_url = serializers.SerializerMethodField()

    class Meta:
        model = CommitteeMeeting
        fields = ["id", "held_on", "title", "minutes", "minutes_url", "created_at"]
        read_only_fields = ["id", "created_at", "minutes_url"]
        extra_kwargs = {"title": {"required": False}}

    def get_minutes_url(self, meeting: CommitteeMeeting) -> str | None:
        if meeting.minutes_id is None:
            return None
        return reverse(
            "partnership-document-download",
            kwargs={"partnership_pk": str(meeting.partnership_id), "pk": str(meeting.minutes_id)},
        )


class _ListingIds(serializers.ListField):
    """Ids of the schemes a decision changes, those the reader may read (``visible_listings``)."""

    def get_attribute(self, instance: Any) -> list[Any]:
        return sorted(str(listing.pk) for listing in getattr(instance, "visible_listings", []))


class CommitteeDecisionSerializer(serializers.ModelSerializer):
    listings = _ListingIds(
        child=serializers.UUIDField(),
        required=False,
        max_length=MAX_GROUPED,
        help_text=_("Ids of the grouped schemes (listings) the decision changes."),
    )

    class Meta:
        model = CommitteeDecision
        fields = ["id", "decided_on", "text", "listings", "created_at"]
        read_only_fields = ["id", "created_at"]


def decision_listings(actor: Actor) -> Prefetch:
    return Prefetch(
        "listings", queryset=listing_visible_to(actor=actor).order_by("title", "id"), to_attr="visible_listings"
    )


class _CommitteeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ActorViewSet,
):
    """A committee's rows: members only (anyone else, a public reader included, gets a 404).

    Reads start from ``exchange.access.committee_*_visible_to``; writes go through
    ``exchange.partnerships.agreements``, whose services decide who may write.
    """

    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    visible: Any  # access.committee_*_visible_to

    def queryset_for(self, actor: Actor) -> QuerySet[Any]:
        partnership_pk = getattr(self, "kwargs", {}).get("partnership_pk")
        rows = type(self).visible(actor=actor)
        return rows.filter(partnership_id=partnership_pk) if partnership_pk else rows.none()

    def _partnership(self) -> Partnership:
        return get_object_or_404(access.partnership_member_of(actor=self.actor), pk=self.kwargs["partnership_pk"])

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._partnership()  # 404 for anyone but a member, rather than an empty list
        return super().list(request, *args, **kwargs)

    def _payload(self, partial: bool) -> dict[str, Any]:
        body = self.get_serializer(data=self.request.data, partial=partial)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        for key in ("organisation_id", "minutes_id"):
            if key in data:
                data[key.removesuffix("_id")] = data.pop(key)
        return data

    def _read(self, row: Any, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=row.pk)).data, status=code)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from exchange.partnerships.agreements import committee_row_delete

        committee_row_delete(actor=self.actor, row=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="The joint committee's members (partnership members only)"),
    retrieve=extend_schema(summary="One committee member"),
    create=extend_schema(summary="Seat an official on the committee (confirmed members' officials and admins)"),
    update=extend_schema(summary="Change a committee member"),
    partial_update=extend_schema(summary="Change a committee member"),
    destroy=extend_schema(summary="Remove a committee member"),
)
@extend_schema(parameters=[PARTNERSHIP_PK])
class CommitteeMemberViewSet(_CommitteeViewSet):
    serializer_class = CommitteeMemberSerializer
    visible = staticmethod(access.committee_members_visible_to)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from exchange.partnerships.agreements import committee_member_add

        row = committee_member_add(actor=self.actor, partnership=self._partnership(), **self._payload(False))
        return self._read(row, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from exchange.partnerships.agreements import committee_member_update

        row = self.get_object()
        data = self._payload(kwargs.get("partial", False))
        return self._read(committee_member_update(actor=self.actor, member=row, data=data))


@extend_schema_view(
    list=extend_schema(summary="The joint committee's meetings (partnership members only)"),
    retrieve=extend_schema(summary="One committee meeting"),
    create=extend_schema(summary="Record a meeting (confirmed members' officials and admins)"),
    update=extend_schema(summary="Change a meeting"),
    partial_update=extend_schema(summary="Change a meeting"),
    destroy=extend_schema(summary="Remove a meeting (its minutes stay among the documents)"),
)
@extend_schema(parameters=[PARTNERSHIP_PK])
class CommitteeMeetingViewSet(_CommitteeViewSet):
    serializer_class = CommitteeMeetingSerializer
    visible = staticmethod(access.committee_meetings_visible_to)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from exchange.partnerships.agreements import committee_meeting_add

        row = committee_meeting_add(actor=self.actor, partnership=self._partnership(), **self._payload(False))
        return self._read(row, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from exchange.partnerships.agreements import committee_meeting_update

        row = self.get_object()
        data = self._payload(kwargs.get("partial", False))
        return self._read(committee_meeting_update(actor=self.actor, meeting=row, data=data))


@extend_schema_view(
    list=extend_schema(summary="The joint committee's decisions (partnership members only)"),
    retrieve=extend_schema(summary="One committee decision"),
    create=extend_schema(summary="Record a decision (confirmed members' officials and admins)"),
    update=extend_schema(summary="Change a decision"),
    partial_update=extend_schema(summary="Change a decision"),
    destroy=extend_schema(summary="Remove a decision"),
)
@extend_schema(parameters=[PARTNERSHIP_PK])
class CommitteeDecisionViewSet(_CommitteeViewSet):
    serializer_class = CommitteeDecisionSerializer
    visible = staticmethod(access.committee_decisions_visible_to)

    def queryset_for(self, actor: Actor) -> QuerySet[Any]:
        # The schemes a decision changes, as far as the reader may read them.
        return super().queryset_for(actor).prefetch_related(decision_listings(actor))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from exchange.partnerships.agreements import committee_decision_add

        row = committee_decision_add(actor=self.actor, partnership=self._partnership(), **self._payload(False))
        return self._read(row, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from exchange.partnerships.agreements import committee_decision_update

        row = self.get_object()
        data = self._payload(kwargs.get("partial", False))
        return self._read(committee_decision_update(actor=self.actor, decision=row, data=data))
