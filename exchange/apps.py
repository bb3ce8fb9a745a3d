from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = _("Exchange")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from opportunities.services import LISTING_HOOKS

        LISTING_HOOKS.append(_rematch)


# Publication, an approved revision, and leaving publication all change a listing's matches.
MATCHING_EVENTS = {"published", "revised", "closed", "withdrawn", "expired"}


def _rematch(listing_id: str, event: str) -> None:
    if event in MATCHING_EVENTS:
        from exchange.tasks import match_listing

        match_listing.delay(listing_id)
