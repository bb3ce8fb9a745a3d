"""Subscriptions API: saved searches and their channels, the in-app inbox, the delivery log.

Every lookup starts from the actor (``config.api.ActorViewSet``) and
``exchange.notifications.selectors``, which return only the acting organisation's
rows: another organisation's subscription, inbox item or delivery is a 404,
exactly like a missing one. Who may change what is decided by
``exchange.notifications.services``.

A webhook channel's signing ``secret`` appears only in the response of the request
that made it (creating the subscription, adding the channel with PATCH, or
rotate-secret); a feed channel's ``feed_url`` is its credential and is shown to
the owner every time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.tenancy import Actor
from config.api import ActorViewSet
from config.api_schema import ErrorDetail
from config.filters import StrictBooleanFilter
from exchange import access
from exchange.models import (
    Channel,
    ChannelState,
    ChannelType,
    Delivery,
    DeliveryStatus,
    Frequency,
    Notification,
    Subscription,
)
from exchange.notifications import selectors, services
from opportunities.models import Direction, SchemeType

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

CONFLICT = OpenApiResponse(response=ErrorDetail, description="The object's state does not allow this.")
DIRECTION_CHOICES = Direction.choices


# --- Serializers: reading -------------------------------------------------------------------------


class ChannelSerializer(serializers.ModelSerializer):
    """A channel as its owner reads it: never the webhook secret."""

    type = serializers.ChoiceField(choices=ChannelType.choices, read_only=True)
    state = serializers.ChoiceField(
        choices=ChannelState.choices,
        read_only=True,
        help_text=_("A webhook is paused after repeated failures and disabled when it answers 410 Gone."),
    )
    members = serializers.ListField(
        child=serializers.UUIDField(),
        read_only=True,
        help_text=_("E-mail: the members who receive it; empty means the organisation's administrators."),
    )
    url = serializers.CharField(read_only=True, help_text=_("Webhook: the receiving URL; empty otherwise."))
    feed_url = serializers.SerializerMethodField(
        help_text=_("Feed: the Atom feed's URL, which works without signing in: keep it secret. Null otherwise.")
    )

    class Meta:
        model = Channel
        fields = ["id", "type", "state", "members", "url", "feed_url", "consecutive_failures", "created_at"]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_feed_url(self, channel: Channel) -> str | None:
        return selectors.feed_url(channel)


class ChannelWithSecretSerializer(ChannelSerializer):
    """A channel in the response of the request that created it: a new webhook shows its secret once."""

    secret = serializers.SerializerMethodField(
        help_text=_(
            "Webhook channels made by this request: the signing secret (Standard Webhooks, whsec_…), "
            "shown only now. Null for every other channel."
        )
    )

    class Meta(ChannelSerializer.Meta):
        fields = [*ChannelSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True})
    def get_secret(self, channel: Channel) -> str | None:
        revealed = self.context.get("reveal_secrets", set())
        if channel.type == ChannelType.WEBHOOK and channel.pk in revealed:
            return channel.secret
        return None


class SubscriptionSerializer(serializers.ModelSerializer):
    direction = serializers.SerializerMethodField(help_text=_("demand, supply, or null for both."))
    scheme_types = serializers.ListField(child=serializers.ChoiceField(choices=SchemeType.choices), read_only=True)
    isco_prefixes = serializers.ListField(child=serializers.CharField(), read_only=True)
    sectors = serializers.ListField(child=serializers.CharField(), read_only=True)
    owner_countries = serializers.ListField(child=serializers.CharField(), read_only=True)
    frequency = serializers.ChoiceField(choices=Frequency.choices, read_only=True)
    channels = ChannelSerializer(many=True, read_only=True)

    class Meta:
        model = Subscription
        fields = [
            "id",
            "name",
            "direction",
            "scheme_types",
            "isco_prefixes",
            "sectors",
            "owner_countries",
            "open_to_my_country",
            "keywords",
            "frequency",
            "active",
            "channels",
            "created_at",
            "updated_at",
            "last_digest_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ChoiceField(choices=DIRECTION_CHOICES, allow_null=True, help_text=_("null: both directions."))
    )
    def get_direction(self, subscription: Subscription) -> str | None:
        return subscription.direction or None


class SubscriptionWithSecretsSerializer(SubscriptionSerializer):
    """The response of a create or change: webhook channels made by the request show their secret."""

    channels = ChannelWithSecretSerializer(many=True, read_only=True)


class ChannelSecretSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.CharField()
    secret = serializers.CharField(help_text=_("The new signing secret, shown only now."))
    previous_secret_expires_at = serializers.DateTimeField(
        help_text=_("Until then deliveries are signed with the previous secret as well.")
    )


class RotatedSecretsSerializer(serializers.Serializer):
    channels = ChannelSecretSerializer(many=True)


class NotificationSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="event.type", read_only=True, help_text=_("The event's type."))
    read = serializers.SerializerMethodField()
    data = serializers.JSONField(  # type: ignore[assignment]  # a field named data
        source="event.data", read_only=True, help_text=_("The event's data: ids, a title and a URL.")
    )

    class Meta:
        model = Notification
        fields = ["id", "type", "created_at", "read", "read_at", "data"]
        read_only_fields = fields

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class DeliverySerializer(serializers.ModelSerializer):
    subscription = serializers.UUIDField(source="subscription_id", read_only=True)
    channel = serializers.UUIDField(source="channel_id", read_only=True)
    channel_type = serializers.ChoiceField(source="channel.type", choices=ChannelType.choices, read_only=True)
    event = serializers.UUIDField(source="event_id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    status = serializers.ChoiceField(
        choices=DeliveryStatus.choices,
        read_only=True,
        help_text=_("pending, sent, failed (will retry), dead (retries spent), paused (with its channel), digest."),
    )

    class Meta:
        model = Delivery
        fields = [
            "id",
            "subscription",
            "channel",
            "channel_type",
            "event",
            "event_type",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


# --- Serializers: writing -------------------------------------------------------------------------


class ChannelInputSerializer(serializers.Serializer):
    """One channel. The service checks the combination (a webhook needs a url, and so on)."""

    type = serializers.ChoiceField(choices=ChannelType.choices)
    members = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=200,
        help_text=_("E-mail only: user ids of members of your organisation. Omitted or empty: its administrators."),
    )
    url = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text=_("Webhook only: an https:// (or http://) URL on a public address."),
    )


def _codes(help_text: StrOrPromise, max_length: int) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=max_length),
        required=False,
        max_length=services.MAX_FILTER_VALUES,
        help_text=help_text,
    )


class SubscriptionInputSerializer(serializers.Serializer):
    """The body of POST /subscriptions/ (PATCH: any subset). Every filter is optional; empty means any."""

    name = serializers.CharField(max_length=200)
    direction = serializers.ChoiceField(
        choices=DIRECTION_CHOICES, allow_null=True, required=False, help_text=_("null or omitted: both.")
    )
    scheme_types = serializers.ListField(
        child=serializers.ChoiceField(choices=SchemeType.choices),
        required=False,
        max_length=services.MAX_FILTER_VALUES,
    )
    isco_prefixes = _codes(_("ISCO-08 groups (1 to 4 digits): a listing matches if it has an occupation in one."), 4)
    sectors = _codes(_("ISIC Rev.4 sections (A) or divisions (01)."), 2)
    owner_countries = _codes(_("ISO 3166-1 alpha-2 codes of the posting governments."), 2)
    open_to_my_country = serializers.BooleanField(
        required=False, help_text=_("Only listings open to your organisation's country.")
    )
    keywords = serializers.CharField(required=False, allow_blank=True, max_length=500)
    frequency = serializers.ChoiceField(choices=Frequency.choices, required=False)
    active = serializers.BooleanField(required=False)
    channels = ChannelInputSerializer(
        many=True,
        help_text=_("At least one. In PATCH, replaces the set: a channel of the same type (and URL) is kept as it is."),
    )


def _input(request: Request, *, partial: bool) -> dict[str, Any]:
    body = SubscriptionInputSerializer(data=request.data, partial=partial)
    body.is_valid(raise_exception=True)
    data = dict(body.validated_data)
    if "channels" in data:
        data["channels"] = [dict(channel) for channel in data["channels"]]
    return data


# --- Filters --------------------------------------------------------------------------------------


class NotificationFilter(django_filters.FilterSet):
    unread = StrictBooleanFilter(method="filter_unread", help_text=_("true: only unread items; false: only read."))

    class Meta:
        model = Notification
        fields: list[str] = []

    def filter_unread(self, queryset: QuerySet[Notification], name: str, value: bool | None) -> QuerySet[Notification]:
        if value is None:
            return queryset
        return queryset.filter(read_at__isnull=value)


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    subscription = django_filters.UUIDFilter(field_name="subscription_id", help_text=_("A subscription's id."))
    channel_type = django_filters.ChoiceFilter(field_name="channel__type", choices=ChannelType.choices)

    class Meta:
        model = Delivery
        fields: list[str] = []


# --- Views ------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The acting organisation's subscriptions"),
    retrieve=extend_schema(summary="One subscription with its channels"),
)
class SubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ActorViewSet):
    serializer_class = SubscriptionSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def queryset_for(self, actor: Actor) -> QuerySet[Subscription]:
        return selectors.subscription_list(actor=actor)

    def _read(self, subscription: Subscription, *, known_channels: set[Any]) -> Any:
        """The subscription as saved; webhook channels not in ``known_channels`` show their secret."""
        fresh = self.get_queryset().get(pk=subscription.pk)
        reveal = {c.pk for c in fresh.channels.all() if c.type == ChannelType.WEBHOOK and c.pk not in known_channels}
        return SubscriptionWithSecretsSerializer(fresh, context={"reveal_secrets": reveal}).data

    @extend_schema(
        summary="Create a subscription (officials and admins); a webhook's secret is in this response only",
        request=SubscriptionInputSerializer,
        responses={201: SubscriptionWithSecretsSerializer},
    )
    def create(self, request: Request) -> Response:
        access.can_create_subscription(self.actor).check()  # who asks comes before what they sent
        data = _input(request, partial=False)
        subscription = services.subscription_create(actor=self.actor, **data)
        return Response(self._read(subscription, known_channels=set()), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a subscription; channels, if given, replace the set",
        description="A new webhook channel's secret is in this response only; kept channels show none.",
        request=SubscriptionInputSerializer,
        responses={200: SubscriptionWithSecretsSerializer},
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        subscription = self.get_object()
        services.require_manager(self.actor)
        before = {c.pk for c in subscription.channels.all()}
        data = _input(request, partial=True)
        subscription = services.subscription_update(actor=self.actor, subscription=subscription, data=data)
        return Response(self._read(subscription, known_channels=before))

    @extend_schema(summary="Delete a subscription, its channels and their delivery log", responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.subscription_delete(actor=self.actor, subscription=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Give the webhook channels new signing secrets; the old ones still sign for 24 hours",
        request=None,
        responses={200: RotatedSecretsSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        channels = services.subscription_rotate_secret(actor=self.actor, subscription=self.get_object())
        return Response(RotatedSecretsSerializer({"channels": channels}).data)

    @extend_schema(
        summary="Send a test event to every channel of the subscription",
        request=None,
        responses={
            202: inline_serializer(
                name="TestEventSent",
                fields={"event": serializers.UUIDField(help_text=_("The test event's id, as in the delivery log."))},
            ),
            409: CONFLICT,
        },
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        event = services.subscription_send_test(actor=self.actor, subscription=self.get_object())
        return Response({"event": str(event.pk)}, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(summary="The acting organisation's in-app inbox, newest first"),
    retrieve=extend_schema(summary="One inbox item"),
)
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ActorViewSet):
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter

    def queryset_for(self, actor: Actor) -> QuerySet[Notification]:
        return selectors.notification_list(actor=actor)

    @extend_schema(summary="Mark an inbox item read", request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"], filterset_class=None)
    def read(self, request: Request, pk: str | None = None) -> Response:
        notification = services.notification_mark_read(actor=self.actor, notification=self.get_object())
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        summary="Mark every inbox item read",
        request=None,
        responses={200: inline_serializer(name="NotificationsMarked", fields={"marked": serializers.IntegerField()})},
    )
    @action(detail=False, methods=["post"], url_path="read-all", filterset_class=None, pagination_class=None)
    def read_all(self, request: Request) -> Response:
        return Response({"marked": services.notification_mark_all_read(actor=self.actor)})

    @extend_schema(
        summary="How many inbox items are unread",
        responses={200: inline_serializer(name="UnreadCount", fields={"count": serializers.IntegerField()})},
    )
    @action(detail=False, methods=["get"], url_path="unread-count", filterset_class=None, pagination_class=None)
    def unread_count(self, request: Request) -> Response:
        return Response({"count": selectors.notification_unread_count(actor=self.actor)})


@extend_schema_view(
    list=extend_schema(summary="The acting organisation's delivery log, newest first"),
    retrieve=extend_schema(summary="One delivery"),
)
class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ActorViewSet):
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter

    def queryset_for(self, actor: Actor) -> QuerySet[Delivery]:
        return selectors.delivery_list(actor=actor)

    @extend_schema(
        summary="Send a failed, dead, paused or sent delivery again (officials and admins)",
        description="Resumes the channel if it was paused or disabled, and its other paused deliveries with it.",
        request=None,
        responses={202: DeliverySerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def replay(self, request: Request, pk: str | None = None) -> Response:
        delivery = services.delivery_replay_request(actor=self.actor, delivery=self.get_object())
        return Response(
            DeliverySerializer(self.get_queryset().get(pk=delivery.pk)).data, status=status.HTTP_202_ACCEPTED
        )
