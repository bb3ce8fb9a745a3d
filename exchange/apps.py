from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = _("Exchange")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from exchange.dialogue import services
        from exchange.notifications import events
        from opportunities.services import LISTING_HOOKS, LISTING_OUTBOX

        LISTING_HOOKS.append(_rematch)
        LISTING_HOOKS.append(_refresh_suggestions)
        LISTING_OUTBOX.append(events.on_listing_event)
        services.MATCH_OUTBOX.append(events.on_match_event)


# Publication, an approved revision, and leaving publication all change a listing's matches.
MATCHING_EVENTS = {"published", "revised", "closed", "withdrawn", "expired"}


def _rematch(listing_id: str, event: str) -> None:
    if event in MATCHING_EVENTS:
        import logging

        from exchange.tasks import match_listing

        try:
            match_listing.delay(listing_id)
        except Exception:  # broker down: the hourly exchange.rematch_recent catches up
            logging.getLogger(__name__).warning(
                "Broker unavailable; matching of %s deferred", listing_id, exc_info=True
            )


def _refresh_suggestions(listing_id: str, event: str) -> None:
    """A listing opening or closing may connect, or stop connecting, two countries' evidence."""
    if event in MATCHING_EVENTS:
        from exchange.tasks import enqueue_suggestions_refresh

        enqueue_suggestions_refresh(listing_id=str(listing_id))
