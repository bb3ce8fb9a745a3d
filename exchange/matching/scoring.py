"""How a match is scored and explained. The weights live here, and only here.

A match's score is a weighted sum of six components, each in 0..1 (docs/matching.md
walks through an example):

========================  ======  ==============================================
component                 weight  what it measures
========================  ======  ==============================================
occupation                0.45    how closely each demanded occupation meets an
                                  offered one along the ISCO hierarchy (unit group
                                  1.0, minor 0.75, sub-major 0.5, major 0.25),
                                  weighted by the places demanded
quantity                  0.15    the share of demanded places the offer can fill
language                  0.15    required CEFR levels met by the offer (one level
                                  short counts half)
skill                     0.10    closeness of the ISCO skill levels of paired lines
sector                    0.05    shared ISIC sections (neutral when a side names none)
conditions                0.10    the scheme guarantees fair recruitment (workers pay
                                  no fees) and pension portability, half each
========================  ======  ==============================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

WEIGHTS: dict[str, float] = {
    "occupation": 0.45,
    "quantity": 0.15,
    "language": 0.15,
    "skill": 0.10,
    "sector": 0.05,
    "conditions": 0.10,
}
# The ISCO level at which two codes meet (length of their common prefix) and its value.
LEVEL_NAMES = {4: "unit_group", 3: "minor_group", 2: "sub_major_group", 1: "major_group"}
LEVEL_SCORES = {4: 1.0, 3: 0.75, 2: 0.5, 1: 0.25, 0: 0.0}
CEFR = ("A1", "A2", "B1", "B2", "C1", "C2")
NEUTRAL_SECTOR = 0.5

assert abs(sum(WEIGHTS.values()) - 1.0) < 1e-9, "the weights must add up to 1"


@dataclass(frozen=True)
class Line:
    isco_code: str
    title: str
    quantity: int
    skill_level: int
    languages: tuple[tuple[str, str], ...]  # (language, CEFR level)


@dataclass(frozen=True)
class Side:
    """What scoring needs to know of one listing (plain data: no ORM in here)."""

    id: str
    title: str
    owner_country: str
    partner_countries: tuple[str, ...]
    starts_on: date
    ends_on: date
    sections: tuple[str, ...]  # ISIC sections, divisions folded into their section
    fair_recruitment: bool
    pension_portability: bool
    lines: tuple[Line, ...]


def meet_level(a: str, b: str) -> int:
    """The ISCO level at which two codes meet: the length of their common prefix."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _cefr_gap(required: str, offered: str | None) -> int:
    if offered is None:
        return len(CEFR)
    return max(0, CEFR.index(required) - CEFR.index(offered))


def score(demand: Side, supply: Side, titles: Mapping[str, str] | None = None) -> tuple[float, dict[str, Any]]:
    """Score a demand/supply pair; return the score and a person-readable explanation."""
    titles = titles or {}
    pairs: list[dict[str, Any]] = []
    missing: list[str] = []
    language_items: list[dict[str, Any]] = []
    language_points: list[float] = []
    skill_points: list[float] = []
    occupation_points = 0.0
    demanded = sum(line.quantity for line in demand.lines) or 1
    offered_matched = 0
    used_supply: set[int] = set()

    for d in demand.lines:
        best_index, best_level = None, 0
        for i, s in enumerate(supply.lines):
            level = meet_level(d.isco_code, s.isco_code)
            if level > best_level:
                best_index, best_level = i, level
        if best_index is None:
            missing.append(f"No offer for {d.isco_code} {d.title} ({d.quantity} places).")
            continue
        s = supply.lines[best_index]
        shared = d.isco_code[:best_level]
        occupation_points += LEVEL_SCORES[best_level] * d.quantity
        if best_index not in used_supply:
            offered_matched += s.quantity
            used_supply.add(best_index)
        pairs.append(
            {
                "demand": {"isco_code": d.isco_code, "title": d.title, "quantity": d.quantity},
                "supply": {"isco_code": s.isco_code, "title": s.title, "quantity": s.quantity},
                "level": LEVEL_NAMES[best_level],
                "shared_code": shared,
                "shared_title": titles.get(shared, ""),
                "description": f"{d.isco_code} meets {s.isco_code} at the {LEVEL_NAMES[best_level].replace('_', ' ')}"
                + (f" ({shared})" if best_level < 4 else ""),
            }
        )
        skill_points.append(1 - abs(d.skill_level - s.skill_level) / 3)
        offered = dict(s.languages)
        for language, cefr in d.languages:
            gap = _cefr_gap(cefr, offered.get(language))
            have = offered.get(language)
            language_points.append(1.0 if gap == 0 else 0.5 if gap == 1 else 0.0)
            item = {"language": language, "required": cefr, "offered": have, "met": gap == 0, "isco_code": d.isco_code}
            if gap:
                item["message"] = f"requires {language} {cefr}, offer has {have or 'none'}"
                missing.append(f"{d.isco_code}: {item['message']}.")
            language_items.append(item)

    quantity_share = min(1.0, offered_matched / demanded) if pairs else 0.0
    matched_demand = sum(p["demand"]["quantity"] for p in pairs)
    if pairs and offered_matched < matched_demand:
        missing.append(f"The offer covers {offered_matched} of the {matched_demand} places matched.")
    if demand.sections and supply.sections:
        shared_sections = sorted(set(demand.sections) & set(supply.sections))
        sector_score = 1.0 if shared_sections else 0.0
        if not shared_sections:
            missing.append("No sector (ISIC section) in common.")
    else:
        shared_sections, sector_score = [], NEUTRAL_SECTOR
    conditions = {"fair_recruitment": demand.fair_recruitment, "pension_portability": demand.pension_portability}
    if not demand.fair_recruitment:
        missing.append("The scheme does not state fair recruitment (workers paying no fees).")

    components = {
        "occupation": occupation_points / demanded,
        "quantity": quantity_share,
        "language": sum(language_points) / len(language_points) if language_points else 1.0,
        "skill": sum(skill_points) / len(skill_points) if skill_points else 0.0,
        "sector": sector_score,
        "conditions": 0.5 * demand.fair_recruitment + 0.5 * demand.pension_portability,
    }
    total = round(sum(WEIGHTS[k] * v for k, v in components.items()), 4)
    window_start, window_end = max(demand.starts_on, supply.starts_on), min(demand.ends_on, supply.ends_on)
    explanation = {
        "summary": _summary(pairs, language_items),
        "occupations": pairs,
        "quantities": {
            "demand": sum(line.quantity for line in demand.lines),
            "supply": sum(line.quantity for line in supply.lines),
            "demand_matched": matched_demand,
            "supply_matched": offered_matched,
        },
        "languages": language_items,
        "window": {
            "start": window_start.isoformat(),
            "end": window_end.isoformat(),
            "days": (window_end - window_start).days + 1,
        },
        "eligibility": {
            "demand_admits_supply": _admits(demand, supply.owner_country),
            "supply_admits_demand": _admits(supply, demand.owner_country),
        },
        "sectors": {"shared": shared_sections, "demand": list(demand.sections), "supply": list(supply.sections)},
        "conditions": conditions,
        "missing": missing,
        "components": {k: round(v, 4) for k, v in components.items()},
        "weights": WEIGHTS,
    }
    return max(0.0, min(1.0, total)), explanation


def _admits(side: Side, country: str) -> str:
    return "open to all countries" if not side.partner_countries else f"{country} is a partner country"


def _summary(pairs: list[dict[str, Any]], languages: Iterable[dict[str, Any]]) -> str:
    if not pairs:
        return "No occupation in common."
    parts = [pair["description"] for pair in pairs]
    gaps = [item["message"] for item in languages if not item["met"]]
    return "; ".join(parts) + (f"; language gap: {', '.join(gaps)}" if gaps else "") + "."
