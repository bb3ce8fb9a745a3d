"""The ledger's derived figures: quota used, women's share per stage, completion, return and re-engagement.

One aggregate query (effective entries summed by origin, stage and sex) whatever
the number of entries; the rest is arithmetic on those sums (docs/outcomes.md):

* ``quota``: the origin's allocation (sum of its allocation rows; in total, of all
  rows); ``null`` when the listing allocates nothing to it. ``quota_used``: the
  ``selected`` total. ``quota_remaining``: quota − quota used (``null`` with no quota).
* ``women_share[stage]``: ``actual`` = F ÷ (F + M) × 100, among the people whose sex
  is recorded (``X`` is left out of both sides: "not recorded" is not "not a woman",
  and ``X`` is usual for ``allocated``); ``target`` the listing's gender target;
  ``met`` = actual ≥ target. ``null`` where a side is missing.
* ``completion_rate`` = completed ÷ arrived, ``return_rate`` = returned ÷ arrived,
  ``re_engagement_rate`` = re_engaged ÷ returned, × 100.

Every percentage is rounded half up to one decimal and is ``null`` when its
denominator is 0 (47 arrived, 18 returned: 38.3).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Sum

from exchange.models import OutcomeStage
from exchange.outcomes.inputs import quotas
from exchange.outcomes.ledger import effective_entries
from exchange.outcomes.selectors import ledger_entries
from opportunities.models import Listing

STAGES = [stage.value for stage in OutcomeStage]
SEXES = ("F", "M", "X")


def percent(numerator: int, denominator: int) -> float | None:
    """numerator ÷ denominator × 100, rounded half up to one decimal; None when the denominator is 0."""
    if not denominator:
        return None
    value = (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return float(value)


def stage_counts(listing: Listing) -> dict[str, dict[str, dict[str, int]]]:
    """origin → stage → sex → effective total, in one query."""
    rows = (
        effective_entries(ledger_entries(listing))
        .values("origin_country", "stage", "sex")
        .annotate(n=Sum("count"))
        .order_by()
    )
    counts: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: dict.fromkeys(SEXES, 0)))
    for row in rows:
        counts[str(row["origin_country"])][row["stage"]][row["sex"]] += row["n"] or 0
    return counts


def _figures(stages: dict[str, dict[str, int]], quota: int | None, target: int | None) -> dict[str, Any]:
    def total(stage: str) -> int:
        return sum(stages.get(stage, {}).values()) if stage in stages else 0

    used = total(OutcomeStage.SELECTED)
    women_share = {}
    for stage in STAGES:
        sexes = stages.get(stage, dict.fromkeys(SEXES, 0))
        actual = percent(sexes["F"], sexes["F"] + sexes["M"])
        women_share[stage] = {
            "target": float(target) if target is not None else None,
            "actual": actual,
            "met": None if target is None or actual is None else actual >= target,
        }
    return {
        "stages": {
            stage: {**stages.get(stage, dict.fromkeys(SEXES, 0)), "total": total(stage), "reported": stage in stages}
            for stage in STAGES
        },
        "quota": quota,
        "quota_used": used,
        "quota_remaining": quota - used if quota is not None else None,
        "women_share": women_share,
        "completion_rate": percent(total(OutcomeStage.COMPLETED), total(OutcomeStage.ARRIVED)),
        "return_rate": percent(total(OutcomeStage.RETURNED), total(OutcomeStage.ARRIVED)),
        "re_engagement_rate": percent(total(OutcomeStage.RE_ENGAGED), total(OutcomeStage.RETURNED)),
    }


def outcome_summary(listing: Listing) -> dict[str, Any]:
    """``{"total": {...}, "by_origin": {"MD": {...}}}`` for a listing whose ledger the caller reads."""
    counts = stage_counts(listing)
    allocation = quotas(listing)
    target = listing.gender_target_percent
    origins = sorted(set(counts) | set(allocation))
    overall: dict[str, dict[str, int]] = {}
    for origin in origins:
        for stage, sexes in counts.get(origin, {}).items():
            into = overall.setdefault(stage, dict.fromkeys(SEXES, 0))
            for sex, n in sexes.items():
                into[sex] += n
    by_origin = {origin: _figures(dict(counts.get(origin, {})), allocation.get(origin), target) for origin in origins}
    total_quota = sum(allocation.values()) if allocation else None
    return {"total": _figures(overall, total_quota, target), "by_origin": by_origin}
