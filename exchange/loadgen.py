"""Synthetic saved searches at scale, for the fan-out benchmark and its tests.

About one subscription in ten wants a typical published demand listing for ISCO
9211 (farm labourers) whose title contains ``MATCHING_WORDS``; each of the others
fails exactly one rule (occupation, direction, keywords, owner country, scheme
type, or inactive). Every subscription has an inbox channel and one in three a
feed channel, as partner governments set them up.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence

from accounts.models import Organisation
from accounts.tenancy import unscoped
from exchange.models import Channel, ChannelType, Subscription

# Keywords the listing's text matches ("harvest", "apple"), and ones it does not.
MATCHING_WORDS = ("harvest", "apple harvest", "apple")
OTHER_WORDS = ("nursing", "software engineers", "harvest -apple")
OWNER_COUNTRY = "IT"


def synthetic_subscriptions(
    organisations: Sequence[Organisation], count: int, *, seed: int, share: float = 0.1, batch: int = 5000
) -> int:
    """Write ``count`` subscriptions (and their channels) spread over ``organisations``."""
    rng = random.Random(seed)  # noqa: S311 - reproducible load data, not security
    written = 0
    with unscoped("synthetic load data for every organisation"):
        for start in range(0, count, batch):
            rows = [
                _subscription(rng, organisations[n % len(organisations)], n, share)
                for n in range(start, min(count, start + batch))
            ]
            Subscription.objects.bulk_create(rows)
            channels = [
                Channel(subscription=s, organisation_id=s.organisation_id, type=ChannelType.INBOX) for s in rows
            ]
            channels += [
                Channel(
                    subscription=s,
                    organisation_id=s.organisation_id,
                    type=ChannelType.FEED,
                    feed_token=uuid.uuid4().hex,
                )
                for s in rows[::3]
            ]
            Channel.objects.bulk_create(channels)
            written += len(rows)
    return written


def _subscription(rng: random.Random, organisation: Organisation, n: int, share: float) -> Subscription:
    row = Subscription(organisation=organisation, name=f"Saved search {n}")
    if rng.random() < share:
        row.isco_prefixes = rng.choice([[], ["9"], ["92", "7"], ["9211"]])
        row.direction = rng.choice(["", "demand"])
        row.keywords = rng.choice(["", "", *MATCHING_WORDS])
        row.owner_countries = rng.choice([[], [OWNER_COUNTRY], [OWNER_COUNTRY, "ES"]])
        return row
    reason = rng.randrange(6)  # one reason not to want it
    row.isco_prefixes = ["2221"] if reason == 0 else []
    row.direction = "supply" if reason == 1 else ""
    row.keywords = rng.choice(OTHER_WORDS) if reason == 2 else ""
    row.owner_countries = ["ES"] if reason == 3 else []
    row.scheme_types = ["talent"] if reason == 4 else []
    row.active = reason != 5
    return row
