from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from opportunities.models import Listing


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = _("Exchange")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from exchange.dialogue import services
        from exchange.notifications import events
        from opportunities.services import LISTING_OUTBOX

        # All run inside the listing change's transaction: what they owe commits with it.
        LISTING_OUTBOX.append(events.on_listing_event)
        LISTING_OUTBOX.append(_owe_matching)
        services.MATCH_OUTBOX.append(events.on_match_event)


# Publication, an approved revision, and leaving publication all change a listing's matches,
# and so does an origin government's consent admitting its country ("admitted:<country>").
MATCHING_EVENTS = {"published", "revised", "closed", "withdrawn", "expired"}


def _owe_matching(listing: Listing, event: str, reason: str) -> None:
    """Owe, through the task outbox and in one statement, the listing's matching (key
    ``match:<listing_id>``: a committed publication is matched whatever crashes between
    commit and publish) and a suggestions refresh (a listing opening or closing may
    connect, or stop connecting, two countries' evidence)."""
    if event in MATCHING_EVENTS or event.startswith("admitted:"):
        from exchange.outbox import outbox_tasks_enqueue
        from exchange.tasks import suggestions_refresh_task

        listing_id = str(listing.pk)
        outbox_tasks_enqueue(
            [
                ("exchange.match_listing", {"listing_id": listing_id}, f"match:{listing_id}"),
                suggestions_refresh_task(listing_id=listing_id),
            ]
        )
