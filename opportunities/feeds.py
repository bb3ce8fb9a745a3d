"""The public Atom feed of listings: ``/feeds/listings.atom``.

The 50 most recently published listings marked public, for feed readers, news
desks and partner systems that poll. Each entry links to the listing's public web
page (``/public/listings/<id>/``, with schema.org JSON-LD) and is identified by a URN
of the listing's id, which never changes.
"""

from __future__ import annotations

import datetime

from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from opportunities.models import NEWEST_FIRST, Listing
from opportunities.selectors import public_listing_list
from opportunities.translations import for_listing, reader_language

FEED_SIZE = 50


class PublicListingsFeed(Feed):
    feed_type = Atom1Feed
    title = _("Corridor: legal labour-migration opportunities")
    subtitle = _("Schemes and labour offers published by governments and marked public.")
    author_name = "Corridor"

    def link(self) -> str:
        return reverse("public-listing-list")

    def feed_url(self) -> str:
        return reverse("listings-feed")

    def items(self) -> QuerySet[Listing]:
        return public_listing_list().order_by(*NEWEST_FIRST)[:FEED_SIZE]

    # Each entry in the reader's language (Accept-Language) when the listing has it, else
    # the authoritative text; a translation says so (opportunities.translations).

    def item_title(self, item: Listing) -> str:
        return for_listing(item, reader_language()).title

    def item_description(self, item: Listing) -> str:
        text = for_listing(item, reader_language())
        body = text.summary or text.description[:500]
        if text.authoritative:
            return body
        note = _("This is a translation; the authoritative text is in %(language)s.") % {
            "language": text.authoritative_language_name
        }
        return f"{body} ({note})" if body else str(note)

    def item_link(self, item: Listing) -> str:
        return reverse("public:listing", kwargs={"pk": item.pk})

    def item_guid(self, item: Listing) -> str:
        return f"urn:uuid:{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Listing) -> datetime.datetime | None:
        return item.published_at

    def item_updateddate(self, item: Listing) -> datetime.datetime | None:
        return item.published_at

    def item_author_name(self, item: Listing) -> str:
        return item.owner.name

    def item_categories(self, item: Listing) -> list[str]:
        isco = [f"ISCO-08:{line.occupation_id}" for line in item.occupation_lines.all()]
        return [item.scheme_type, *dict.fromkeys(isco)]
