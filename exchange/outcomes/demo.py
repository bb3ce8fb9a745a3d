"""Demo outcomes for ``manage.py seed_demo``: the ledgers of the three published demo schemes.

* GECCO Huelva (Spain; Morocco and Senegal): a full season with returns and
  re-engagements, reported by Spain for both origins and by Morocco for its own;
  one correction (double-counted arrivals). Its gender target (80 %) is met for
  Morocco and not for Senegal.
* The Italian construction programme (Senegal and Moldova): selections so far,
  with a gender target of 15 % not met.
* Triple Win (Germany; the Philippines): nominations and selections.

Everything is written through ``outcome_record`` as the governments would (the
pipeline and allocation rules apply). A scheme whose ledger has any entry is
left alone, so running the seed again creates nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accounts.models import Role
from accounts.tenancy import Actor, tenant_scope, unscoped
from exchange.models import OutcomeEntry
from exchange.outcomes.services import outcome_record
from opportunities.access import live_listings
from opportunities.demo import _actor
from opportunities.models import Listing

if TYPE_CHECKING:
    from accounts.management.commands.seed_demo import DemoContext

# (reporter slug, origin, stage, F, M, X); None for a sex not reported. Periods: the scheme's first year.
Row = tuple[str, str, str, int | None, int | None, int | None]

GECCO: list[Row] = [
    ("es-inclusion", "MA", "allocated", None, None, 20500),
    ("ma-employment", "MA", "nominated", 15000, 3000, None),
    ("ma-employment", "MA", "selected", 14000, 2500, None),
    ("es-inclusion", "MA", "visa_issued", 13500, 2400, None),
    ("es-inclusion", "MA", "arrived", 13200, 2300, None),
    ("es-inclusion", "MA", "completed", 12500, 2100, None),
    ("ma-employment", "MA", "returned", 12000, 2000, None),
    ("ma-employment", "MA", "re_engaged", 7000, 1100, None),
    ("es-inclusion", "MA", "withdrawn", 400, 150, None),
    ("es-inclusion", "SN", "allocated", None, None, 500),
    ("es-inclusion", "SN", "selected", 300, 150, None),
    ("es-inclusion", "SN", "arrived", 280, 140, None),
    ("es-inclusion", "SN", "returned", 260, 130, None),
]
ITALY: list[Row] = [
    ("it-labour", "SN", "allocated", None, None, 300),
    ("it-labour", "SN", "selected", 12, 268, None),
    ("it-labour", "SN", "visa_issued", 10, 250, None),
    ("it-labour", "MD", "allocated", None, None, 250),
    ("md-labour", "MD", "selected", 30, 190, None),
]
TRIPLE_WIN: list[Row] = [
    ("de-employment-agency", "PH", "allocated", None, None, 600),
    ("ph-migrant-workers", "PH", "nominated", 420, 130, None),
    ("ph-migrant-workers", "PH", "selected", 300, 90, None),
]
DEMO_LEDGERS: list[tuple[str, str, list[Row]]] = [
    ("es-inclusion", "GECCO", GECCO),
    ("it-labour", "Circular construction programme", ITALY),
    ("de-employment-agency", "Triple Win", TRIPLE_WIN),
]
CORRECTION = ("es-inclusion", "MA", "arrived", "F", 13150, "Arrivals at Algeciras on 3 March were counted twice.")


def _scheme(ctx: DemoContext, owner: str, title: str) -> Listing | None:
    with unscoped("the demo seed finds its own schemes by owner and title"):
        schemes = live_listings().filter(owner=ctx.organisations[owner], title__startswith=title)
        return schemes.order_by("created_at").first()


def _record(actor: Actor, listing: Listing, data: dict[str, Any]) -> OutcomeEntry:
    with tenant_scope(actor):
        return outcome_record(actor=actor, listing=listing, data=data)


def seed_outcomes(ctx: DemoContext) -> None:
    """Entries (and one correction) in the demo schemes' ledgers, through the service."""
    created = 0
    for owner, title, rows in DEMO_LEDGERS:
        listing = _scheme(ctx, owner, title)
        if listing is None:
            continue
        with unscoped("the demo seed checks whether a ledger was seeded already"):
            if OutcomeEntry.objects.filter(listing=listing).exists():
                continue
        period = str(listing.starts_on.year)
        recorded: dict[tuple[str, str, str], OutcomeEntry] = {}
        for slug, origin, stage, *counts in rows:
            actor = _actor(ctx, slug, Role.OFFICIAL)
            for sex, count in zip(("F", "M", "X"), counts, strict=True):
                if count is None:
                    continue
                data = {"origin_country": origin, "period": period, "stage": stage, "sex": sex, "count": count}
                recorded[(origin, stage, sex)] = _record(actor, listing, data)
                created += 1
        if owner == CORRECTION[0]:
            slug, origin, stage, sex, count, reason = CORRECTION
            wrong = recorded[(origin, stage, sex)]
            data = {
                "origin_country": origin,
                "period": period,
                "stage": stage,
                "sex": sex,
                "count": count,
                "corrects": str(wrong.pk),
                "reason": reason,
            }
            _record(_actor(ctx, slug, Role.OFFICIAL), listing, data)
            created += 1
        ctx.log(f"Recorded the outcomes of '{listing.title}'")
    ctx.log(f"Demo outcome entries: {created} new.")
