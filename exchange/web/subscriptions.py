"""Alert pages: subscriptions (saved searches) and their channels, and the delivery log.

The pages do what ``exchange/api/subscriptions.py`` does, with the same pieces:
reads start from ``exchange.notifications.selectors`` (the acting
organisation's rows only, so another organisation's subscription or delivery is a
404); the form's payload goes through the API's ``SubscriptionInputSerializer`` and
then ``subscription_create`` / ``subscription_update``, whose errors are shown on
the fields they name, with nothing saved. Permissions are the services' own
(officials and admins manage; viewers read; anything else is a 403).

A webhook's signing secret is shown once, in the response to the request that made
it (creating the alert, adding the webhook, rotating the secret): it is never kept in
the session and no other page shows it. A feed's URL is its credential and is shown
to the owner on the detail page every time, as the API does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_countries import countries

from accounts.selectors import member_list
from accounts.tenancy import Actor
from config.errors import StateConflict
from config.forms import sector_options
from config.web import actor_required, confirm_page, csv_response, flatten_errors, paginate
from exchange import access
from exchange.api.subscriptions import SubscriptionInputSerializer
from exchange.models import (
    Channel,
    ChannelState,
    ChannelType,
    Delivery,
    DeliveryStatus,
    Subscription,
)
from exchange.notifications import selectors, services
from exchange.web.alert_forms import (
    OCCUPATIONS,
    SECTORS,
    DeliveryFilterForm,
    SubscriptionForm,
    changing_rows,
    code_formset,
    initial_of,
    quiet,
    rows_after_button,
)
from exchange.web.inbox import event_label, subject_title
from opportunities.models import Direction, Occupation, SchemeType

# Delivery states as the log's tags show them: a failed delivery is one that will be retried.
STATE_TAGS: dict[str, str] = {
    DeliveryStatus.PENDING: "pending",
    DeliveryStatus.SENT: "delivered",
    DeliveryStatus.FAILED: "retrying",
    DeliveryStatus.DEAD: "dead",
    DeliveryStatus.PAUSED: "paused",
    DeliveryStatus.DIGEST: "pending",
}
REPLAY_OFFERED = (DeliveryStatus.FAILED, DeliveryStatus.DEAD, DeliveryStatus.PAUSED)


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


# --- Describing a subscription in words ------------------------------------------------------


def occupation_titles(subscriptions: Iterable[Subscription]) -> dict[str, str]:
    """ISCO titles (in the active language) of every code the subscriptions name: one query."""
    codes = {code for subscription in subscriptions for code in subscription.isco_prefixes}
    if not codes:
        return {}
    return {occupation.code: occupation.title for occupation in Occupation.objects.filter(code__in=codes)}


def describe_filters(subscription: Subscription, titles: dict[str, str]) -> list[tuple[str, str]]:
    """``[(what, value)]`` in words: "Occupations" → "2221 — Nursing professionals", and so on."""
    lines: list[tuple[str, str]] = []
    directions = dict(Direction.choices)
    lines.append(
        (
            _("Listings"),
            str(directions[subscription.direction]) if subscription.direction in directions else _("Both directions"),
        )
    )
    schemes = dict(SchemeType.choices)
    if subscription.scheme_types:
        lines.append((_("Scheme types"), ", ".join(str(schemes.get(c, c)) for c in subscription.scheme_types)))
    if subscription.isco_prefixes:
        lines.append(
            (
                _("Occupations"),
                "; ".join(f"{c} — {titles[c]}" if c in titles else c for c in subscription.isco_prefixes),
            )
        )
    if subscription.sectors:
        sectors = dict(sector_options())
        lines.append((_("Sectors"), "; ".join(sectors.get(c, c) for c in subscription.sectors)))
    if subscription.owner_countries:
        names = ", ".join(str(countries.name(c) or c) for c in subscription.owner_countries)
        lines.append((_("Published by"), names))
    if subscription.open_to_my_country:
        lines.append((_("Open to"), _("People from my country")))
    if subscription.keywords:
        lines.append((_("Keywords"), subscription.keywords))
    if len(lines) == 1 and not subscription.direction:
        lines = [(_("Listings"), _("Every listing you may see"))]
    return lines


def channel_problem(channel: Channel) -> str:
    """Why a channel is not delivering, in words; empty if it is."""
    if channel.state == ChannelState.DISABLED:
        return _("Disabled: the receiver answered 410 Gone. Replay a delivery to turn it on again.")
    if channel.state == ChannelState.PAUSED:
        return _("Paused after %(n)d failures in a row. Fix the endpoint, then replay a delivery to resume.") % {
            "n": channel.consecutive_failures
        }
    if channel.type == ChannelType.WEBHOOK and channel.consecutive_failures:
        return _("Failing: %(n)d failed attempts in a row.") % {"n": channel.consecutive_failures}
    return ""


def _decorate_channels(subscription: Subscription) -> list[Channel]:
    channels = list(subscription.channels.all())
    for channel in channels:
        channel.problem = channel_problem(channel)  # type: ignore[attr-defined]
        channel.state_tag = channel.state if channel.state != ChannelState.ACTIVE else "active"  # type: ignore[attr-defined]
    return channels


def _delivery_state(status: str | None) -> dict[str, str] | None:
    if not status:
        return None
    return {"tag": STATE_TAGS.get(status, status), "label": str(DeliveryStatus(status).label)}


# --- The list -----------------------------------------------------------------------------------


@actor_required
@require_GET
def subscription_list_view(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    page = paginate(request, selectors.subscriptions_with_last_delivery(selectors.subscription_list(actor=actor)))
    subscriptions = list(page.object_list)
    titles = occupation_titles(subscriptions)
    for subscription in subscriptions:
        subscription.filters = describe_filters(subscription, titles)
        subscription.channel_list = _decorate_channels(subscription)
        subscription.failing = [c for c in subscription.channel_list if c.problem]
        subscription.last_state = _delivery_state(subscription.last_status)
    return render(
        request,
        "exchange/subscriptions/list.html",
        {
            "page": page,
            "subscriptions": subscriptions,
            "can_manage": bool(access.can_manage_subscriptions(actor)),
            "can_create": bool(access.can_create_subscription(actor)),
        },
    )


@actor_required
@require_GET
def subscription_export_view(request: HttpRequest) -> HttpResponseBase:
    actor = _actor(request)
    subscriptions = list(selectors.subscriptions_with_last_delivery(selectors.subscription_list(actor=actor)))
    titles = occupation_titles(subscriptions)
    header = [
        _("id"),
        _("name"),
        _("active"),
        _("filters"),
        _("channels"),
        _("failing channels"),
        _("frequency"),
        _("last delivery state"),
        _("last delivery"),
        _("created"),
    ]

    def rows() -> Iterator[Sequence[Any]]:
        for subscription in subscriptions:
            channels = _decorate_channels(subscription)
            yield [
                subscription.pk,
                subscription.name,
                _("yes") if subscription.active else _("no"),
                "; ".join(f"{what}: {value}" for what, value in describe_filters(subscription, titles)),
                ", ".join(str(c.get_type_display()) for c in channels),
                ", ".join(str(c.get_type_display()) for c in channels if c.problem),  # type: ignore[attr-defined]
                subscription.get_frequency_display(),
                subscription.last_status or "",  # type: ignore[attr-defined]
                subscription.last_delivery_at.isoformat() if subscription.last_delivery_at else "",  # type: ignore[attr-defined]
                subscription.created_at.isoformat(),
            ]

    return csv_response("corridor-alerts.csv", header, rows())


# --- One subscription ----------------------------------------------------------------------------


def _subscription(actor: Actor, pk: uuid.UUID) -> Subscription:
    return get_object_or_404(selectors.subscription_list(actor=actor), pk=pk)


def _member_names(actor: Actor) -> dict[str, str]:
    return {str(m.user_id): m.user.full_name or m.user.email for m in member_list(actor=actor)}


@actor_required
@require_GET
def subscription_detail_view(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    actor = _actor(request)
    subscription = _subscription(actor, pk)
    channels = _decorate_channels(subscription)
    names = _member_names(actor) if any(c.type == ChannelType.EMAIL for c in channels) else {}
    last_errors = {
        row["channel_id"]: row
        for row in selectors.delivery_list(actor=actor)
        .filter(subscription=subscription)
        .exclude(last_error="", last_status_code__isnull=True)
        .exclude(status=DeliveryStatus.SENT)
        .order_by("channel_id", "-created_at")
        .distinct("channel_id")
        .values("channel_id", "last_error", "last_status_code", "created_at")
    }
    for channel in channels:
        channel.recipients = [names.get(str(pk), str(pk)) for pk in channel.members]  # type: ignore[attr-defined]
        channel.feed = selectors.feed_url(channel)  # type: ignore[attr-defined]
        channel.last_failure = last_errors.get(channel.pk) if channel.problem else None  # type: ignore[attr-defined]
    latest = selectors.subscriptions_with_last_delivery(Subscription.objects.filter(pk=subscription.pk)).values(  # type: ignore[misc]  # last_status is annotated
        "last_status", "last_delivery_at"
    )[0]
    return render(
        request,
        "exchange/subscriptions/detail.html",
        {
            "subscription": subscription,
            "filters": describe_filters(subscription, occupation_titles([subscription])),
            "channels": channels,
            "has_webhook": any(c.type == ChannelType.WEBHOOK for c in channels),
            "last_state": _delivery_state(latest["last_status"]),
            "last_delivery_at": latest["last_delivery_at"],
            "can_manage": bool(access.can_manage_subscriptions(actor)),
        },
    )


# --- Creating and changing --------------------------------------------------------------------------


def _form_page(
    request: HttpRequest,
    *,
    form: SubscriptionForm,
    occupations: Any,
    sectors: Any,
    subscription: Subscription | None = None,
    extra_webhooks: Sequence[str] = (),
    status: int = 200,
) -> HttpResponse:
    summary = []
    for prefix, formset, label in (
        (OCCUPATIONS, occupations, _("Occupations")),
        (SECTORS, sectors, _("Sectors")),
    ):
        first_id = f"id_{prefix}-0-code" if formset.forms else None
        for message in form.group_errors.get(prefix, []):
            summary.append((first_id, label, message))
        for index, row in enumerate(formset.forms):
            for message in row.errors.get("code", []) if row.is_bound else []:
                summary.append((f"id_{prefix}-{index}-code", label, message))
    for message in form.group_errors.get("channels", []):
        summary.append(("id_channel_inbox", _("Channels"), message))
    return render(
        request,
        "exchange/subscriptions/form.html",
        {
            "form": form,
            "occupations": occupations,
            "sectors": sectors,
            "subscription": subscription,
            "extra_webhooks": extra_webhooks,
            "summary_errors": summary,
        },
        status=status,
    )


def _members(actor: Actor) -> list[Any]:
    return list(member_list(actor=actor))


def _bind(request: HttpRequest, actor: Actor) -> tuple[SubscriptionForm, Any, Any, bool]:
    """The bound form and formsets; ``changing`` if the user only added or removed a row."""
    form = SubscriptionForm(request.POST, members=_members(actor), has_country=bool(actor.country))
    if changing_rows(request.POST):
        formsets = []
        for prefix in (OCCUPATIONS, SECTORS):
            rows = rows_after_button(request.POST, prefix)
            if rows is None:
                formsets.append(code_formset(prefix, data=request.POST))
                for row in formsets[-1].forms:
                    quiet(row)
            else:
                formsets.append(code_formset(prefix, codes=rows, blank=not rows))
        return quiet(form), formsets[0], formsets[1], True
    return form, code_formset(OCCUPATIONS, data=request.POST), code_formset(SECTORS, data=request.POST), False


def _validate(
    actor: Actor, form: SubscriptionForm, occupations: Any, sectors: Any, *, extra_webhooks: Sequence[str] = ()
) -> Any:
    """The API's request body and each channel's field, or None (the errors are on the form)."""
    valid = form.is_valid()
    valid = occupations.is_valid() and valid
    valid = sectors.is_valid() and valid
    for prefix, formset in ((OCCUPATIONS, occupations), (SECTORS, sectors)):
        for message in formset.non_form_errors():
            form.group_errors.setdefault(prefix, []).append(message)
    if not valid:
        # Say what is wrong with the channels too, in the same round (the service's own check).
        body, blame = form.payload(occupations=[], sectors=[], extra_webhooks=extra_webhooks)
        try:
            services._clean_channels(actor=actor, value=body["channels"])
        except ValidationError as exc:
            form.add_service_errors(_service_errors(exc), blame=blame)
        return None, []
    body, blame = form.payload(occupations=occupations.codes(), sectors=sectors.codes(), extra_webhooks=extra_webhooks)
    serializer = SubscriptionInputSerializer(data=body)
    if not serializer.is_valid():
        form.add_external_errors(flatten_errors(serializer.errors), blame=blame)
        return None, blame
    data = dict(serializer.validated_data)
    data["channels"] = [dict(channel) for channel in data["channels"]]
    return data, blame


def _service_errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {key: [str(m) for m in ValidationError(errs).messages] for key, errs in exc.error_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def _secrets_page(
    request: HttpRequest, subscription: Subscription, channels: Sequence[Channel], *, rotated: bool
) -> HttpResponse:
    """The one response that shows webhook secrets (never cached, never stored for later)."""
    return render(
        request,
        "exchange/subscriptions/secret.html",
        {"subscription": subscription, "channels": list(channels), "rotated": rotated},
    )


@actor_required
@never_cache
@require_http_methods(["GET", "POST"])
def subscription_create_view(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    access.can_create_subscription(actor).check()
    if request.method == "GET":
        form = SubscriptionForm(
            members=_members(actor),
            has_country=bool(actor.country),
            initial={"channel_inbox": True, "frequency": "instant", "active": True},
        )
        return _form_page(request, form=form, occupations=code_formset(OCCUPATIONS), sectors=code_formset(SECTORS))
    form, occupations, sectors, changing = _bind(request, actor)
    if changing:
        return _form_page(request, form=form, occupations=occupations, sectors=sectors)
    data, blame = _validate(actor, form, occupations, sectors)
    if data is not None:
        try:
            subscription = services.subscription_create(actor=actor, **data)
        except ValidationError as exc:
            form.add_service_errors(_service_errors(exc), blame=blame)
        else:
            webhooks = list(subscription.channels.filter(type=ChannelType.WEBHOOK).order_by("created_at", "id"))
            messages.success(request, _("The alert “%(name)s” was created.") % {"name": subscription.name})
            if webhooks:
                return _secrets_page(request, subscription, webhooks, rotated=False)
            return redirect("exchange:subscription", pk=subscription.pk)
    return _form_page(request, form=form, occupations=occupations, sectors=sectors, status=400)


@actor_required
@never_cache
@require_http_methods(["GET", "POST"])
def subscription_edit_view(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    actor = _actor(request)
    subscription = _subscription(actor, pk)
    services.require_manager(actor)
    channels = list(subscription.channels.all())
    webhook_urls = [c.url for c in channels if c.type == ChannelType.WEBHOOK]
    # Endpoints beyond the first (added through the API) are kept as they are.
    extra_webhooks = webhook_urls[1:]
    context: dict[str, Any] = {"subscription": subscription, "extra_webhooks": extra_webhooks}
    if request.method == "GET":
        form = SubscriptionForm(
            members=_members(actor), has_country=bool(actor.country), initial=initial_of(subscription, channels)
        )
        occupations = code_formset(OCCUPATIONS, codes=subscription.isco_prefixes)
        sectors = code_formset(SECTORS, codes=subscription.sectors)
        return _form_page(request, form=form, occupations=occupations, sectors=sectors, **context)
    form, occupations, sectors, changing = _bind(request, actor)
    if changing:
        return _form_page(request, form=form, occupations=occupations, sectors=sectors, **context)
    data, blame = _validate(actor, form, occupations, sectors, extra_webhooks=extra_webhooks)
    if data is not None:
        before = {c.pk for c in channels}
        try:
            subscription = services.subscription_update(actor=actor, subscription=subscription, data=data)
        except ValidationError as exc:
            form.add_service_errors(_service_errors(exc), blame=blame)
        else:
            added = list(
                subscription.channels.filter(type=ChannelType.WEBHOOK)
                .exclude(pk__in=before)
                .order_by("created_at", "id")
            )
            messages.success(request, _("The alert “%(name)s” was saved.") % {"name": subscription.name})
            if added:
                return _secrets_page(request, subscription, added, rotated=False)
            return redirect("exchange:subscription", pk=subscription.pk)
    # The service changed nothing (it rolled back); show the subscription as it is stored.
    subscription.refresh_from_db()
    return _form_page(request, form=form, occupations=occupations, sectors=sectors, status=400, **context)


# --- Actions: test, rotate, delete -----------------------------------------------------------------


@actor_required
@require_POST
def subscription_test_view(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    actor = _actor(request)
    subscription = _subscription(actor, pk)
    try:
        services.subscription_send_test(actor=actor, subscription=subscription)
    except StateConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("A test event is on its way to every channel of this alert. Follow it in the delivery log."),
        )
    return redirect("exchange:subscription", pk=subscription.pk)


@actor_required
@never_cache
@require_http_methods(["GET", "POST"])
def subscription_rotate_view(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    actor = _actor(request)
    subscription = _subscription(actor, pk)
    services.require_manager(actor)
    if request.method == "POST":
        try:
            channels = services.subscription_rotate_secret(actor=actor, subscription=subscription)
        except ValidationError as exc:
            for message_list in _service_errors(exc).values():
                for message in message_list:
                    messages.error(request, message)
            return redirect("exchange:subscription", pk=subscription.pk)
        messages.success(request, _("The webhook secret was replaced."))
        return _secrets_page(request, subscription, channels, rotated=True)
    return confirm_page(
        request,
        title=_("Rotate the webhook secret"),
        question=_("Give the webhooks of “%(name)s” a new signing secret?") % {"name": subscription.name},
        explanation=_(
            "The new secret is shown once, on the next page. For 24 hours every delivery is signed with "
            "both the old and the new secret, so you have time to update your receiver."
        ),
        action_url=reverse("exchange:subscription_rotate", kwargs={"pk": subscription.pk}),
        button=_("Rotate the webhook secret"),
        cancel_url=reverse("exchange:subscription", kwargs={"pk": subscription.pk}),
        warning=False,
    )


@actor_required
@require_http_methods(["GET", "POST"])
def subscription_delete_view(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    actor = _actor(request)
    subscription = _subscription(actor, pk)
    services.require_manager(actor)
    if request.method == "POST":
        name = subscription.name
        services.subscription_delete(actor=actor, subscription=subscription)
        messages.success(request, _("The alert “%(name)s” was deleted.") % {"name": name})
        return redirect("exchange:subscriptions")
    return confirm_page(
        request,
        title=_("Delete the alert"),
        question=_("Delete the alert “%(name)s”?") % {"name": subscription.name},
        explanation=_(
            "Its channels stop at once and its delivery log is deleted with it. This cannot be undone; "
            "to stop it for a while instead, edit it and untick “Active”."
        ),
        action_url=reverse("exchange:subscription_delete", kwargs={"pk": subscription.pk}),
        button=_("Delete the alert"),
        cancel_url=reverse("exchange:subscription", kwargs={"pk": subscription.pk}),
        warning=True,
    )


# --- The delivery log ------------------------------------------------------------------------------


def _deliveries(request: HttpRequest, actor: Actor) -> tuple[DeliveryFilterForm, QuerySet[Delivery]]:
    subscriptions = selectors.subscription_list(actor=actor).only("id", "name").prefetch_related(None)
    form = DeliveryFilterForm(request.GET or None, subscriptions=subscriptions)
    deliveries = selectors.delivery_list(actor=actor).select_related("subscription").filter(**form.filters())
    return form, deliveries


def _decorate_delivery(delivery: Delivery) -> Delivery:
    delivery.event_label = event_label(delivery.event.type)  # type: ignore[attr-defined]
    delivery.subject = subject_title(delivery.event)  # type: ignore[attr-defined]
    delivery.state = _delivery_state(delivery.status)  # type: ignore[attr-defined]
    delivery.replayable = delivery.status in REPLAY_OFFERED  # type: ignore[attr-defined]
    return delivery


@actor_required
@require_GET
def delivery_list_view(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form, deliveries = _deliveries(request, actor)
    page = paginate(request, deliveries)
    for delivery in page.object_list:
        _decorate_delivery(delivery)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "exchange/subscriptions/deliveries.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "filtered": bool(query),
            "can_manage": bool(access.can_manage_subscriptions(actor)),
            "here": request.get_full_path(),
        },
    )


@actor_required
@require_GET
def delivery_export_view(request: HttpRequest) -> HttpResponseBase:
    actor = _actor(request)
    _form, deliveries = _deliveries(request, actor)
    header = [
        _("id"),
        _("created"),
        _("alert"),
        _("event type"),
        _("subject"),
        _("channel"),
        _("state"),
        _("attempts"),
        _("last HTTP status"),
        _("last error"),
        _("next attempt"),
        _("sent"),
    ]

    def rows() -> Iterator[Sequence[Any]]:
        for delivery in deliveries.iterator(chunk_size=500):
            yield [
                delivery.pk,
                delivery.created_at.isoformat(),
                delivery.subscription.name,
                delivery.event.type,
                subject_title(delivery.event),
                delivery.channel.type,
                delivery.status,
                delivery.attempts,
                delivery.last_status_code or "",
                delivery.last_error,
                delivery.next_attempt_at.isoformat()
                if delivery.next_attempt_at and delivery.status == DeliveryStatus.FAILED
                else "",
                delivery.sent_at.isoformat() if delivery.sent_at else "",
            ]

    return csv_response("corridor-deliveries.csv", header, rows())


@actor_required
@require_POST
def delivery_replay_view(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    actor = _actor(request)
    delivery = get_object_or_404(selectors.delivery_list(actor=actor), pk=pk)
    try:
        services.delivery_replay_request(actor=actor, delivery=delivery)
    except StateConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The delivery will be sent again now."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = reverse("exchange:deliveries")
    return redirect(target)
