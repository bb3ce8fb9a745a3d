"""One subscription channel's private Atom feed: ``/feeds/subscriptions/<token>.atom``.

The URL is the credential: feed readers cannot sign in, so a feed channel gets an
unguessable token (``secrets.token_urlsafe(32)``, 256 bits) and the feed answers
without a login. A token that names no feed channel of an active organisation is
a 404, like any unknown page.

The token lookup is the one deliberate cross-tenant read here
(``exchange.notifications.selectors.feed_channel_by_token``); everything after it
runs inside the owning organisation's tenant scope. Entries are the events delivered to the
channel, newest first, in the thin shape webhooks carry: a title, a link, an id.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from accounts.tenancy import Actor, tenant_scope
from exchange.models import Channel, Event
from exchange.notifications.selectors import feed_channel_by_token, feed_entries, feed_url


class SubscriptionFeed(Feed):
    feed_type = Atom1Feed
    author_name = "Corridor"

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Channel:
        return kwargs["channel"]

    def title(self, obj: Channel) -> str:
        return _("Corridor: %(name)s") % {"name": obj.subscription.name}

    def subtitle(self, obj: Channel) -> str:
        return _("Events for the subscription “%(name)s” of %(org)s.") % {
            "name": obj.subscription.name,
            "org": obj.organisation.name,
        }

    def link(self, obj: Channel) -> str:
        return settings.SITE_URL + "/"

    def feed_url(self, obj: Channel) -> str | None:
        return feed_url(obj)

    def feed_guid(self, obj: Channel) -> str:
        return f"urn:uuid:{obj.pk}"

    def items(self, obj: Channel) -> list[Event]:
        return feed_entries(channel=obj)

    def item_title(self, item: Event) -> str:
        title = item.data.get("title") if isinstance(item.data, dict) else None
        return str(title) if title else item.type

    def item_description(self, item: Event) -> str:
        data = item.data if isinstance(item.data, dict) else {}
        return str(data.get("message") or data.get("summary") or item.type)

    def item_link(self, item: Event) -> str:
        url = item.data.get("url") if isinstance(item.data, dict) else None
        # Only web links: an event's data is ours, but a feed reader would follow anything.
        if isinstance(url, str) and url.startswith(("https://", "http://", "/")):
            return url
        return settings.SITE_URL + "/"

    def item_guid(self, item: Event) -> str:
        return f"urn:uuid:{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Event) -> datetime.datetime:
        return item.created_at

    def item_updateddate(self, item: Event) -> datetime.datetime:
        return item.created_at

    def item_categories(self, item: Event) -> list[str]:
        return [item.type]


def subscription_feed(request: HttpRequest, token: str) -> HttpResponse:
    channel = feed_channel_by_token(token=token)
    if channel is None:
        raise Http404
    actor = Actor(user=None, organisation=channel.organisation, role=None)
    with tenant_scope(actor):
        response = SubscriptionFeed()(request, channel=channel)
    # The URL is a secret: keep it out of shared caches, search engines and referrers.
    response["Cache-Control"] = "private, no-cache"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
