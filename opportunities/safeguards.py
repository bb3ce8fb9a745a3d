"""The WHO health workforce safeguard list, and the flag it puts on a listing.

The WHO Global Code of Practice on the International Recruitment of Health
Personnel (WHA63.16, 2010) asks destinations not to recruit health personnel
actively from the countries on the *WHO health workforce support and safeguards
list* (2023: 55 countries, ``data/who_health_workforce_safeguards_2023.csv``, see
``data/SOURCES.md``) unless a government-to-government agreement governs it.

Here: a **demand** listing with an occupation in ISCO-08 sub-major group 22
(health professionals) or 32 (health associate professionals) that recruits from a
listed country (one of its partner countries or allocations' countries: the
countries it targets) is *flagged*. A listing that names no country is an open call,
not recruitment targeted at a listed country, and is not flagged (as England's code
of practice reads the WHO Code: listed countries "should not be actively targeted").
The moderator sees the flag, and the listing cannot be
published until ``government_agreement`` names the agreement
(``opportunities.access.can_publish_under_safeguards``). Supply listings are an
origin's own offer and are never flagged.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from opportunities.models import Listing

SAFEGUARD_LIST = Path(__file__).resolve().parent / "data" / "who_health_workforce_safeguards_2023.csv"
SAFEGUARD_LIST_YEAR = 2023
RULE = "who_health_workforce_safeguards"
# ISCO-08 sub-major groups 22 (health professionals) and 32 (health associate professionals).
HEALTH_ISCO_GROUPS = ("22", "32")


@functools.cache
def safeguard_countries() -> dict[str, str]:
    """The listed countries: ISO 3166-1 alpha-2 code → WHO's English name."""
    with SAFEGUARD_LIST.open(encoding="utf-8", newline="") as f:
        return {row["code"]: row["name_en"] for row in csv.DictReader(f)}


def is_listed(country: str) -> bool:
    return str(country).upper() in safeguard_countries()


def health_groups(isco_codes: Iterable[str]) -> list[str]:
    """The health sub-major groups (22, 32) among ISCO-08 codes of any level below the major group."""
    return sorted({code[:2] for code in isco_codes if len(code) >= 2 and code[:2] in HEALTH_ISCO_GROUPS})


@dataclass(frozen=True)
class SafeguardFlag:
    """A demand listing recruiting health workers from countries on the WHO list."""

    countries: tuple[str, ...]  # the listed countries it names (partners, allocations)
    occupations: tuple[str, ...]  # the ISCO-08 health groups concerned ("22", "32")
    government_agreement: str

    @property
    def satisfied(self) -> bool:
        return bool(self.government_agreement.strip())

    @property
    def refusal(self) -> str:
        """Why the listing cannot be published: the rule, and the field that would satisfy it."""
        return _(
            "WHO health workforce safeguard list (%(year)s): this listing recruits health workers (ISCO-08 "
            "%(groups)s) from %(where)s. Name the government-to-government agreement that governs the "
            "recruitment (government_agreement) before it is published."
        ) % {"year": SAFEGUARD_LIST_YEAR, "groups": ", ".join(self.occupations), "where": ", ".join(self.countries)}

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": RULE,
            "list_year": SAFEGUARD_LIST_YEAR,
            "countries": list(self.countries),
            "isco_groups": list(self.occupations),
            "government_agreement": self.government_agreement,
            "satisfied": self.satisfied,
        }


def flag(
    *,
    direction: str,
    isco_codes: Iterable[str],
    partner_countries: Iterable[str],
    allocation_countries: Iterable[str],
    government_agreement: str,
) -> SafeguardFlag | None:
    """The flag for a listing's values (a saved listing, a row, or a body about to be applied)."""
    from opportunities.models import Direction

    if direction != Direction.DEMAND:
        return None
    groups = health_groups(isco_codes)
    if not groups:
        return None
    named = {*(str(c) for c in partner_countries), *(str(c) for c in allocation_countries)}
    listed = tuple(sorted(c for c in named if is_listed(c)))
    if not listed:
        return None
    return SafeguardFlag(listed, tuple(groups), government_agreement or "")


def flag_listing(listing: Listing) -> SafeguardFlag | None:
    """The flag of a saved listing (from its stored ISCO prefixes: no query)."""
    return flag_values(
        {
            "direction": listing.direction,
            "isco_prefixes": listing.isco_prefixes,
            "partner_countries": listing.partner_countries,
            "allocations": listing.allocations,
            "government_agreement": listing.government_agreement,
        }
    )


def flag_values(values: dict[str, Any]) -> SafeguardFlag | None:
    """The flag of a listing's values: a ``listing_rows`` row, or validated write data
    (with ``occupation_lines`` instead of ``isco_prefixes``)."""
    codes = values.get("isco_prefixes")
    if codes is None:
        codes = [line["isco_code"] for line in values.get("occupation_lines") or []]
    return flag(
        direction=values["direction"],
        isco_codes=codes,
        partner_countries=values.get("partner_countries") or [],
        allocation_countries=[a["country"] for a in values.get("allocations") or []],
        government_agreement=values.get("government_agreement") or "",
    )
