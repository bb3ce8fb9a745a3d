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
        LISTING_OUTBOX.append(_rematch)
        LISTING_OUTBOX.append(_refresh_suggestions)
        services.MATCH_OUTBOX.append(events.on_match_event)


# Publication, an approved revision, and leaving publication all change a listing's matches,
# and so does an origin government's consent admitting its country ("admitted:<country>").
MATCHING_EVENTS = {"published", "revised", "closed", "withdrawn", "expired"}


def _changes_matching(event: str) -> bool:
    return event in MATCHING_EVENTS or event.startswith("admitted:")


def _rematch(listing: Listing, event: str, reason: str) -> None:
    """Owe the listing's matching through the task outbox (key ``match:<listing_id>``): a committed
    publication is matched whatever crashes between commit and publish."""
    if _changes_matching(event):
        from exchange.outbox import outbox_task_enqueue

        listing_id = str(listing.pk)
        outbox_task_enqueue(task="exchange.match_listing", key=f"match:{listing_id}", kwargs={"listing_id": listing_id})


def _refresh_suggestions(listing: Listing, event: str, reason: str) -> None:
    """A listing opening or closing may connect, or stop connecting, two countries' evidence."""
    if _changes_matching(event):
        from exchange.tasks import enqueue_suggestions_refresh

        enqueue_suggestions_refresh(listing_id=str(listing.pk))
