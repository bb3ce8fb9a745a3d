"""The in-app inbox: the organisation's notifications, newest first, marked read one by one or all at once.

Reads go through ``exchange.notifications.selectors.notification_list`` (the
acting organisation's items only: another organisation's item is a 404), writes
through ``exchange.notifications.services.notification_mark_read`` /
``notification_mark_all_read``. Marking read is a
POST; with htmx (``HX-Request``) the answer is a fragment: the item (or the list)
as it is now, the header's ``#unread-count`` swapped out of band, and a message
for the ``role="status"`` region. Without JavaScript the POST redirects back.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.tenancy import Actor
from config.web import PAGE_SIZE, actor_required
from exchange.models import Event, Notification
from exchange.notifications.selectors import notification_list, notification_unread_count
from exchange.notifications.services import notification_mark_all_read, notification_mark_read

EVENT_LABELS = {
    "listing.published": gettext_lazy("New listing matching your alert"),
    "listing.moderated": gettext_lazy("Your listing was moderated"),
    "listing.closing_soon": gettext_lazy("A listing closes in 7 days"),
    "match.created": gettext_lazy("New match"),
    "interest.expressed": gettext_lazy("Interest expressed in a match"),
    "message.posted": gettext_lazy("New message about a match"),
    "match.accepted": gettext_lazy("Match accepted"),
    "match.declined": gettext_lazy("Match declined"),
    "suggestion.created": gettext_lazy("New suggestion from evidence"),
    "consent.requested": gettext_lazy("A listing asks for your government's agreement"),
    "consent.decided": gettext_lazy("An origin government decided on your listing"),
    "test": gettext_lazy("Test event"),
}


def event_label(event_type: str) -> str:
    return str(EVENT_LABELS.get(event_type, event_type))


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def _path(name: str, pk: uuid.UUID, fallback: str) -> str:
    try:
        return reverse(name, kwargs={"pk": pk})
    except NoReverseMatch:  # that page is someone else's and may not be installed yet
        return fallback


def subject_url(event: Event) -> str | None:
    """The page of what an event is about: its match, its listing, or the alert that was tested."""
    data = event.data if isinstance(event.data, dict) else {}
    if event.type == "consent.requested":  # the listing is not the origin's to read until it accepts
        return reverse("opportunities:consents")
    if (pk := _uuid(data.get("match_id"))) is not None:
        return _path("exchange:match", pk, f"/matches/{pk}/")
    if (pk := _uuid(data.get("suggestion_id"))) is not None:
        return _path("exchange:suggestion-detail", pk, f"/suggestions/{pk}/")
    if (pk := _uuid(data.get("listing_id"))) is not None:
        return _path("opportunities:listing", pk, f"/listings/{pk}/")
    if (pk := _uuid(data.get("subscription_id"))) is not None:
        return _path("exchange:subscription", pk, f"/alerts/{pk}/")
    return None


def subject_title(event: Event) -> str:
    data = event.data if isinstance(event.data, dict) else {}
    title = data.get("title")
    return str(title) if title else event_label(event.type)


def decorate(notification: Notification) -> Notification:
    """What a template shows of an item: label, title, link (no query: the event is selected)."""
    event = notification.event
    notification.label = event_label(event.type)  # type: ignore[attr-defined]
    notification.title = subject_title(event)  # type: ignore[attr-defined]
    notification.url = subject_url(event)  # type: ignore[attr-defined]
    data = event.data if isinstance(event.data, dict) else {}
    notification.detail = str(data.get("reason") or data.get("message") or "")  # type: ignore[attr-defined]
    return notification


def _page_context(actor: Actor, query: QueryDict) -> dict[str, Any]:
    """One page of the inbox for ``?show=unread|all&page=n``."""
    show = "unread" if query.get("show") == "unread" else "all"
    items = notification_list(actor=actor, unread=True if show == "unread" else None)
    page = Paginator(items, PAGE_SIZE).get_page(query.get("page"))
    for notification in page.object_list:
        decorate(notification)
    return {"page": page, "show": show}


@actor_required
@require_GET
def inbox_view(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    context = _page_context(actor, request.GET)
    return render(request, "exchange/inbox/list.html", {**context, "here": request.get_full_path()})


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("exchange:inbox")


def _count_context(actor: Actor) -> dict[str, Any]:
    return {"unread_count": notification_unread_count(actor=actor)}


@actor_required
@require_POST
def inbox_read_view(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    notification = get_object_or_404(notification_list(actor=actor), pk=pk)
    notification_mark_read(actor=actor, notification=notification)
    message = _("Marked as read: %(title)s.") % {"title": subject_title(notification.event)}
    if request.headers.get("HX-Request"):
        context = {
            "notification": decorate(notification),
            "status_message": message,
            "here": _back(request),
            "focus": True,
            **_count_context(actor),
        }
        return render(request, "exchange/inbox/_read.html", context)
    messages.success(request, message)
    return redirect(_back(request))


@actor_required
@require_POST
def inbox_read_all_view(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    marked = notification_mark_all_read(actor=actor)
    if marked:
        message = ngettext("%(n)d item marked as read.", "%(n)d items marked as read.", marked) % {"n": marked}
    else:
        message = _("Nothing was unread.")
    if request.headers.get("HX-Request"):
        # The list as it is now, for the filter and page the user was looking at.
        back = _back(request)
        context = _page_context(actor, QueryDict(urlsplit(back).query))
        context.update(here=back, status_message=message, **_count_context(actor))
        return render(request, "exchange/inbox/_read_all.html", context)
    messages.success(request, message)
    return redirect(_back(request))
