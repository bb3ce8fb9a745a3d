"""What a ledger entry must satisfy: one set of rules for the API, the page and the CSV import.

``OutcomeEntryInput`` checks one entry against its listing (origin admitted, line,
period in the widened window, stage, sex, count, the entry it corrects) and then
against the ledger as it would stand with the entry in it (``LedgerBook``): the
pipeline order of the stage totals and the origin's allocation. Every failure is a
400 naming the field; nothing is saved unless all pass (the service saves inside
the same transaction, under the listing's lock).

Decisions (docs/outcomes.md):

* **Stage totals** are per origin, occupation line (or none) and period, over all
  sexes and the effective entries only (a correction replaces what it corrects).
* **Unreported stages do not constrain.** A stage is compared only with the
  earlier stages that have entries: ``selected`` above ``allocated`` is refused,
  ``selected`` with no ``allocated`` entry yet is not.
* **Allocation.** The ``allocated`` and ``selected`` totals of an origin over one
  year (its periods ``YYYY`` and ``YYYY-MM`` together, every line) may not exceed
  that origin's allocation (the sum of its allocation rows); an occupation's own
  allocation row bounds that line too. An origin with no allocation row has no quota.
* **Corrections** restate the whole entry (every field given again) for the same
  origin country, name an effective entry of the same ledger, and carry a reason.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Sum
from django.utils.translation import gettext as _
from rest_framework import serializers

from exchange.access import admitted_countries
from exchange.models import Match, OutcomeEntry, OutcomeSex, OutcomeStage
from exchange.outcomes.ledger import effective_entries
from exchange.outcomes.selectors import is_corrected, ledger_entries
from opportunities.models import Listing

PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2]))?$")

# Each stage and the earlier stages its total may not exceed (the pipeline, transitively).
S = OutcomeStage
BOUNDED_BY: dict[str, tuple[str, ...]] = {
    S.ALLOCATED: (),
    S.NOMINATED: (S.ALLOCATED,),
    S.SELECTED: (S.NOMINATED, S.ALLOCATED),
    S.VISA_ISSUED: (S.SELECTED, S.NOMINATED, S.ALLOCATED),
    S.ARRIVED: (S.VISA_ISSUED, S.SELECTED, S.NOMINATED, S.ALLOCATED),
    S.COMPLETED: (S.ARRIVED, S.VISA_ISSUED, S.SELECTED, S.NOMINATED, S.ALLOCATED),
    S.RETURNED: (S.ARRIVED, S.VISA_ISSUED, S.SELECTED, S.NOMINATED, S.ALLOCATED),
    S.RE_ENGAGED: (S.RETURNED, S.ARRIVED, S.VISA_ISSUED, S.SELECTED, S.NOMINATED, S.ALLOCATED),
    S.WITHDRAWN: (S.NOMINATED, S.ALLOCATED),
}
QUOTA_STAGES = (S.ALLOCATED, S.SELECTED)

GroupKey = tuple[str, str, str]  # origin, isco code ("" for none), period


def period_bounds(period: str) -> tuple[datetime.date, datetime.date]:
    match = PERIOD.match(period)
    if match is None:
        raise ValueError(period)
    year = int(match.group(1))
    if match.group(2) is None:
        return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    month = int(match.group(2))
    return datetime.date(year, month, 1), datetime.date(year, month, calendar.monthrange(year, month)[1])


def _widened(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def quotas(listing: Listing) -> dict[str, int]:
    """Each origin's allocation (the sum of its allocation rows)."""
    result: dict[str, int] = defaultdict(int)
    for row in listing.allocations or []:
        result[str(row["country"])] += int(row.get("places") or 0)
    return dict(result)


def line_quotas(listing: Listing) -> dict[tuple[str, str], int]:
    """The allocation rows that name an occupation: (origin, isco code) → places."""
    result: dict[tuple[str, str], int] = defaultdict(int)
    for row in listing.allocations or []:
        if row.get("isco_code"):
            result[(str(row["country"]), str(row["isco_code"]))] += int(row.get("places") or 0)
    return dict(result)


@dataclass
class LedgerBook:
    """A ledger's effective stage totals, read once (one query) and updated as entries are accepted.

    ``totals[(origin, isco, period)][stage]`` is the sum over every sex; the import
    accepts its rows one by one into the same book, so a file is checked against
    the ledger and its own earlier rows.
    """

    listing: Listing
    totals: dict[GroupKey, dict[str, int]] = field(default_factory=dict)
    entries: dict[GroupKey, dict[str, int]] = field(default_factory=dict)  # how many effective entries
    corrected: set[str] = field(default_factory=set)
    _lines: set[str] | None = None

    def lines(self) -> set[str]:
        """The listing's ISCO codes, read once for a whole file."""
        if self._lines is None:
            self._lines = listing_lines(self.listing)
        return self._lines

    @classmethod
    def load(cls, listing: Listing) -> LedgerBook:
        book = cls(listing)
        rows = (
            effective_entries(ledger_entries(listing))
            .values("origin_country", "occupation_id", "period", "stage")
            .annotate(n=Sum("count"), entries=Count("id"))
            .order_by()
        )
        for row in rows:
            key = (str(row["origin_country"]), row["occupation_id"] or "", row["period"])
            book.totals.setdefault(key, {})[row["stage"]] = row["n"]
            book.entries.setdefault(key, {})[row["stage"]] = row["entries"]
        return book

    def _with(
        self, entry: dict[str, Any], replaced: OutcomeEntry | None
    ) -> tuple[dict[GroupKey, dict[str, int]], dict[GroupKey, dict[str, int]]]:
        totals: dict[GroupKey, dict[str, int]] = {}
        entries: dict[GroupKey, dict[str, int]] = {}

        def group(key: GroupKey) -> tuple[dict[str, int], dict[str, int]]:
            if key not in totals:
                totals[key] = dict(self.totals.get(key, {}))
                entries[key] = dict(self.entries.get(key, {}))
            return totals[key], entries[key]

        if replaced is not None:
            sums, counts = group((str(replaced.origin_country), replaced.occupation_id or "", replaced.period))
            sums[replaced.stage] = sums.get(replaced.stage, 0) - replaced.count
            counts[replaced.stage] = counts.get(replaced.stage, 1) - 1
            if counts[replaced.stage] <= 0:  # no entry left: the stage is unreported again
                del sums[replaced.stage], counts[replaced.stage]
        sums, counts = group(_key(entry))
        sums[entry["stage"]] = sums.get(entry["stage"], 0) + entry["count"]
        counts[entry["stage"]] = counts.get(entry["stage"], 0) + 1
        return totals, entries

    def with_entry(self, entry: dict[str, Any], replaced: OutcomeEntry | None) -> dict[GroupKey, dict[str, int]]:
        """The groups an entry touches, as they would stand with it (and without what it corrects)."""
        return self._with(entry, replaced)[0]

    def accept(self, entry: dict[str, Any], replaced: OutcomeEntry | None) -> None:
        totals, entries = self._with(entry, replaced)
        self.totals.update(totals)
        self.entries.update(entries)
        if replaced is not None:
            self.corrected.add(str(replaced.pk))

    def problems(self, entry: dict[str, Any], replaced: OutcomeEntry | None) -> dict[str, str]:
        """The pipeline and allocation rules, on the ledger as it would stand: field → message."""
        touched = self.with_entry(entry, replaced)
        for group in touched.values():
            for stage, total in group.items():
                for earlier in BOUNDED_BY[stage]:
                    if earlier in group and total > group[earlier]:
                        return {
                            "count": _(
                                "The %(stage)s total would be %(total)d, above the %(earlier)s total of "
                                "%(bound)d for the same origin, occupation and period."
                            )
                            % {
                                "stage": OutcomeStage(stage).label.lower(),
                                "total": total,
                                "earlier": OutcomeStage(earlier).label.lower(),
                                "bound": group[earlier],
                            }
                        }
        if entry["stage"] in QUOTA_STAGES:
            return self._quota_problem(entry, touched)
        return {}

    def _quota_problem(self, entry: dict[str, Any], touched: dict[GroupKey, dict[str, int]]) -> dict[str, str]:
        origin, isco, stage, year = entry["origin_country"], _isco(entry), entry["stage"], entry["period"][:4]
        merged = {**self.totals, **touched}
        year_total = sum(
            group.get(stage, 0) for (o, _line, p), group in merged.items() if o == origin and p[:4] == year
        )
        line_total = sum(
            group.get(stage, 0)
            for (o, line, p), group in merged.items()
            if o == origin and line == isco and p[:4] == year
        )
        quota = quotas(self.listing).get(origin)
        line_quota = line_quotas(self.listing).get((origin, isco)) if isco else None
        for total, bound in ((year_total, quota), (line_total, line_quota)):
            if bound is not None and total > bound:
                return {
                    "count": _(
                        "The %(stage)s total for %(origin)s in %(year)s would be %(total)d, above the "
                        "allocation of %(quota)d places."
                    )
                    % {
                        "stage": OutcomeStage(stage).label.lower(),
                        "origin": origin,
                        "year": year,
                        "total": total,
                        "quota": bound,
                    }
                }
        return {}


def listing_lines(listing: Listing) -> set[str]:
    return {line.occupation_id for line in listing.occupation_lines.all()}


def _isco(entry: dict[str, Any]) -> str:
    occupation = entry.get("occupation")
    return str(occupation) if occupation else ""


def _key(entry: dict[str, Any]) -> GroupKey:
    return (entry["origin_country"], _isco(entry), entry["period"])


class OutcomeEntryInput(serializers.Serializer):
    """One ledger entry, or a correction (``corrects`` + ``reason``), for the listing in context."""

    origin_country = serializers.CharField(
        help_text="ISO 3166-1 alpha-2; one of the listing's allocations or partners."
    )
    isco_code = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default="", help_text="One of the listing's ISCO-08 lines."
    )
    period = serializers.CharField(help_text="A year (2025) or a month (2025-04).")
    stage = serializers.ChoiceField(choices=OutcomeStage.choices)
    sex = serializers.ChoiceField(choices=OutcomeSex.choices, help_text="F, M or X (not recorded).")
    count = serializers.IntegerField(min_value=0, max_value=10_000_000)
    corrects = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="The entry this one replaces (same ledger)."
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    match = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="An agreed match of the listing (optional)."
    )

    def __init__(self, *args: Any, listing: Listing | None = None, book: LedgerBook | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.listing = listing  # None only when the schema generator describes the body
        self.book = book

    def validate_origin_country(self, value: str) -> str:
        assert self.listing is not None
        code = value.strip().upper()
        if code not in admitted_countries(self.listing):
            raise serializers.ValidationError(
                _("“%(code)s” is not an origin country this listing admits (%(admitted)s).")
                % {"code": value, "admitted": ", ".join(admitted_countries(self.listing)) or "–"}
            )
        return code

    def validate_isco_code(self, value: str | None) -> str:
        assert self.listing is not None
        code = (value or "").strip()
        if not code:
            return ""
        lines = self.book.lines() if self.book is not None else listing_lines(self.listing)
        if code not in lines:
            raise serializers.ValidationError(
                _("“%(code)s” is not one of the listing's occupations (%(lines)s).")
                % {"code": code, "lines": ", ".join(sorted(lines))}
            )
        return code

    def validate_period(self, value: str) -> str:
        assert self.listing is not None
        period = value.strip()
        try:
            start, end = period_bounds(period)
        except ValueError:
            raise serializers.ValidationError(_("Give a year (2025) or a month (2025-04).")) from None
        low, high = _widened(self.listing.starts_on, -1), _widened(self.listing.ends_on, 1)
        if end < low or start > high:
            raise serializers.ValidationError(
                _("%(period)s is outside the listing's window widened by a year on each side (%(low)s to %(high)s).")
                % {"period": period, "low": low.isoformat(), "high": high.isoformat()}
            )
        return period

    def validate_match(self, value: Any) -> Match | None:
        if value is None:
            return None
        assert self.listing is not None
        found = self.listing_matches().filter(pk=value).first()
        if found is None:
            raise serializers.ValidationError(_("Choose an agreed match of this listing."))
        return found

    def listing_matches(self) -> Any:
        from exchange.access import agreed_matches_of

        assert self.listing is not None
        return agreed_matches_of(self.listing)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        assert self.listing is not None
        book = self.book or LedgerBook.load(self.listing)
        replaced = None
        if attrs.get("corrects") is not None:
            replaced = ledger_entries(self.listing).filter(pk=attrs["corrects"]).first()
            if replaced is None:
                raise serializers.ValidationError({"corrects": _("Name an entry of this listing's ledger.")})
            if str(replaced.pk) in book.corrected or is_corrected(replaced.pk):
                raise serializers.ValidationError(
                    {"corrects": _("This entry was corrected already: correct its latest correction instead.")}
                )
            if str(replaced.origin_country) != attrs["origin_country"]:
                raise serializers.ValidationError(
                    {"origin_country": _("A correction keeps the origin country of the entry it corrects.")}
                )
            if not attrs.get("reason", "").strip():
                raise serializers.ValidationError({"reason": _("Say why the entry is corrected.")})
        data = {**attrs, "occupation": attrs.get("isco_code") or None, "corrected_entry": replaced}
        problems = book.problems(data, replaced)
        if problems:
            raise serializers.ValidationError(problems)
        return data
