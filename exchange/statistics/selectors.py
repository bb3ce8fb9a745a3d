"""The platform statistics: one SQL aggregate query per table, never rows loaded into Python.

Every table counts only what its reader may see (docs/statistics.md):

* listings are those ``opportunities.access.listing_visible_to(actor)`` returns,
  published or published once (closed, withdrawn, expired): for an anonymous
  reader the public ones, for a member every published listing it may read;
* the matches funnel counts matches whose two listings the reader may see;
* moderation turnaround is the agencies' (``is_agency_staff``), over every listing;
* outcome totals count the ledger's effective entries (``exchange.outcomes.ledger``)
  of public published schemes, or of every published scheme for the agencies, through
  the sums the database keeps of them (``exchange.outcomes.totals``).

Counts of people, and of matches, reach readers other than the agencies through
``small_cell`` (fewer than 5 shows as ``"<5"``), and a share or rate whose
denominator is such a small cell is not shown.

Each selector compiles the visible listings to SQL (``_visible_sql``) and runs one
statement over it, so the number of queries does not grow with the listings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from accounts.access import is_agency_staff
from accounts.tenancy import Actor, through_access
from exchange.models import MatchState, OutcomeStage, OutcomeTotal
from exchange.outcomes.ledger import small_cell
from opportunities.access import PUBLISHED_ONCE, listing_visible_to
from opportunities.models import Direction, Listing, SchemeType, active_language


@dataclass(frozen=True)
class Period:
    """The period filter: listings by publication date, matches by creation, decisions by date,
    ledger entries by their period (a year or a month overlapping it). Both ends inclusive."""

    start: date | None = None
    end: date | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # a lazy translation
    numeric: bool = True


@dataclass
class Table:
    """One statistics table: its columns, its rows (dicts keyed by column), and its chart's series."""

    name: str
    title: Any
    columns: Sequence[Column]
    rows: list[dict[str, Any]]
    chart_series: Sequence[str] = ()  # the numeric columns the chart draws
    category: str = ""  # the column naming each row (the chart's categories)
    note: Any = ""
    extra: dict[str, Any] = field(default_factory=dict)
    chart_width: int = 480  # wider where the categories are words


TITLES = {
    "places-by-isco-major": _("Places and workers by ISCO-08 major group"),
    "places-by-isic-section": _("Places and workers by ISIC Rev.4 section"),
    "places-by-scheme-type": _("Listings, places and workers by scheme type"),
    "places-by-country": _("Listings, places and workers by country"),
    "matches-funnel": _("The matches funnel"),
    "moderation-turnaround": _("Moderation turnaround (hours from submission to decision)"),
    "provisions": _("Listings with each provision"),
    "outcomes": _("Outcome totals by stage of the pipeline"),
}


def reads_moderation(actor: Actor) -> bool:
    """Moderation turnaround is the agencies' figure."""
    return is_agency_staff(actor)


def small_cells_for(actor: Actor) -> bool:
    """Readers other than the agencies get people counts through ``small_cell``.

    The two governments of one scheme read its raw figures on its ledger; a platform
    total mixes schemes, so it reaches them as it reaches any other government.
    """
    return not is_agency_staff(actor)


# --- SQL helpers ------------------------------------------------------------------------------


def _fetch(sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col[0] for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _sql(queryset: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def _published_between(period: Period, column: str = "published_at") -> Q:
    q = Q()
    if period.start:
        q &= Q(**{f"{column}__date__gte": period.start})
    if period.end:
        q &= Q(**{f"{column}__date__lte": period.end})
    return q


@through_access("the listings a reader's statistics count: listing_visible_to, published ones")
def _visible_listings(actor: Actor, period: Period) -> QuerySet[Listing, Any]:
    return (
        listing_visible_to(actor=actor)
        .filter(PUBLISHED_ONCE)
        .filter(_published_between(period))
        .order_by()
        .values("pk")
    )


def _visible_sql(actor: Actor, period: Period) -> tuple[str, tuple[Any, ...]]:
    return _sql(_visible_listings(actor, period))


def _entry_period(period: Period) -> Q:
    """Ledger entries whose period (``YYYY`` or ``YYYY-MM``) overlaps the filter."""
    q = Q()
    if period.start:
        q &= (Q(period__regex=r"^[0-9]{4}$") & Q(period__gte=f"{period.start:%Y}")) | (
            Q(period__regex=r"^[0-9]{4}-") & Q(period__gte=f"{period.start:%Y-%m}")
        )
    if period.end:
        q &= (Q(period__regex=r"^[0-9]{4}$") & Q(period__lte=f"{period.end:%Y}")) | (
            Q(period__regex=r"^[0-9]{4}-") & Q(period__lte=f"{period.end:%Y-%m}")
        )
    return q


def _cell(value: Any, small: bool) -> Any:
    return small_cell(int(value or 0)) if small else int(value or 0)


def _share(value: Any, denominator: Any, small: bool) -> float | None:
    """A share computed in SQL, hidden when its denominator is a small cell."""
    if value is None or (small and small_cell(int(denominator or 0)) != int(denominator or 0)):
        return None
    return float(value)


# --- Places and workers ------------------------------------------------------------------------

PLACES = Column("places", _("Places offered (demand)"))
WORKERS = Column("workers", _("Workers offered (supply)"))
LISTINGS = Column("listings", _("Listings"))
DIRECTION_SUMS = (
    f"COALESCE(SUM({{q}}) FILTER (WHERE li.direction = '{Direction.DEMAND}'), 0) AS places, "
    f"COALESCE(SUM({{q}}) FILTER (WHERE li.direction = '{Direction.SUPPLY}'), 0) AS workers"
)


def places_by_isco_major(*, actor: Actor, period: Period) -> Table:
    """Places and workers by ISCO-08 major group (the first digit of each line's code)."""
    visible, params = _visible_sql(actor, period)
    title = f"o.title_{active_language()}"
    rows = _fetch(
        f"SELECT LEFT(line.isco_code, 1) AS code, MAX({title}) AS title, "  # noqa: S608 (our own columns)
        f"{DIRECTION_SUMS.format(q='line.quantity')} "
        "FROM opportunities_occupationline line "
        "JOIN opportunities_listing li ON li.id = line.listing_id "
        "JOIN opportunities_occupation o ON o.code = LEFT(line.isco_code, 1) "
        f"WHERE line.listing_id IN ({visible}) GROUP BY 1 ORDER BY 1",
        params,
    )
    return Table(
        name="places-by-isco-major",
        title=TITLES["places-by-isco-major"],
        columns=[Column("code", _("ISCO-08 major group"), False), Column("title", _("Title"), False), PLACES, WORKERS],
        rows=[{**row, "places": int(row["places"]), "workers": int(row["workers"])} for row in rows],
        chart_series=("places", "workers"),
        category="code",
    )


def places_by_isic_section(*, actor: Actor, period: Period) -> Table:
    """Places and workers by ISIC section; a listing counts once in each of its sections
    (a division counts in its section), so the column does not add up to the total."""
    visible, params = _visible_sql(actor, period)
    rows = _fetch(
        "SELECT x.section AS code, MAX(sec.title_en) AS title, "  # noqa: S608 (our own SQL around a compiled queryset)
        f"{DIRECTION_SUMS.format(q='li.total_quantity')} "
        "FROM (SELECT DISTINCT l2.id AS listing_id, "
        "      CASE WHEN s.level = 'section' THEN s.code ELSE s.parent_code END AS section "
        "      FROM opportunities_listing l2 CROSS JOIN LATERAL unnest(l2.sectors) AS code(value) "
        "      JOIN opportunities_sector s ON s.code = code.value "
        f"     WHERE l2.id IN ({visible})) x "
        "JOIN opportunities_listing li ON li.id = x.listing_id "
        "JOIN opportunities_sector sec ON sec.code = x.section "
        "GROUP BY 1 ORDER BY 1",
        params,
    )
    return Table(
        name="places-by-isic-section",
        title=TITLES["places-by-isic-section"],
        columns=[Column("code", _("ISIC section"), False), Column("title", _("Title"), False), PLACES, WORKERS],
        rows=[{**row, "places": int(row["places"]), "workers": int(row["workers"])} for row in rows],
        chart_series=("places", "workers"),
        category="code",
        note=_("A listing counts in each of its sections, so the columns may add up to more than the total."),
    )


def places_by_scheme_type(*, actor: Actor, period: Period) -> Table:
    """Listings, places and workers by scheme type."""
    visible, params = _visible_sql(actor, period)
    rows = _fetch(
        "SELECT li.scheme_type AS code, COUNT(*) AS listings, "  # noqa: S608
        f"{DIRECTION_SUMS.format(q='li.total_quantity')} "
        f"FROM opportunities_listing li WHERE li.id IN ({visible}) GROUP BY 1 ORDER BY 1",
        params,
    )
    labels = dict(SchemeType.choices)
    return Table(
        name="places-by-scheme-type",
        title=TITLES["places-by-scheme-type"],
        columns=[
            Column("code", _("Scheme type"), False),
            Column("title", _("Title"), False),
            LISTINGS,
            PLACES,
            WORKERS,
        ],
        rows=[
            {
                "code": row["code"],
                "title": str(labels.get(row["code"], row["code"])),
                "listings": int(row["listings"]),
                "places": int(row["places"]),
                "workers": int(row["workers"]),
            }
            for row in rows
        ],
        chart_series=("places", "workers"),
        category="title",
    )


def places_by_country(*, actor: Actor, period: Period) -> Table:
    """Places offered by each destination country and workers offered by each origin (the owners)."""
    visible, params = _visible_sql(actor, period)
    rows = _fetch(
        "SELECT li.owner_country AS code, COUNT(*) AS listings, "  # noqa: S608
        f"{DIRECTION_SUMS.format(q='li.total_quantity')} "
        f"FROM opportunities_listing li WHERE li.id IN ({visible}) GROUP BY 1 ORDER BY 1",
        params,
    )
    return Table(
        name="places-by-country",
        title=TITLES["places-by-country"],
        columns=[Column("code", _("Country"), False), Column("title", _("Name"), False), LISTINGS, PLACES, WORKERS],
        rows=[
            {
                "code": row["code"],
                "title": str(countries.name(row["code"])),
                "listings": int(row["listings"]),
                "places": int(row["places"]),
                "workers": int(row["workers"]),
            }
            for row in rows
        ],
        chart_series=("places", "workers"),
        category="code",
        note=_("Places are counted for the destination that offers them, workers for the origin that offers them."),
    )


# --- Matches -----------------------------------------------------------------------------------

# A match has reached a stage when it is at that stage or a later one of the funnel.
FUNNEL = (
    (
        MatchState.SUGGESTED,
        (MatchState.SUGGESTED, MatchState.INTEREST_EXPRESSED, MatchState.IN_DIALOGUE, MatchState.AGREED),
    ),
    (MatchState.INTEREST_EXPRESSED, (MatchState.INTEREST_EXPRESSED, MatchState.IN_DIALOGUE, MatchState.AGREED)),
    (MatchState.IN_DIALOGUE, (MatchState.IN_DIALOGUE, MatchState.AGREED)),
    (MatchState.AGREED, (MatchState.AGREED,)),
)


def matches_funnel(*, actor: Actor, period: Period) -> Table:
    """Matches between listings the reader may see, by the furthest stage of the funnel they reached
    (suggested → interest → dialogue → agreed); declined, lapsed and retired matches count only
    as suggested, since their state no longer says how far they went."""
    visible, params = _visible_sql(actor, period)
    created = []
    extra: list[Any] = []
    if period.start:
        created.append("m.created_at::date >= %s")
        extra.append(period.start)
    if period.end:
        created.append("m.created_at::date <= %s")
        extra.append(period.end)
    counts = ", ".join(
        f"COUNT(*) FILTER (WHERE m.state IN ({', '.join(repr(str(s)) for s in states)})) AS {stage}"
        for stage, states in FUNNEL
    )
    where = " AND ".join(["TRUE", *created])
    rows = _fetch(
        f"SELECT {counts} FROM exchange_match m "  # noqa: S608
        f"WHERE m.demand_id IN ({visible}) AND m.supply_id IN ({visible}) AND {where}",
        (*params, *params, *extra),
    )
    small = small_cells_for(actor)
    labels = dict(MatchState.choices)
    return Table(
        name="matches-funnel",
        title=TITLES["matches-funnel"],
        columns=[
            Column("code", _("Stage"), False),
            Column("title", _("Title"), False),
            Column("matches", _("Matches")),
        ],
        rows=[
            {"code": str(stage), "title": str(labels[stage]), "matches": _cell(rows[0][str(stage)], small)}
            for stage, _states in FUNNEL
        ],
        chart_series=("matches",),
        category="title",
    )


# --- Moderation --------------------------------------------------------------------------------

DECISIONS = ("approve", "request_changes", "reject")


@through_access("moderation turnaround: the agencies' own figures over every listing's transitions")
def moderation_turnaround(*, actor: Actor, period: Period) -> Table:
    """Median and 90th percentile hours from a submission to its decision, by month of the decision.

    The agencies' figure (the moderators' workload); anyone else gets an empty table.
    """
    rows: list[dict[str, Any]] = []
    if is_agency_staff(actor):
        where = ["d.from_status = 'submitted'", "d.action = ANY(%s)"]
        params: list[Any] = [list(DECISIONS)]
        if period.start:
            where.append("(d.created_at AT TIME ZONE 'UTC')::date >= %s")
            params.append(period.start)
        if period.end:
            where.append("(d.created_at AT TIME ZONE 'UTC')::date <= %s")
            params.append(period.end)
        hours = "EXTRACT(EPOCH FROM d.created_at - s.created_at) / 3600.0"
        rows = _fetch(
            "SELECT to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, COUNT(*) AS decisions, "  # noqa: S608
            f"ROUND(percentile_cont(0.5) WITHIN GROUP (ORDER BY {hours})::numeric, 1) AS median_hours, "
            f"ROUND(percentile_cont(0.9) WITHIN GROUP (ORDER BY {hours})::numeric, 1) AS p90_hours "
            "FROM opportunities_listingtransition d CROSS JOIN LATERAL ("
            "  SELECT s.created_at FROM opportunities_listingtransition s "
            "  WHERE s.listing_id = d.listing_id AND s.to_status = 'submitted' AND s.created_at <= d.created_at "
            "  ORDER BY s.created_at DESC, s.id DESC LIMIT 1) s "
            f"WHERE {' AND '.join(where)} GROUP BY 1 ORDER BY 1",
            params,
        )
    return Table(
        name="moderation-turnaround",
        title=TITLES["moderation-turnaround"],
        columns=[
            Column("month", _("Month"), False),
            Column("decisions", _("Decisions")),
            Column("median_hours", _("Median (hours)")),
            Column("p90_hours", _("90th percentile (hours)")),
        ],
        rows=[
            {
                "month": row["month"],
                "decisions": int(row["decisions"]),
                "median_hours": float(row["median_hours"]),
                "p90_hours": float(row["p90_hours"]),
            }
            for row in rows
        ],
        chart_series=("median_hours", "p90_hours"),
        category="month",
        extra={"agencies_only": True},
    )


# --- Provisions --------------------------------------------------------------------------------

# (key, title, a short name for the chart's axis, the SQL condition)
PROVISIONS = (
    ("fair_recruitment", _("Fair recruitment (workers pay no fees)"), _("Fair recruitment"), "li.fair_recruitment"),
    ("pension_portability", _("Pension portability"), _("Pensions"), "li.pension_portability"),
    (
        "qualification_recognition",
        _("Recognition of qualifications"),
        _("Qualifications"),
        "li.qualification_recognition",
    ),
    (
        "gender",
        _("Gender provisions (equal access, a target or provisions)"),
        _("Gender"),
        "(li.equal_access_for_women OR li.gender_target_percent IS NOT NULL OR li.gender_provisions <> '')",
    ),
)


def provisions(*, actor: Actor, period: Period) -> Table:
    """The share of listings with each provision (per cent of the listings counted, one decimal)."""
    visible, params = _visible_sql(actor, period)
    counts = ", ".join(
        f"COUNT(*) FILTER (WHERE {expr}) AS {key}, "
        f"ROUND(100.0 * COUNT(*) FILTER (WHERE {expr}) / NULLIF(COUNT(*), 0), 1) AS {key}_share"
        for key, _label, _short, expr in PROVISIONS
    )
    row = _fetch(
        f"SELECT COUNT(*) AS total, {counts} FROM opportunities_listing li WHERE li.id IN ({visible})",  # noqa: S608
        params,
    )[0]
    return Table(
        name="provisions",
        title=TITLES["provisions"],
        columns=[
            Column("code", _("Provision"), False),
            Column("title", _("Title"), False),
            Column("short", _("Short name"), False),
            LISTINGS,
            Column("share", _("Share of listings (%)")),
        ],
        rows=[
            {
                "code": key,
                "title": str(label),
                "short": str(short),
                "listings": int(row[key]),
                "share": None if row[f"{key}_share"] is None else float(row[f"{key}_share"]),
            }
            for key, label, short, _expr in PROVISIONS
        ],
        chart_series=("share",),
        category="short",
        extra={"listings_counted": int(row["total"])},
    )


# --- Outcomes ----------------------------------------------------------------------------------


@through_access("outcome totals: the ledger's sums (its effective entries) of the schemes the reader's totals count")
def _outcome_sums(actor: Actor, period: Period) -> QuerySet[OutcomeTotal, Any]:
    """The kept sums (``exchange.outcomes.totals``) of the schemes counted, for the periods asked."""
    schemes = _visible_listings(actor if is_agency_staff(actor) else Actor.anonymous(), Period())
    return (
        OutcomeTotal.objects.filter(listing__in=schemes.filter(direction=Direction.DEMAND), entries__gt=0)
        .filter(_entry_period(period))
        .order_by()
        .values("listing_id", "stage", "people", "women")
    )


def outcome_totals(*, actor: Actor, period: Period) -> Table:
    """People at each stage of the pipeline, women among them, and the headline figures.

    Quota is the allocations of the schemes with at least one entry counted; quota used
    is the ``selected`` total; women's share is of the ``selected``; the return rate is
    returned ÷ arrived. Shares and rates are per cent to one decimal, null when the
    denominator is 0 (or a small cell, for readers outside the agencies). Schemes are the
    public published ones, or every published one for the agencies.
    """
    sums, params = _sql(_outcome_sums(actor, period))
    stages = ", ".join(f"('{stage}', {position})" for position, stage in enumerate(OutcomeStage.values))
    rows = _fetch(
        f"WITH e AS ({sums}), "  # noqa: S608
        "s AS (SELECT stage, SUM(people) AS people, SUM(women) AS women FROM e GROUP BY stage), "
        "q AS (SELECT COALESCE(SUM((a.value ->> 'places')::int), 0) AS quota "
        "      FROM opportunities_listing l CROSS JOIN LATERAL jsonb_array_elements(l.allocations) a "
        "      WHERE l.id IN (SELECT listing_id FROM e)), "
        f"k(stage, position) AS (VALUES {stages}) "
        "SELECT k.stage, COALESCE(s.people, 0) AS people, COALESCE(s.women, 0) AS women, "
        "ROUND(100.0 * COALESCE(s.women, 0) / NULLIF(s.people, 0), 1) AS women_share, q.quota, "
        "(SELECT people FROM s WHERE stage = 'selected') AS quota_used, "
        "ROUND(100.0 * (SELECT people FROM s WHERE stage = 'returned') "
        "      / NULLIF((SELECT people FROM s WHERE stage = 'arrived'), 0), 1) AS return_rate, "
        "(SELECT people FROM s WHERE stage = 'arrived') AS arrived "
        "FROM k CROSS JOIN q LEFT JOIN s ON s.stage = k.stage ORDER BY k.position",
        params,
    )
    small = small_cells_for(actor)
    first = rows[0]
    selected = next(row for row in rows if row["stage"] == OutcomeStage.SELECTED)
    quota, used = int(first["quota"]), int(first["quota_used"] or 0)
    labels = dict(OutcomeStage.choices)
    summary = {
        "quota": quota,
        "quota_used": _cell(used, small),
        "quota_remaining": quota - used if not small or small_cell(used) == used else None,
        "women_share": _share(selected["women_share"], selected["people"], small),
        "return_rate": _share(first["return_rate"], first["arrived"], small),
    }
    return Table(
        name="outcomes",
        title=TITLES["outcomes"],
        columns=[
            Column("code", _("Stage"), False),
            Column("title", _("Title"), False),
            Column("people", _("People")),
            Column("women", _("Women")),
            Column("women_share", _("Women's share (%)")),
        ],
        rows=[
            {
                "code": row["stage"],
                "title": str(labels[row["stage"]]),
                "people": _cell(row["people"], small),
                "women": _cell(row["women"], small),
                "women_share": _share(row["women_share"], row["people"], small),
            }
            for row in rows
        ],
        chart_series=("people", "women"),
        category="title",
        chart_width=960,
        extra={"summary": summary, "small_cells": small},
    )


TABLES: dict[str, Callable[..., Table]] = {
    "places-by-isco-major": places_by_isco_major,
    "places-by-isic-section": places_by_isic_section,
    "places-by-scheme-type": places_by_scheme_type,
    "places-by-country": places_by_country,
    "matches-funnel": matches_funnel,
    "moderation-turnaround": moderation_turnaround,
    "provisions": provisions,
    "outcomes": outcome_totals,
}


def statistics_table(*, actor: Actor, name: str, period: Period) -> Table:
    return TABLES[name](actor=actor, period=period)


def statistics_tables(*, actor: Actor, period: Period) -> list[Table]:
    """Every table the reader gets (moderation turnaround only for the agencies)."""
    return [
        build(actor=actor, period=period)
        for name, build in TABLES.items()
        if name != "moderation-turnaround" or is_agency_staff(actor)
    ]
