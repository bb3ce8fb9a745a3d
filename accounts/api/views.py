"""Accounts API: /me, organisations, members, invitations, tokens, audit log.

Every view starts from the actor (config.api). Private collections live under the
acting organisation: ``/organisations/{id}/members/`` for any other organisation
is a 404, exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import access, offboarding, selectors, services, verification
from accounts.api import serializers as s
from accounts.models import AuditEvent, Organisation, VerificationAction, VerificationStatus
from accounts.privacy import personal_data_exported
from accounts.tenancy import Actor
from config.api import ActorAPIView, ActorViewSet
from config.api_schema import ErrorDetail
from config.filters import StrictBooleanFilter


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise exceptions.PermissionDenied(
            _("Only an administrator of %(org)s may do this.") % {"org": actor.organisation}
        )


class MeView(ActorAPIView):
    """The signed-in user, their memberships and the organisation they act for."""

    requires_organisation = False

    def _payload(self) -> dict[str, Any]:
        assert self.actor.user is not None  # the API's authentication let a user through
        memberships = selectors.memberships_of_user(user=self.actor.user)
        return {
            "user": self.actor.user,
            "memberships": [{"organisation": m.organisation, "role": m.role} for m in memberships],
            "current_organisation": self.actor.organisation,
            "role": self.actor.role,
        }

    @extend_schema(responses=s.MeSerializer, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        return Response(s.MeSerializer(self._payload()).data)

    @extend_schema(request=s.MeUserSerializer, responses=s.MeSerializer, operation_id="me_partial_update")
    def patch(self, request: Request) -> Response:
        serializer = s.MeUserSerializer(self.actor.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        assert self.actor.user is not None
        services.profile_update(user=self.actor.user, **serializer.validated_data)
        return Response(s.MeSerializer(self._payload()).data)


ID_PARAMETER = OpenApiParameter("id", str, OpenApiParameter.PATH, description="Public id (UUID) or slug.")


class MeDataView(ActorAPIView):
    """The signed-in person's own data (GDPR arts. 15 and 20): the profile page's JSON download."""

    requires_organisation = False

    @extend_schema(
        summary="Download everything kept about me (JSON)",
        description=(
            "The caller's own personal data: profile, memberships, API tokens (never secrets or "
            "hashes), sessions, two-factor devices and sign-ins (metadata only), the audit rows "
            "where they are the actor, the listings, subscriptions, partnerships, messages, "
            "transitions, revisions and outcome entries they created or wrote, and the e-mails "
            "and invitations addressed to them. Nothing about anyone else. Recorded in the "
            "audit log. See docs/api.md for the shape."
        ),
        responses={200: OpenApiTypes.OBJECT},
        operation_id="me_data_retrieve",
    )
    def get(self, request: Request) -> Response:
        user = self.actor.user
        assert user is not None  # the API's authentication let a user through
        access.can_export_personal_data(requested_by=user, subject=user).check()
        return Response(personal_data_exported(user=user))


class OrganisationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=[("government", "government"), ("agency", "agency")])
    country = django_filters.CharFilter(method="filter_country")
    is_origin = StrictBooleanFilter()
    is_destination = StrictBooleanFilter()
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")
    verification_status = django_filters.ChoiceFilter(choices=VerificationStatus.choices)

    class Meta:
        model = Organisation
        fields = ["kind", "country", "is_origin", "is_destination", "q", "verification_status"]

    def filter_country(self, queryset: QuerySet[Organisation], name: str, value: str) -> QuerySet[Organisation]:
        return queryset.filter(country=value.upper())


@extend_schema_view(
    list=extend_schema(summary="Active organisations (public fields)"),
    retrieve=extend_schema(
        summary="One organisation: public fields, plus members and settings for its own members",
        responses=s.OrganisationDetailSerializer,
        parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH, description="Public id (UUID) or slug.")],
    ),
    partial_update=extend_schema(
        summary="Change the acting organisation's settings (admins)",
        request=s.OrganisationUpdateSerializer,
        responses=s.OrganisationPrivateSerializer,
        parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH, description="Public id (UUID) or slug.")],
    ),
)
class OrganisationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ActorViewSet):
    serializer_class = s.OrganisationSerializer
    filterset_class = OrganisationFilter
    lookup_value_regex = "[^/]+"

    def queryset_for(self, actor: Actor) -> QuerySet[Organisation]:
        return selectors.organisation_list(actor=actor).select_related("focal_point")

    def get_object(self) -> Organisation:
        org = self.get_queryset().identified_by(self.kwargs["pk"]).first()  # type: ignore[attr-defined]  # OrganisationQuerySet
        if org is None:
            raise Http404
        return org

    def _private(self, org: Organisation) -> dict[str, Any]:
        members = list(selectors.member_list(actor=self.actor))
        pending = sum(1 for i in selectors.invitation_list(actor=self.actor) if i.status == "pending")
        context = {**self.get_serializer_context(), "members": members, "pending_invitations": pending}
        return s.OrganisationPrivateSerializer(org, context=context).data

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "actor": self.actor}

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        org = self.get_object()
        if org.pk == getattr(self.actor.organisation, "pk", None):
            return Response(self._private(org))
        return Response(s.OrganisationSerializer(org, context=self.get_serializer_context()).data)

    def _review(self, request: Request, action: str, body: type[serializers.Serializer]) -> Response:
        """One verification decision: 404 for an organisation the caller cannot see, 403 unless an
        agency moderator, 400 naming the field, 409 naming the state (accounts.verification)."""
        org = self.get_object()
        access.can_change_standing(self.actor, org).check()  # who asks comes before what they sent
        data = body(data=request.data)
        data.is_valid(raise_exception=True)
        org = verification.organisation_review(
            actor=self.actor, organisation=org, action=action, reason=data.validated_data.get("reason", "")
        )
        return Response(s.OrganisationSerializer(org, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Verify a pending organisation (agency moderators)",
        request=s.OrganisationReviewSerializer,
        responses=s.OrganisationSerializer,
        parameters=[ID_PARAMETER],
    )
    @action(detail=True, methods=["post"], url_path="verify")
    def verify(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._review(request, VerificationAction.VERIFY, s.OrganisationReviewSerializer)

    @extend_schema(
        summary="Suspend an organisation, with a reason its members see (agency moderators)",
        request=s.OrganisationSuspendSerializer,
        responses=s.OrganisationSerializer,
        parameters=[ID_PARAMETER],
    )
    @action(detail=True, methods=["post"], url_path="suspend")
    def suspend(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._review(request, VerificationAction.SUSPEND, s.OrganisationSuspendSerializer)

    @extend_schema(
        summary="Reinstate a suspended organisation (agency moderators)",
        request=s.OrganisationReviewSerializer,
        responses=s.OrganisationSerializer,
        parameters=[ID_PARAMETER],
    )
    @action(detail=True, methods=["post"], url_path="reinstate")
    def reinstate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._review(request, VerificationAction.REINSTATE, s.OrganisationReviewSerializer)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        org = self.get_object()
        if org.pk != self.actor.org.pk:
            raise Http404  # another tenant's settings are not ours to see, let alone change
        require_admin(self.actor)
        serializer = s.OrganisationUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "focal_point" in data:
            member = next(
                (m.user for m in selectors.member_list(actor=self.actor) if m.user_id == data["focal_point"]), None
            )
            if member is None:
                raise exceptions.ValidationError(
                    {"focal_point": [_("The focal point must be a member of the organisation.")]}
                )
            data["focal_point"] = member
        services.organisation_update(organisation=org, actor=self.actor, **data)
        return Response(self._private(org))


class _OwnOrganisationMixin:
    """Nested under /organisations/{organisation_id}/: only the acting organisation."""

    actor: Actor
    kwargs: dict[str, Any]

    def check_organisation(self) -> None:
        key = str(self.kwargs["organisation_id"])
        org = self.actor.organisation
        if org is None or key not in (str(org.pk), org.slug):
            raise Http404


@extend_schema_view(
    list=extend_schema(summary="Members of the acting organisation"),
    partial_update=extend_schema(summary="Change a member's role (admins)", request=s.MembershipUpdateSerializer),
    destroy=extend_schema(
        summary="Remove a member (admins): what they own moves to `transfer_to`; their tokens and sessions end",
        description=(
            "Offboarding (docs/governance.md). Everything the member owns in this organisation (listings they "
            "are the contact for or responsible for, subscriptions and e-mail alerts, partnerships they lead, "
            "migration profiles, the focal point) moves to the member named by `transfer_to`; their API tokens "
            "for the organisation are revoked and every session of theirs ends. Removed from their last "
            "organisation, the account is deactivated. 400 names `transfer_to` when they own something and no "
            "valid member is named; 409 for the last administrator."
        ),
        parameters=[
            OpenApiParameter(
                "transfer_to",
                OpenApiTypes.UUID,
                OpenApiParameter.QUERY,
                required=False,
                description="The user id of the member who takes over what the departing member owns: another "
                "active official or administrator of the organisation. Needed only if they own something.",
            )
        ],
        responses={
            200: s.OffboardingResultSerializer,
            409: OpenApiResponse(response=ErrorDetail, description="The organisation's last administrator."),
        },
    ),
)
@extend_schema(parameters=[OpenApiParameter("organisation_id", str, OpenApiParameter.PATH)])
class MemberViewSet(_OwnOrganisationMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ActorViewSet):
    serializer_class = s.MembershipSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def queryset_for(self, actor: Actor) -> QuerySet[Any]:
        return selectors.member_list(actor=actor)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.check_organisation()

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        require_admin(self.actor)
        data = s.MembershipUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_change_role(
            membership=membership, role=data.validated_data["role"], actor=self.actor
        )
        return Response(s.MembershipSerializer(membership).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        access.can_offboard(self.actor, membership).check()  # 403, or 409 for the last administrator
        transfer_to = offboarding.transfer_target_from(request.query_params.get("transfer_to"))
        result = offboarding.member_offboard(actor=self.actor, membership=membership, transfer_to=transfer_to)
        return Response(s.OffboardingResultSerializer(result.as_dict()).data)


@extend_schema_view(
    list=extend_schema(summary="Invitations of the acting organisation (admins)"),
    create=extend_schema(
        summary="Invite someone by e-mail (admins); the single-use link is e-mailed",
        request=s.InvitationCreateSerializer,
        responses={201: s.InvitationSerializer},
    ),
    destroy=extend_schema(summary="Revoke a pending invitation (admins)"),
)
@extend_schema(parameters=[OpenApiParameter("organisation_id", str, OpenApiParameter.PATH)])
class InvitationViewSet(
    _OwnOrganisationMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ActorViewSet
):
    serializer_class = s.InvitationSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]

    def queryset_for(self, actor: Actor) -> QuerySet[Any]:
        return selectors.invitation_list(actor=actor)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.check_organisation()
        require_admin(self.actor)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, _secret = services.invitation_create(actor=self.actor, **data.validated_data)
        return Response(s.InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.invitation_revoke(invitation=self.get_object(), actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="My API tokens for the acting organisation (secrets are never shown again)"),
    create=extend_schema(
        summary="Create a token; the secret is in this response only",
        request=s.ApiTokenCreateSerializer,
        responses={201: s.ApiTokenCreatedSerializer},
    ),
    destroy=extend_schema(summary="Revoke a token"),
)
class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ActorViewSet):
    serializer_class = s.ApiTokenSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]

    def queryset_for(self, actor: Actor) -> QuerySet[Any]:
        return selectors.token_list(actor=actor).select_related("organisation")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.ApiTokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assert self.actor.user is not None and self.actor.organisation is not None
        token, secret = services.token_issue(
            user=self.actor.user,
            organisation=self.actor.organisation,
            name=data.validated_data["name"],
            actor=self.actor,
        )
        payload = s.ApiTokenSerializer(token).data
        payload["token"] = secret
        return Response(payload, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.token_revoke(token=self.get_object(), actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditFilter(django_filters.FilterSet):
    action = django_filters.CharFilter()
    object_type = django_filters.CharFilter()
    object_id = django_filters.CharFilter()
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = AuditEvent
        fields = ["action", "object_type", "object_id", "since"]


@extend_schema_view(list=extend_schema(summary="The acting organisation's audit log (admins)"))
class AuditEventViewSet(mixins.ListModelMixin, ActorViewSet):
    serializer_class = s.AuditEventSerializer
    filterset_class = AuditFilter

    def queryset_for(self, actor: Actor) -> QuerySet[Any]:
        return selectors.audit_list(actor=actor)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        require_admin(self.actor)

    @extend_schema(
        summary="Distinct actions recorded, for filter pickers",
        responses={200: {"type": "array", "items": {"type": "string"}}},
        filters=False,
    )
    @action(detail=False, methods=["get"], url_path="actions", filterset_class=None, pagination_class=None)
    def actions(self, request: Request) -> Response:
        return Response(sorted(set(self.get_queryset().values_list("action", flat=True).distinct())))
