"""What a listing write must satisfy, for the API and the pages alike.

``ListingWriteSerializer`` is the body of ``POST /api/v1/listings/`` and ``PATCH
/api/v1/listings/{id}/`` and of the listing form (``opportunities.web.forms.editor``
turns what was typed into this body): one set of rules, one set of messages. Every
rule answers with an error that names the field (nested fields by position, as DRF
does: ``{"occupation_lines": [{}, {"quantity": ["..."]}]}``) and nothing is saved.

Also here: the listing's current values in that shape (``listing_write_data``), the
JSON a revision stores (``json_payload``), what a revision would change
(``revision_changes``) and the reason given with a workflow step
(``ReasonSerializer``). The API's read shapes are in ``opportunities.api.serializers``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from django_countries import countries
from rest_framework import serializers

from accounts.tenancy import Actor, unscoped
from opportunities import access, reference
from opportunities.models import (
    CefrLevel,
    Direction,
    Listing,
    ListingRevision,
    Occupation,
    SchemeType,
    Visibility,
)
from opportunities.translations import site_languages, translation_dicts

if TYPE_CHECKING:
    from accounts.models import Organisation

COUNTRY_CODES = frozenset(code for code, _name in countries)


def _country(value: str) -> str:
    code = (value or "").strip().upper()
    if code not in COUNTRY_CODES:
        raise serializers.ValidationError(_("'%(code)s' is not an ISO 3166-1 alpha-2 country code.") % {"code": value})
    return code


class CountryCodeField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 2)
        kwargs.setdefault("min_length", 2)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        return _country(super().to_internal_value(data))


class IscoCodeField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 4)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        code = super().to_internal_value(data).strip()
        if not reference.isco_exists(code):
            raise serializers.ValidationError(_("'%(code)s' is not an ISCO-08 code.") % {"code": code})
        return code


class MonthDayField(serializers.CharField):
    """A day of the year as ``MM-DD`` (season windows recur every year)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 5)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data).strip()
        if not value:
            return ""
        try:
            # 2024 is a leap year, so 02-29 is a valid season boundary.
            datetime.date.fromisoformat(f"2024-{value}")
            if len(value) != 5:
                raise ValueError
        except ValueError:
            raise serializers.ValidationError(_("Use MM-DD, a real day of the year (e.g. 04-15).")) from None
        return value


class RequiredEvenWhenPartial:
    """Nested items are whole objects: their required fields stay required in a PATCH.

    DRF propagates ``partial`` from the root to nested serializers, which would let
    ``{"occupation_lines": [{"quantity": 3}]}`` through without its ISCO code.
    """

    always_required: tuple[str, ...] = ()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        missing = {name: [_("This field is required.")] for name in self.always_required if name not in attrs}
        if missing:
            raise serializers.ValidationError(missing)
        return super().validate(attrs)  # type: ignore[misc]


class LanguageLevelSerializer(RequiredEvenWhenPartial, serializers.Serializer):
    always_required = ("language", "level")

    language = serializers.CharField(max_length=2, help_text=_("ISO 639-1 code, e.g. de."))
    level = serializers.ChoiceField(choices=CefrLevel.choices, help_text=_("CEFR level, A1 to C2."))

    def validate_language(self, value: str) -> str:
        value = value.strip().lower()
        if not reference.language_exists(value):
            raise serializers.ValidationError(_("'%(code)s' is not an ISO 639-1 language code.") % {"code": value})
        return value


class OccupationLineSerializer(RequiredEvenWhenPartial, serializers.Serializer):
    always_required = ("isco_code", "quantity")

    isco_code = IscoCodeField(help_text=_("ISCO-08 code at any level; a unit group (4 digits) is preferred."))
    quantity = serializers.IntegerField(
        min_value=1, help_text=_("Places (demand) or workers (supply); at least 1."), max_value=10_000_000
    )
    skill_level = serializers.IntegerField(
        min_value=1, max_value=4, required=False, allow_null=True, help_text=_("1–4; derived from ISCO when omitted.")
    )
    min_experience_years = serializers.IntegerField(min_value=0, max_value=60, required=False, allow_null=True)
    languages = LanguageLevelSerializer(many=True, required=False, default=list)
    qualification_notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)

    def validate_languages(self, value: list[dict[str, str]]) -> list[dict[str, str]]:
        seen = [item.get("language") for item in value]
        if len(seen) != len(set(seen)):
            raise serializers.ValidationError(_("Give each language once."))
        return value


class AllocationSerializer(RequiredEvenWhenPartial, serializers.Serializer):
    always_required = ("country", "places")

    country = CountryCodeField()
    places = serializers.IntegerField(min_value=1, max_value=10_000_000)
    isco_code = IscoCodeField(required=False, allow_blank=True, default="")


class StayOverrideSerializer(RequiredEvenWhenPartial, serializers.Serializer):
    always_required = ("country", "max_stay_months")

    country = CountryCodeField()
    max_stay_months = serializers.IntegerField(min_value=1, max_value=120)


class TranslationSerializer(RequiredEvenWhenPartial, serializers.Serializer):
    """The listing's text in another of the site's languages (the listing's own text is authoritative)."""

    always_required = ("language", "title")

    language = serializers.CharField(
        max_length=8, help_text=_("One of the site's languages (settings.LANGUAGES), not the text_language.")
    )
    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=50_000, required=False, allow_blank=True, default="")

    def validate_language(self, value: str) -> str:
        value = value.strip().lower()
        languages = site_languages()
        if value not in languages:
            raise serializers.ValidationError(
                _("'%(code)s' is not one of the site's languages (%(codes)s).")
                % {"code": value, "codes": ", ".join(languages)}
            )
        return value


def derived_skill_level(code: str) -> int:
    """The ISCO skill level of a group: its single level, or the highest of several."""
    with unscoped("reference data has no tenant"):
        levels = Occupation.objects.filter(code=code).values_list("skill_level", flat=True).first()
    return max(levels) if levels else 1


class ListingWriteSerializer(serializers.Serializer):
    """The body of POST /listings/ and PATCH /listings/{id}/ (PATCH: any subset)."""

    direction = serializers.ChoiceField(choices=Direction.choices)
    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=50_000, required=False, allow_blank=True, default="")
    text_language = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    scheme_type = serializers.ChoiceField(choices=SchemeType.choices)
    partner_countries = serializers.ListField(child=CountryCodeField(), required=False, default=list, max_length=250)
    sectors = serializers.ListField(
        child=serializers.CharField(max_length=10), required=False, default=list, max_length=120
    )
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    application_deadline = serializers.DateField()
    duration_months_min = serializers.IntegerField(min_value=1, max_value=120, required=False, allow_null=True)
    duration_months_max = serializers.IntegerField(min_value=1, max_value=120, required=False, allow_null=True)
    circular = serializers.BooleanField(required=False, default=False)
    housing = serializers.BooleanField(required=False, default=False)
    social_security_coverage = serializers.BooleanField(required=False, default=False)
    pension_portability = serializers.BooleanField(required=False, default=False)
    qualification_recognition = serializers.BooleanField(required=False, default=False)
    pre_departure_training = serializers.BooleanField(required=False, default=False)
    return_reintegration_support = serializers.BooleanField(required=False, default=False)
    fair_recruitment = serializers.BooleanField(required=False, default=False)
    equal_access_for_women = serializers.BooleanField(required=False, default=False)
    conditions_notes = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    gender_provisions = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    wage_floor_monthly = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False, allow_null=True
    )
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True, default="")
    annual_cap = serializers.IntegerField(min_value=1, max_value=100_000_000, required=False, allow_null=True)
    allocations = AllocationSerializer(many=True, required=False, default=list)
    max_stay_months = serializers.IntegerField(min_value=1, max_value=120, required=False, allow_null=True)
    stay_window_months = serializers.IntegerField(min_value=1, max_value=120, required=False, allow_null=True)
    stay_overrides = StayOverrideSerializer(many=True, required=False, default=list)
    season_earliest_start = MonthDayField()
    season_latest_end = MonthDayField()
    min_guaranteed_hours = serializers.IntegerField(min_value=1, max_value=100_000, required=False, allow_null=True)
    min_guaranteed_hours_weeks = serializers.IntegerField(min_value=1, max_value=104, required=False, allow_null=True)
    lead_time_weeks = serializers.IntegerField(min_value=0, max_value=520, required=False, allow_null=True)
    gender_target_percent = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False, default=Visibility.MEMBERS)
    requires_origin_consent = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "Demand only: each partner country is admitted only once its government accepts (GET /api/v1/consents/)."
        ),
    )
    government_agreement = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "The government-to-government agreement the recruitment follows; required to publish a "
            "listing recruiting health workers from a country on the WHO safeguard list."
        ),
    )
    contact = serializers.UUIDField(
        required=False, allow_null=True, help_text=_("User id of a member of the owner; default: the focal point.")
    )
    occupation_lines = OccupationLineSerializer(many=True)
    translations = TranslationSerializer(
        many=True,
        required=False,
        default=list,
        help_text=_(
            "The text in other languages; replaces every translation the listing had. The listing's own "
            "title, summary and description, in text_language, stay the authoritative text."
        ),
    )

    # --- field rules ---------------------------------------------------------------

    def validate_text_language(self, value: str) -> str:
        value = value.strip().lower()
        if value and not reference.language_exists(value):
            raise serializers.ValidationError(_("'%(code)s' is not an ISO 639-1 language code.") % {"code": value})
        return value

    def validate_currency(self, value: str) -> str:
        value = value.strip().upper()
        if value and not reference.currency_exists(value):
            raise serializers.ValidationError(_("'%(code)s' is not an ISO 4217 currency code.") % {"code": value})
        return value

    def validate_sectors(self, value: list[str]) -> list[str]:
        codes = [code.strip().upper() for code in value]
        unknown = [
            c
            for c in codes
            if not (reference.isic_exists(c, level="section") or reference.isic_exists(c, level="division"))
        ]
        if unknown:
            raise serializers.ValidationError(
                _("Not ISIC Rev.4 sections or divisions: %(codes)s.") % {"codes": ", ".join(unknown)}
            )
        return list(dict.fromkeys(codes))

    def validate_partner_countries(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def validate_occupation_lines(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not value:
            raise serializers.ValidationError(_("Give at least one occupation line."))
        if len(value) > 200:
            raise serializers.ValidationError(_("Give at most 200 occupation lines."))
        for line in value:
            if line.get("skill_level") is None:
                line["skill_level"] = derived_skill_level(line["isco_code"])
        return value

    def validate_translations(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        languages = [item["language"] for item in value]
        if len(languages) != len(set(languages)):
            raise serializers.ValidationError(_("Give each language one translation."))
        items = [
            {**item, "summary": item.get("summary", ""), "description": item.get("description", "")} for item in value
        ]
        return sorted(items, key=lambda item: item["language"])

    # --- rules across fields ----------------------------------------------------------

    @property
    def owner(self) -> Organisation:
        """Whose listing the body is for, which the rules across fields depend on.

        The listing's owner when editing one; ``context["owner"]`` when a body is checked
        for a listing without being an edit by someone acting for it (a pending revision
        re-validated as a moderator approves it); else the acting organisation, which
        is creating the listing (``context["actor"]``).
        """
        if self.instance is not None:
            return self.instance.owner
        if "owner" in self.context:
            return self.context["owner"]
        actor: Actor = self.context["actor"]
        assert actor.organisation is not None, "only an actor acting for an organisation posts listings"
        return actor.organisation

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        data = {**listing_write_data(self.instance), **attrs} if self.instance is not None else attrs
        owner = self.owner
        errors: dict[str, Any] = {}

        def fail(field: str, message: Any) -> None:
            errors.setdefault(field, []).append(message)

        if data["direction"] == Direction.DEMAND and not owner.is_destination:
            fail("direction", _("Only a destination government may post demand (a scheme offering places)."))
        if data["direction"] == Direction.SUPPLY and not owner.is_origin:
            fail("direction", _("Only an origin government may post supply (an offer of workers)."))
        if data["ends_on"] < data["starts_on"]:
            fail("ends_on", _("The window must end on or after the day it starts (starts_on)."))
        if data["application_deadline"] > data["ends_on"]:
            fail("application_deadline", _("The application deadline must not be after the window ends (ends_on)."))
        dmin, dmax = data.get("duration_months_min"), data.get("duration_months_max")
        if dmin is not None and dmax is not None and dmax < dmin:
            fail("duration_months_max", _("The longest duration must not be shorter than the shortest."))
        partners = data.get("partner_countries") or []
        if str(owner.country) in partners:
            fail(
                "partner_countries",
                _("The owner's own country (%(code)s) cannot be a partner.") % {"code": owner.country},
            )
        if data.get("visibility") == Visibility.PARTNERS and not partners:
            fail("visibility", _("'partners' visibility needs at least one partner country."))
        if data.get("wage_floor_monthly") is not None and not data.get("currency"):
            fail("currency", _("A wage floor needs its ISO 4217 currency."))
        self._check_allocations(data, partners, fail)
        consent = access.consent_needs_partners(
            data["direction"], bool(data.get("requires_origin_consent")), list(partners)
        )
        if consent:
            fail("requires_origin_consent", consent)
        max_stay, window = data.get("max_stay_months"), data.get("stay_window_months")
        if max_stay is not None and window is not None and max_stay > window:
            fail(
                "max_stay_months",
                _("The stay (max_stay_months) cannot be longer than its window (stay_window_months)."),
            )
        for override in data.get("stay_overrides") or []:
            if window is not None and override["max_stay_months"] > window:
                fail(
                    "stay_overrides",
                    _("%(country)s: a stay of %(months)s months is longer than the %(window)s-month window.")
                    % {"country": override["country"], "months": override["max_stay_months"], "window": window},
                )
        start, end = data.get("season_earliest_start"), data.get("season_latest_end")
        if start and end and end < start:
            fail("season_latest_end", _("The season must end (MM-DD) on or after it starts (season_earliest_start)."))
        hours, weeks = data.get("min_guaranteed_hours"), data.get("min_guaranteed_hours_weeks")
        if (hours is None) != (weeks is None):
            fail("min_guaranteed_hours_weeks", _("Give the guaranteed hours together with the weeks they fall within."))
        translations = data.get("translations") or []
        source = data.get("text_language") or ""
        if translations and not source:
            fail("text_language", _("Give the language of the text (text_language) before adding translations."))
        if any(item["language"] == source for item in translations):
            fail(
                "translations",
                _("'%(code)s' is the language of the authoritative text (text_language); it needs no translation.")
                % {"code": source},
            )
        contact = data.get("contact")
        if contact is not None and not _is_member(owner, contact):
            fail("contact", _("The contact must be a member of the owner organisation."))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    @staticmethod
    def _check_allocations(data: dict[str, Any], partners: list[str], fail: Any) -> None:
        allocations = data.get("allocations") or []
        cap = data.get("annual_cap")
        total = sum(a["places"] for a in allocations)
        if cap is not None and total > cap:
            fail(
                "allocations",
                _("The allocations add up to %(total)s places, above the annual cap of %(cap)s.")
                % {"total": total, "cap": cap},
            )
        if partners:
            outside = sorted({a["country"] for a in allocations} - set(partners))
            if outside:
                fail(
                    "allocations",
                    _("Allocations for countries that are not partners: %(codes)s.") % {"codes": ", ".join(outside)},
                )
        keys = [(a["country"], a.get("isco_code") or "") for a in allocations]
        if len(keys) != len(set(keys)):
            fail("allocations", _("Give each country (and occupation) one allocation."))


def _is_member(owner: Any, user_id: Any) -> bool:
    from accounts.models import Membership

    with unscoped("checking that the contact belongs to the listing's owner"):
        return Membership.objects.filter(organisation=owner, user_id=user_id).exists()


def listing_write_data(listing: Listing | None) -> dict[str, Any]:
    """The listing's current values in the validated shape of ``ListingWriteSerializer``."""
    if listing is None:
        return {}
    data = {
        name: getattr(listing, name)
        for name in WRITE_FIELDS
        if name not in ("occupation_lines", "contact", "translations")
    }
    data["contact"] = listing.contact_id
    data["occupation_lines"] = [
        {
            "isco_code": line.occupation_id,
            "quantity": line.quantity,
            "skill_level": line.skill_level,
            "min_experience_years": line.min_experience_years,
            "languages": list(line.languages),
            "qualification_notes": line.qualification_notes,
        }
        for line in listing.occupation_lines.all()
    ]
    data["translations"] = translation_dicts(listing)
    return data


WRITE_FIELDS = tuple(ListingWriteSerializer().fields)


def json_payload(data: dict[str, Any]) -> dict[str, Any]:
    """Validated data as JSON (dates as ISO strings, decimals as strings, ids as strings)."""

    def convert(value: Any) -> Any:
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if value is not None and not isinstance(value, str | int | float | bool):
            return str(value)
        return value

    return {key: convert(value) for key, value in data.items()}


def revision_changes(revision: ListingRevision) -> dict[str, Any]:
    """Field by field, what approving the revision would change: ``{field: {"from": ..., "to": ...}}``."""
    current = json_payload(listing_write_data(revision.listing))
    return {
        field: {"from": current.get(field), "to": value}
        for field, value in revision.data.items()
        if current.get(field) != value
    }


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
