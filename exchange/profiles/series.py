"""One indicator of one country across reference years: the series of its published profiles.

Read through ``exchange.access.profile_visible_to``: only the versions the caller
may read, and of those only the current published ones (no draft, no superseded
version), so a year appears once, with the figures its government stands by now.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.tenancy import Actor
from exchange import access
from exchange.models import Observation, ProfileStatus


def observation_series(
    actor: Actor, *, country: str, indicator: str, sex: str | None = None, age: str | None = None
) -> QuerySet[Observation]:
    """The figures of ``indicator`` in ``country``'s current published profiles, oldest period first.

    Without ``sex`` or ``age``, every breakdown is returned, each row tagged with its own.
    """
    profiles = access.profile_visible_to(actor=actor).filter(country=country, status=ProfileStatus.PUBLISHED)
    rows = Observation.objects.filter(profile__in=profiles, indicator_id=indicator)
    filters: dict[str, Any] = {}
    if sex:
        filters["sex"] = sex
    if age:
        filters["age"] = age
    return rows.filter(**filters).select_related("profile").order_by("time_period", "profile__year", "sex", "age")
