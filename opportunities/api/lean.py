"""The list and the detail of listings without per-field serializer work (issue 15).

``ListingSerializer`` stays the read shape: the OpenAPI schema is generated from
it, and every other action (create, edit, the moderation steps) answers with it.
The two hot reads build the same JSON from the rows of
``opportunities.selectors.listing_rows`` (one statement, no model instances) with
the conversions the serializer's fields would make, decided once here rather than
per field and per row; ``OrjsonRenderer`` then writes the body.
tests/perf/test_lean_listings.py holds the two to each other on a seeded world,
field by field, for every audience.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import orjson
from django.utils import timezone
from django.utils.encoding import force_str
from rest_framework.renderers import JSONRenderer

from accounts.tenancy import Actor
from opportunities import access, safeguards
from opportunities.models import Listing, active_language
from opportunities.translations import TEXT_FIELDS, choose, reader_language

# Fields copied as they come from the database (text, numbers, booleans, lists of codes).
_PLAIN = (
    "owner_country",
    "status",
    "total_quantity",
    "direction",
    "title",
    "summary",
    "description",
    "text_language",
    "scheme_type",
    "partner_countries",
    "sectors",
)
_DATES = ("starts_on", "ends_on", "application_deadline")
_PLAIN_AFTER_DATES = (
    "duration_months_min",
    "duration_months_max",
    "circular",
    "housing",
    "social_security_coverage",
    "pension_portability",
    "qualification_recognition",
    "pre_departure_training",
    "return_reintegration_support",
    "fair_recruitment",
    "equal_access_for_women",
    "conditions_notes",
    "gender_provisions",
)
_PLAIN_AFTER_WAGE = (
    "currency",
    "annual_cap",
    "max_stay_months",
    "stay_window_months",
    "season_earliest_start",
    "season_latest_end",
    "min_guaranteed_hours",
    "min_guaranteed_hours_weeks",
    "lead_time_weeks",
    "gender_target_percent",
    "visibility",
    "requires_origin_consent",
    "government_agreement",
)


class ListingWriter:
    """Turns ``listing_rows`` rows into the read serializer's JSON, for one request."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.language = active_language()
        self.reader_language = reader_language(actor.user)
        self.tz = timezone.get_current_timezone()
        self._by_owner: dict[Any, tuple[bool, bool]] = {}

    def _datetime(self, value: datetime.datetime | None) -> str | None:
        # As DRF's DateTimeField: in the current time zone, ISO 8601, UTC written "Z".
        if value is None:
            return None
        text = value.astimezone(self.tz).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    def _insider_parts(self, owner_id: Any) -> tuple[bool, bool]:
        """May the actor see (the pending revision, the safeguard flag) of a listing of this owner?

        The access module decides from a listing holding nothing but its owner, so the answer
        is the same for every listing of the owner: asked once per owner and request (building
        a Listing per row was a tenth of a page of 50).
        """
        decided = self._by_owner.get(owner_id)
        if decided is None:
            listing = Listing(owner_id=owner_id)
            decided = self._by_owner[owner_id] = (
                bool(access.can_see_revisions(self.actor, listing)),
                access.can_see_safeguard_flag(self.actor, listing),
            )
        return decided

    def _pending(self, row: dict[str, Any]) -> dict[str, Any] | None:
        if row["pending_revision_id"] is None:
            return None
        if not self._insider_parts(row["owner_id"])[0]:
            return None
        return {"id": str(row["pending_revision_id"]), "created_at": row["pending_revision_at"].isoformat()}

    def _line(self, line: dict[str, Any]) -> dict[str, Any]:
        return {
            "isco_code": line["isco_code"],
            "isco_title": line[f"title_{self.language}"] or line["title_en"],
            "isco_level": line["isco_level"],
            "quantity": line["quantity"],
            "skill_level": line["skill_level"],
            "min_experience_years": line["min_experience_years"],
            "languages": [{"language": str(item["language"]), "level": item["level"]} for item in line["languages"]],
            "qualification_notes": line["qualification_notes"],
        }

    def listing(self, row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(row["id"]),
            "owner": {
                "id": str(row["owner_id"]),
                "name": row["owner__name"],
                "slug": row["owner__slug"],
                "country": str(row["owner__country"]),
            },
        }
        out["owner_country"] = row["owner_country"]
        out["status"] = row["status"]
        for name in ("published_at", "submitted_at", "created_at", "updated_at"):
            out[name] = self._datetime(row[name])
        for name in _PLAIN[2:]:
            out[name] = row[name]
        for name in _DATES:
            out[name] = row[name].isoformat()
        for name in _PLAIN_AFTER_DATES:
            out[name] = row[name]
        wage: Decimal | None = row["wage_floor_monthly"]
        out["wage_floor_monthly"] = None if wage is None else f"{wage.quantize(Decimal('0.01')):f}"
        for name in _PLAIN_AFTER_WAGE:
            out[name] = row[name]
        out["allocations"] = [
            {"country": str(item["country"]), "places": int(item["places"]), "isco_code": item.get("isco_code", "")}
            for item in row["allocations"]
        ]
        out["stay_overrides"] = [
            {"country": str(item["country"]), "max_stay_months": int(item["max_stay_months"])}
            for item in row["stay_overrides"]
        ]
        out["contact"] = (
            None
            if row["contact_id"] is None
            else {"id": str(row["contact_id"]), "full_name": row["contact__full_name"], "email": row["contact__email"]}
        )
        out["occupation_lines"] = [self._line(line) for line in row["lines"]]
        translations = [{name: item[name] for name in ("language", *TEXT_FIELDS)} for item in row["translation_rows"]]
        out["translations"] = translations
        out["display"] = choose(row, translations, self.reader_language).as_json()
        out["pending_revision"] = self._pending(row)
        out["safeguard_flag"] = self._safeguard(row)
        return out

    def _safeguard(self, row: dict[str, Any]) -> dict[str, Any] | None:
        if not self._insider_parts(row["owner_id"])[1]:
            return None
        flag = safeguards.flag_values(row)
        return None if flag is None else flag.as_dict()


def _default(value: Any) -> Any:
    # Lazy translations in error bodies, and anything else DRF's encoder would write as text.
    return force_str(value)


class OrjsonRenderer(JSONRenderer):
    """application/json written by orjson: the same compact UTF-8 as DRF's renderer, faster."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        # Integer keys (the index of a list item in a validation error) are written as text, as json does.
        return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS)
