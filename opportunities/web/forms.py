"""Forms of the members' listing pages: the search filters and the listing form.

* ``ListingSearchFilter`` is the API's ``ListingFilter`` with the shared pickers
  (``OccupationField``, ``SectorField``, ``CountriesField``), labels and widgets
  for people; the filtering itself is the API's (its methods), so a search finds
  the same listings on the page, in the CSV and through ``GET /api/v1/listings/``.
* ``ListingEditor`` is the listing form: one main form, and three formsets
  (occupation lines with their languages, allocations per origin country, stay
  rules per country). It turns what was typed into the API's write body and
  validates it with ``ListingWriteSerializer``; the serializer's errors, nested
  ones included (``occupation_lines.1.quantity``), land on the field they name.
  Django fields here only read the input (types, pickers); the rules are the
  serializer's, so the page and the API say the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from accounts.models import User
from config.filters import StrictBooleanFilter
from config.forms import CountriesField, OccupationField, SectorField, sector_options
from config.web import flatten_errors
from opportunities.api.filters import ListingFilter
from opportunities.inputs import ListingWriteSerializer
from opportunities.models import (
    CefrLevel,
    Direction,
    Listing,
    ListingStatus,
    SchemeType,
    Visibility,
)
from opportunities.selectors import currency_list, language_list

# --- Widgets -------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    """A native date picker; the value travels as YYYY-MM-DD whatever the display."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def number_input(**attrs: Any) -> forms.NumberInput:
    return forms.NumberInput(attrs={"inputmode": "numeric", **attrs})


YES_NO_ANY = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]


# --- Reference choices (fixed at run time: the rows are read once per process) -----------

_reference: dict[str, list[tuple[str, str, str, str]]] = {}


def _rows(key: str, rows: Callable[[], QuerySet[Any]]) -> list[tuple[str, str, str, str]]:
    if key not in _reference:
        found = list(rows().values_list("code", "name_en", "name_fr", "name_es"))
        if not found:  # never cache an empty table (a call before the data migrations)
            return found
        _reference[key] = found
    return _reference[key]


def _names(rows: Iterable[tuple[str, str, str, str]]) -> list[tuple[str, str]]:
    """(code, name in the active language) for each reference row."""
    from opportunities.models import active_language

    column = {"en": 1, "fr": 2, "es": 3}[active_language()]
    return [(row[0], row[column] or row[1]) for row in rows]


def language_choices() -> list[tuple[str, str]]:
    """ISO 639-1 languages, named in the user's language ("Italian (it)"), sorted by name."""
    names = _names(_rows("languages", language_list))
    return sorted(((code, f"{name} ({code})") for code, name in names), key=lambda choice: choice[1].casefold())


def currency_choices() -> list[tuple[str, str]]:
    """ISO 4217 currencies, by code ("EUR — Euro")."""
    return [(code, f"{code} — {name}") for code, name in _names(_rows("currencies", currency_list))]


def country_choices(empty: str) -> list[tuple[str, str]]:
    return [("", empty), *countries]


# --- Search --------------------------------------------------------------------------------


class OccupationFilter(django_filters.CharFilter):
    field_class = OccupationField


class SectorFilter(django_filters.CharFilter):
    field_class = SectorField


class CountriesFilter(django_filters.Filter):
    field_class = CountriesField


class ListingSearchFilter(ListingFilter):
    """The API's filters (``opportunities.api.filters.ListingFilter``) with pickers for people.

    Countries are multiple choices here (``?owner_country=IT&owner_country=ES``): a
    single one is exactly the API's filter.
    """

    q = django_filters.CharFilter(
        method="filter_q",
        max_length=200,
        label=_("Search"),
        help_text=_("Words from the title or description, or an occupation, in English, French or Spanish."),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    direction = django_filters.ChoiceFilter(
        choices=Direction.choices, label=_("Direction"), empty_label=_("Demand and supply")
    )
    scheme_type = django_filters.ChoiceFilter(
        choices=SchemeType.choices, label=_("Scheme type"), empty_label=_("Any scheme type")
    )
    status = django_filters.ChoiceFilter(choices=ListingStatus.choices, label=_("Status"), empty_label=_("Any status"))
    mine = django_filters.BooleanFilter(
        method="filter_mine", label=_("Only my organisation's listings"), widget=forms.CheckboxInput
    )
    occupation = OccupationFilter(
        method="filter_occupation",
        label=_("Occupation (ISCO-08)"),
        help_text=_("Type a code or a word, e.g. 2221 or nurse. A group finds every occupation in it: 61 finds 6111."),
    )
    sector = SectorFilter(
        method="filter_sector",
        label=_("Sector (ISIC Rev.4)"),
        help_text=_("A section (a letter) or a division (two digits). A section also finds its divisions."),
    )
    owner_country = CountriesFilter(method="filter_owner_countries", label=_("Posted by governments of"))
    partner_country = CountriesFilter(
        method="filter_partner_countries",
        label=_("Open to workers or employers of"),
        help_text=_("Listings naming one of these countries as a partner, or open to every country."),
    )
    open = StrictBooleanFilter(
        method="filter_open",
        label=_("Applications"),
        widget=forms.Select(choices=[("", _("Open or closed")), ("true", _("Still open")), ("false", _("Closed"))]),
    )
    window_start = django_filters.DateFilter(method="filter_window", label=_("Window from"), widget=DateInput)
    window_end = django_filters.DateFilter(
        method="filter_window",
        label=_("Window until"),
        help_text=_("Listings whose window overlaps these dates."),
        widget=DateInput,
    )
    fair_recruitment = StrictBooleanFilter(
        field_name="fair_recruitment",
        label=_("Workers pay no recruitment fees"),
        widget=forms.Select(choices=YES_NO_ANY),
    )
    pension_portability = StrictBooleanFilter(
        field_name="pension_portability",
        label=_("Pension portability"),
        widget=forms.Select(choices=YES_NO_ANY),
    )
    ordering = ListingFilter.base_filters["ordering"].__class__(
        fields=["published_at", "application_deadline", "total_quantity"],
        field_labels={
            "published_at": _("Publication date"),
            "application_deadline": _("Application deadline"),
            "total_quantity": _("Number of places or workers"),
        },
        label=_("Sort by"),
        empty_label=_("Best match, then newest"),
    )

    ORDER = ("q", "mine", "direction", "scheme_type", "status", "occupation", "sector", "owner_country")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The form shows the filters in this order, the others after them.
        self.filters = {
            **{name: self.filters[name] for name in self.ORDER},
            **{name: f for name, f in self.filters.items() if name not in self.ORDER},
        }

    def filter_mine(self, qs: QuerySet[Listing], name: str, value: bool | None) -> QuerySet[Listing]:
        actor = getattr(self.request, "actor", None)
        if not value or actor is None or actor.organisation is None:
            return qs
        return qs.filter(owner=actor.organisation)

    def filter_owner_countries(self, qs: QuerySet[Listing], name: str, value: list[str]) -> QuerySet[Listing]:
        if not value:
            return qs
        if len(value) == 1:
            return self.filter_owner_country(qs, name, value[0])
        return qs.filter(owner_country__in=[self._country(name, code) for code in value])

    def filter_partner_countries(self, qs: QuerySet[Listing], name: str, value: list[str]) -> QuerySet[Listing]:
        if not value:
            return qs
        if len(value) == 1:
            return self.filter_partner_country(qs, name, value[0])
        # Open to any of them: the API's rule for one country, for each.
        condition = Q()
        for code in (self._country(name, code) for code in value):
            condition |= (Q(partner_countries__contains=[code]) | Q(partner_countries=[])) & ~Q(owner_country=code)
        return qs.filter(condition)

    @property
    def searched(self) -> bool:
        return any(value not in (None, "", [], False) for value in getattr(self.form, "cleaned_data", {}).values())


# --- The listing form ---------------------------------------------------------------------------

LANGUAGE_SLOTS = 3
SKILL_LEVELS = [
    ("", _("The occupation's usual level")),
    ("1", _("1: elementary tasks")),
    ("2", _("2: operating machines, clerical, sales, crafts")),
    ("3", _("3: technicians and associate professionals")),
    ("4", _("4: professionals and managers")),
]
CEFR_CHOICES = [("", _("Choose a level")), *CefrLevel.choices]
CONDITIONS = (
    "housing",
    "social_security_coverage",
    "pension_portability",
    "qualification_recognition",
    "pre_departure_training",
    "return_reintegration_support",
    "fair_recruitment",
    "equal_access_for_women",
    "circular",
)
# The same conditions as a listing's page states them (a checklist of yes and no).
CONDITION_LABELS: dict[str, Any] = {
    "housing": _("Housing provided"),
    "social_security_coverage": _("Social security coverage"),
    "pension_portability": _("Pension rights can be taken home"),
    "qualification_recognition": _("Qualifications recognised"),
    "pre_departure_training": _("Pre-departure training"),
    "return_reintegration_support": _("Return and reintegration support"),
    "fair_recruitment": _("Fair recruitment: workers pay no fees"),
    "equal_access_for_women": _("Equal access for women"),
    "circular": _("Circular: workers may return in later seasons"),
}


# ``required`` marks what the serializer requires (the label says "optional" otherwise).


def _text(
    label: Any, help_text: Any = "", *, maxlength: int | None = None, rows: int = 0, required: bool = False
) -> forms.CharField:
    attrs = {"maxlength": maxlength} if maxlength else {}
    widget = forms.Textarea(attrs={"rows": rows, **attrs}) if rows else forms.TextInput(attrs=attrs)
    return forms.CharField(label=label, help_text=help_text, required=required, strip=True, widget=widget)


def _number(
    label: Any, help_text: Any = "", *, low: int | None = None, high: int | None = None, required: bool = False
) -> forms.CharField:
    attrs = {key: value for key, value in (("min", low), ("max", high)) if value is not None}
    return forms.CharField(label=label, help_text=help_text, required=required, widget=number_input(**attrs))


def _date(label: Any, help_text: Any = "") -> forms.CharField:
    return forms.CharField(label=label, help_text=help_text, required=True, widget=DateInput)


def _month_day(label: Any, help_text: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 5, "placeholder": "MM-DD", "class": "short"}),
    )


def _check(label: Any, help_text: Any = "") -> forms.BooleanField:
    return forms.BooleanField(label=label, help_text=help_text, required=False)


class ListingForm(forms.Form):
    """The listing's own fields; its lists (lines, allocations, stay rules) are formsets."""

    # About the scheme
    direction = forms.ChoiceField(
        label=_("What are you posting?"),
        choices=Direction.choices,
        required=True,
        widget=forms.RadioSelect,
        help_text=_("Destination governments post demand; origin governments post supply."),
    )
    title = _text(
        _("Title"), _("A short name people will recognise, at most 200 characters."), maxlength=200, required=True
    )
    summary = _text(_("Summary"), _("One or two sentences shown in lists, at most 500 characters."), rows=2)
    description = _text(_("Description"), _("Everything else applicants' governments should know."), rows=6)
    scheme_type = forms.ChoiceField(
        label=_("Scheme type"), choices=[("", _("Choose a scheme type")), *SchemeType.choices], required=True
    )
    partner_countries = CountriesField(
        label=_("Partner countries"),
        help_text=_(
            "Leave empty to open the listing to every country. Your own country cannot be a partner. "
            "Hold Ctrl (Cmd on a Mac) to choose several."
        ),
    )
    sectors = forms.MultipleChoiceField(
        label=_("Sectors (ISIC Rev.4)"),
        choices=sector_options,
        required=False,
        help_text=_("Sections (letters) or divisions (two digits). Hold Ctrl (Cmd on a Mac) to choose several."),
    )
    # Quotas
    annual_cap = _number(
        _("Annual cap"), _("The most places or workers in a year. Allocations must not add up to more."), low=1
    )
    # Conditions
    housing = _check(_("Housing is provided"))
    social_security_coverage = _check(_("Workers are covered by social security"))
    pension_portability = _check(_("Pension rights can be taken home"))
    qualification_recognition = _check(_("Qualifications are recognised"))
    pre_departure_training = _check(_("Pre-departure training is offered"))
    return_reintegration_support = _check(_("Return and reintegration are supported"))
    fair_recruitment = _check(_("Fair recruitment: workers pay no recruitment fees"))
    equal_access_for_women = _check(_("Women have equal access"))
    circular = _check(_("Circular: workers may return and come back in later seasons"))
    wage_floor_monthly = forms.CharField(
        label=_("Minimum monthly wage"),
        help_text=_("Gross, per month, at least 0, with up to two decimals. Give its currency below."),
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "step": "0.01", "inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(
        label=_("Currency of the wage"),
        required=False,
        help_text=_("Needed when you give a minimum wage."),
    )
    min_guaranteed_hours = _number(
        _("Guaranteed hours"), _("At least this many paid hours, within the weeks given next."), low=1
    )
    min_guaranteed_hours_weeks = _number(
        _("Over how many weeks"), _("Give it together with the guaranteed hours (1 to 104)."), low=1, high=104
    )
    gender_target_percent = _number(_("Target share of women (%)"), _("A whole number from 0 to 100."), low=0, high=100)
    gender_provisions = _text(_("Provisions for women"), rows=3)
    conditions_notes = _text(_("Notes on conditions"), rows=3)
    # Languages
    text_language = forms.ChoiceField(
        label=_("Language of this text"),
        required=False,
        help_text=_("The language the title and description are written in."),
    )
    # Dates
    starts_on = _date(_("Window starts"), _("The first day workers can start."))
    ends_on = _date(_("Window ends"), _("On or after the day the window starts."))
    application_deadline = _date(_("Application deadline"), _("On or before the day the window ends."))
    season_earliest_start = _month_day(
        _("Season starts (every year)"), _("Month and day as MM-DD, for example 04-15 for 15 April.")
    )
    season_latest_end = _month_day(_("Season ends (every year)"), _("MM-DD, on or after the season starts."))
    duration_months_min = _number(_("Shortest contract (months)"), _("1 to 120 months."), low=1, high=120)
    duration_months_max = _number(
        _("Longest contract (months)"), _("1 to 120 months, not shorter than the shortest."), low=1, high=120
    )
    max_stay_months = _number(
        _("Longest stay (months)"), _("1 to 120 months, not longer than the stay window."), low=1, high=120
    )
    stay_window_months = _number(
        _("Stay window (months)"), _("The period the longest stay is counted over, e.g. 12."), low=1, high=120
    )
    lead_time_weeks = _number(
        _("Lead time (weeks)"), _("How long recruitment takes before work starts, 0 to 520 weeks."), low=0, high=520
    )
    # Contact and visibility
    contact = forms.ChoiceField(
        label=_("Contact person"),
        required=False,
        help_text=_("A member of your organisation. Leave it to use your organisation's focal point."),
    )
    visibility = forms.ChoiceField(
        label=_("Who can see the listing once published"),
        choices=Visibility.choices,
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Partner countries only needs at least one partner country."),
    )

    SECTIONS: tuple[tuple[str, Any, Any, tuple[str, ...], str | None], ...] = (
        (
            "about",
            _("About the scheme"),
            "",
            ("direction", "title", "summary", "description", "scheme_type", "partner_countries", "sectors"),
            None,
        ),
        (
            "occupations",
            _("Occupations"),
            _(
                "Each line is one occupation with how many places (demand) or workers (supply). "
                "Give at least one line. Rows left empty are ignored."
            ),
            (),
            "lines",
        ),
        (
            "quotas",
            _("Quotas and allocations"),
            _("Optional. Allocations share places among origin countries; they must be partner countries, if any."),
            ("annual_cap",),
            "allocations",
        ),
        ("conditions", _("Conditions"), _("Tick each condition the scheme guarantees."), (*CONDITIONS,), None),
        (
            "pay",
            _("Pay and hours"),
            "",
            (
                "wage_floor_monthly",
                "currency",
                "min_guaranteed_hours",
                "min_guaranteed_hours_weeks",
                "gender_target_percent",
                "gender_provisions",
                "conditions_notes",
            ),
            None,
        ),
        (
            "languages",
            _("Languages"),
            _("The languages each occupation needs (or workers speak) are given on the occupation lines above."),
            ("text_language",),
            None,
        ),
        (
            "dates",
            _("Dates"),
            "",
            (
                "starts_on",
                "ends_on",
                "application_deadline",
                "season_earliest_start",
                "season_latest_end",
                "duration_months_min",
                "duration_months_max",
                "lead_time_weeks",
            ),
            None,
        ),
        (
            "stays",
            _("Stay rules"),
            _("Optional. How long workers may stay; a country can have a shorter limit."),
            ("max_stay_months", "stay_window_months"),
            "stays",
        ),
        ("contact", _("Contact and visibility"), "", ("contact", "visibility"), None),
    )

    def __init__(self, *args: Any, contacts: Iterable[User] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [("", _("Choose a currency")), *currency_choices()]
        self.fields["text_language"].choices = [("", _("Choose a language")), *language_choices()]
        self.fields["contact"].choices = [
            ("", _("Our focal point")),
            *((str(user.pk), user.full_name or user.email) for user in contacts),
        ]


class RowForm(forms.Form):
    """One row of a formset; ``LAYOUT`` puts its fields in lines (several on one line side by side)."""

    MAIN: tuple[str, ...] = ()
    LAYOUT: tuple[tuple[str, ...], ...] = ()

    def layout(self) -> list[list[forms.BoundField]]:
        return [[self[name] for name in line] for line in self.LAYOUT]


class OccupationLineForm(RowForm):
    isco_code = OccupationField(
        label=_("Occupation (ISCO-08)"),
        required=True,
        help_text=_("Type a code (e.g. 2221) or words (e.g. nurse) and choose a suggestion. 4 digits is best."),
    )
    quantity = _number(_("Quantity"), _("Places (demand) or workers (supply), at least 1."), low=1, required=True)
    skill_level = forms.ChoiceField(label=_("Skill level"), choices=SKILL_LEVELS, required=False)
    min_experience_years = _number(_("Years of experience"), _("The minimum, 0 to 60."), low=0, high=60)
    qualification_notes = _text(_("Qualifications"), rows=2)

    MAIN = ("isco_code", "quantity", "skill_level", "min_experience_years", "qualification_notes")
    LAYOUT = (("isco_code",), ("quantity", "skill_level", "min_experience_years"), ("qualification_notes",))

    def __init__(self, *args: Any, slots: int = LANGUAGE_SLOTS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        languages = [("", _("Choose a language")), *language_choices()]
        self.slots = slots
        for n in range(1, slots + 1):
            self.fields[f"language_{n}"] = forms.ChoiceField(
                label=_("Language %(n)s") % {"n": n}, choices=languages, required=False
            )
            self.fields[f"level_{n}"] = forms.ChoiceField(
                label=_("Level of language %(n)s") % {"n": n}, choices=CEFR_CHOICES, required=False
            )

    def language_pairs(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"language_{n}"], self[f"level_{n}"]) for n in range(1, self.slots + 1)]


class AllocationForm(RowForm):
    country = forms.ChoiceField(label=_("Origin country"))
    places = _number(_("Places"), _("At least 1."), low=1, required=True)
    isco_code = OccupationField(
        label=_("For one occupation only"), required=False, help_text=_("Optional: an ISCO-08 code.")
    )

    MAIN = ("country", "places", "isco_code")
    LAYOUT = (MAIN,)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = country_choices(str(_("Choose a country")))


class StayOverrideForm(RowForm):
    country = forms.ChoiceField(label=_("Country"))
    max_stay_months = _number(
        _("Longest stay (months)"), _("1 to 120, not longer than the stay window."), low=1, high=120, required=True
    )

    MAIN = ("country", "max_stay_months")
    LAYOUT = (MAIN,)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = country_choices(str(_("Choose a country")))


class RowFormSet(forms.BaseFormSet):
    """A formset whose rows can be added and removed, with or without JavaScript.

    Every row is an "extra" row (``INITIAL_FORMS`` is 0, even for rows shown with
    values): a row left empty is ignored rather than checked for required fields.
    """

    remove_label: Any = _("Remove this row when saving")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.extra = len(self.initial or [])

    def initial_form_count(self) -> int:
        return 0

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        form.fields["DELETE"].label = self.remove_label


class LineFormSet(RowFormSet):
    remove_label = _("Remove this occupation line when saving")


class AllocationFormSet(RowFormSet):
    remove_label = _("Remove this allocation when saving")


class StayFormSet(RowFormSet):
    remove_label = _("Remove this stay rule when saving")


def _formset(form: type[forms.Form], base: type[RowFormSet]) -> type[RowFormSet]:
    return forms.formset_factory(form, formset=base, extra=0, can_delete=True, max_num=200, absolute_max=200)


@dataclass(frozen=True)
class Group:
    """One formset of the listing form: its prefix, the serializer key, how a row is named."""

    prefix: str
    key: str
    formset: type[RowFormSet]
    row_label: Callable[[Any], str]
    add_name: str
    add_label: Any


GROUPS = (
    Group(
        "lines",
        "occupation_lines",
        _formset(OccupationLineForm, LineFormSet),
        lambda n: gettext("Occupation line %(n)s") % {"n": n},
        "add_line",
        _("Add another occupation line"),
    ),
    Group(
        "allocations",
        "allocations",
        _formset(AllocationForm, AllocationFormSet),
        lambda n: gettext("Allocation %(n)s") % {"n": n},
        "add_allocation",
        _("Add another allocation"),
    ),
    Group(
        "stays",
        "stay_overrides",
        _formset(StayOverrideForm, StayFormSet),
        lambda n: gettext("Stay rule %(n)s") % {"n": n},
        "add_stay",
        _("Add another stay rule"),
    ),
)
GROUP_BY_KEY = {group.key: group for group in GROUPS}
_LANGUAGE_FIELD = re.compile(r"^lines-\d+-language_(\d+)$")


def _raw(form: forms.Form, name: str) -> Any:
    """What was typed in a field, as the widget reads it (the form's data or its initial)."""
    bound = form[name]
    if form.is_bound:
        return bound.field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
    return bound.initial


def typed_values(form: forms.Form) -> dict[str, Any]:
    return {name: _raw(form, name) for name in form.fields if name != "DELETE"}


def _empty(value: Any) -> bool:
    return value in (None, "", [], False)


def _value(form: forms.Form, name: str) -> Any:
    """The cleaned value when the field read cleanly, else what was typed."""
    cleaned = getattr(form, "cleaned_data", {})
    return cleaned[name] if name in cleaned else _raw(form, name)


def _text_value(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _put(payload: dict[str, Any], serializer_field: Any, name: str, value: Any) -> None:
    """Empty values: required fields are left out ("This field is required."), nullable
    ones are ``null``, text is blank: the full form replaces every value it shows."""
    value = _text_value(value)
    if not _empty(value) or isinstance(value, bool | list):
        payload[name] = value
    elif serializer_field.required:
        return
    elif serializer_field.allow_null:
        payload[name] = None
    elif getattr(serializer_field, "allow_blank", False):
        payload[name] = ""


class ListingEditor:
    """The listing form with its formsets, from a request or from a listing's values."""

    def __init__(
        self,
        *,
        data: Any = None,
        initial: dict[str, Any] | None = None,
        rows: dict[str, list[dict[str, Any]]] | None = None,
        contacts: Iterable[User] = (),
        slots: int | None = None,
    ) -> None:
        self.contacts = list(contacts)
        self.bound = data is not None
        if slots is None:
            slots = self._slots(data, rows)
        self.slots = slots
        self.form = ListingForm(data, initial=initial, contacts=self.contacts)
        self.formsets: dict[str, RowFormSet] = {}
        for group in GROUPS:
            kwargs: dict[str, Any] = {"prefix": group.prefix}
            if group.prefix == "lines":
                kwargs["form_kwargs"] = {"slots": slots}
            if data is not None:
                self.formsets[group.prefix] = group.formset(data, **kwargs)
            else:
                self.formsets[group.prefix] = group.formset(initial=(rows or {}).get(group.prefix) or [], **kwargs)
        self.group_errors: dict[str, list[str]] = {group.prefix: [] for group in GROUPS}
        self.conflict = ""
        # payload index -> form, per group; and per line, payload language index -> slot number
        self._rows: dict[str, list[forms.Form]] = {}
        self._slots_used: dict[int, list[int]] = {}

    @staticmethod
    def _slots(data: Any, rows: dict[str, list[dict[str, Any]]] | None) -> int:
        count = LANGUAGE_SLOTS
        for key in data or {}:
            match = _LANGUAGE_FIELD.match(key)
            if match:
                count = max(count, int(match.group(1)))
        for row in (rows or {}).get("lines", []):
            for key in row:
                if key.startswith("language_"):
                    count = max(count, int(key.split("_")[1]))
        return count

    # --- Reading what was typed ----------------------------------------------------------------

    def live_forms(self, prefix: str) -> list[forms.Form]:
        """The rows that count: not removed, not left empty."""
        formset = self.formsets[prefix]
        return [
            form
            for form in formset.forms
            if not self.removed(form) and any(not _empty(_text_value(v)) for v in typed_values(form).values())
        ]

    @staticmethod
    def removed(form: forms.Form) -> bool:
        return "DELETE" in form.fields and form.is_bound and bool(_raw(form, "DELETE"))

    def payload(self) -> dict[str, Any]:
        """The API's write body, from what was typed (read after ``is_valid``)."""
        fields = ListingWriteSerializer().fields
        payload: dict[str, Any] = {}
        for name in ListingForm.base_fields:
            _put(payload, fields[name], name, _value(self.form, name))
        line_fields = fields["occupation_lines"].child.fields
        lines = []
        self._rows["lines"] = self.live_forms("lines")
        for index, form in enumerate(self._rows["lines"]):
            line: dict[str, Any] = {}
            for name in OccupationLineForm.MAIN:
                _put(line, line_fields[name], name, _value(form, name))
            languages, used = [], []
            for n in range(1, form.slots + 1):
                language, level = _value(form, f"language_{n}"), _value(form, f"level_{n}")
                if _empty(language) and _empty(level):
                    continue
                item = {key: value for key, value in (("language", language), ("level", level)) if value}
                languages.append(item)
                used.append(n)
            line["languages"] = languages
            self._slots_used[index] = used
            lines.append(line)
        payload["occupation_lines"] = lines
        for group in GROUPS[1:]:
            child_fields = fields[group.key].child.fields
            items = []
            self._rows[group.prefix] = self.live_forms(group.prefix)
            for form in self._rows[group.prefix]:
                item: dict[str, Any] = {}
                for name in form.MAIN:
                    _put(item, child_fields[name], name, _value(form, name))
                items.append(item)
            payload[group.key] = items
        return payload

    # --- Validation ----------------------------------------------------------------------------

    def validate(self, *, context: dict[str, Any], instance: Listing | None = None) -> ListingWriteSerializer | None:
        """Read the forms, then the serializer; ``None`` (and errors in place) when anything is wrong."""
        valid = self.form.is_valid()
        for prefix, formset in self.formsets.items():
            valid = formset.is_valid() and valid
            self.group_errors[prefix].extend(formset.non_form_errors())
        serializer = ListingWriteSerializer(instance, data=self.payload(), context=context)
        if not serializer.is_valid():
            self.add_errors(flatten_errors(serializer.errors))
            return None
        return serializer if valid else None

    def add_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            head, _dot, rest = key.partition(".")
            if head in GROUP_BY_KEY:
                self._add_row_error(GROUP_BY_KEY[head].prefix, rest, messages)
            elif head in self.form.fields:
                self._add(self.form, head, messages)
            else:
                self._add(self.form, None, messages)

    def _add_row_error(self, prefix: str, path: str, messages: list[str]) -> None:
        index, _dot, rest = path.partition(".")
        rows = self._rows.get(prefix, [])
        if not index.isdigit() or int(index) >= len(rows):
            self.group_errors[prefix].extend(messages)  # about the list as a whole
            return
        form = rows[int(index)]
        name, _dot, deeper = rest.partition(".")
        if prefix == "lines" and name == "languages":
            slots = self._slots_used.get(int(index), [])
            position, _dot, sub = deeper.partition(".")
            if position.isdigit() and int(position) < len(slots) and sub in ("language", "level"):
                self._add(form, f"{sub}_{slots[int(position)]}", messages)
            else:
                self._add(form, f"language_{slots[0] if slots else 1}", messages)
        elif name in form.fields:
            self._add(form, name, messages)
        else:
            self._add(form, None, messages)

    @staticmethod
    def _add(form: forms.Form, name: str | None, messages: list[str]) -> None:
        if name is not None and form.errors.get(name):
            return  # the field's own reading already says what is wrong
        for message in messages:
            form.add_error(name, message)

    # --- Showing --------------------------------------------------------------------------------

    def summary(self) -> list[tuple[str, str, str]]:
        """Every error as (anchor, label, message), in the order of the page."""
        if not self.bound:
            return []
        items: list[tuple[str, str, str]] = []
        form = self.form
        for message in form.non_field_errors():
            items.append(("", "", message))
        for _id, _legend, _hint, names, group_prefix in ListingForm.SECTIONS:
            for name in names:
                for message in form[name].errors:
                    items.append((_anchor(form[name]), str(form[name].label), message))
            if group_prefix:
                items.extend(self._group_summary(group_prefix))
        return items

    def _group_summary(self, prefix: str) -> list[tuple[str, str, str]]:
        group = next(g for g in GROUPS if g.prefix == prefix)
        formset = self.formsets[prefix]
        items = [(f"{prefix}-group", str(_group_legend(prefix)), message) for message in self.group_errors[prefix]]
        for number, form in enumerate(formset.forms, start=1):
            if self.removed(form) or not form.errors:
                continue
            first = next(iter(form.fields))
            for message in form.non_field_errors():
                items.append((_anchor(form[first]), group.row_label(number), message))
            for name in form.fields:
                for message in form[name].errors:
                    label = gettext("%(row)s, %(field)s") % {"row": group.row_label(number), "field": form[name].label}
                    items.append((_anchor(form[name]), label, message))
        return items

    def sections(self) -> list[dict[str, Any]]:
        out = []
        for section_id, legend, hint, names, group_prefix in ListingForm.SECTIONS:
            section: dict[str, Any] = {
                "id": section_id,
                "legend": legend,
                "hint": hint,
                "fields": [self.form[name] for name in names],
                "checkboxes": section_id == "conditions",
            }
            if group_prefix:
                group = next(g for g in GROUPS if g.prefix == group_prefix)
                formset = self.formsets[group_prefix]
                section["group"] = {
                    "prefix": group_prefix,
                    "formset": formset,
                    "rows": [
                        {"form": form, "number": n, "label": group.row_label(n), "removed": self.removed(form)}
                        for n, form in enumerate(formset.forms, start=1)
                    ],
                    "template_label": group.row_label("__number__"),
                    "empty_form": formset.empty_form,
                    "errors": self.group_errors[group_prefix],
                    "add_name": group.add_name,
                    "add_label": group.add_label,
                    "legend": _group_legend(group_prefix),
                }
            out.append(section)
        return out

    # --- Rows added or removed without saving -------------------------------------------------------

    def rebuilt(self, *, add: str | None = None, remove: str | None = None) -> ListingEditor:
        """The same form, unbound, with what was typed, one row more (``add``) or less (``remove``)."""
        rows: dict[str, list[dict[str, Any]]] = {}
        for prefix, formset in self.formsets.items():
            rows[prefix] = [
                typed_values(form) for form in formset.forms if not self.removed(form) and form.prefix != remove
            ]
            if prefix == add or (prefix == "lines" and not rows[prefix]):
                rows[prefix].append({})
        editor = ListingEditor(initial=typed_values(self.form), rows=rows, contacts=self.contacts, slots=self.slots)
        if add:
            new = editor.formsets[add].forms[-1]
            new.fields[next(iter(new.fields))].widget.attrs["autofocus"] = True
        return editor


def _anchor(bound: forms.BoundField) -> str:
    widget = bound.field.widget
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return f"{bound.auto_id}_0"
    return bound.id_for_label


def _group_legend(prefix: str) -> Any:
    return {
        "lines": _("Occupation lines"),
        "allocations": _("Allocations per origin country"),
        "stays": _("Shorter stays for some countries"),
    }[prefix]


def initial_from(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """The form's initial values from a write body (``listing_write_data`` or a revision's JSON)."""
    initial = {name: data.get(name) for name in ListingForm.base_fields if name in data}
    for name, value in list(initial.items()):
        if value is None:
            initial[name] = ""
        elif name == "contact" or not isinstance(value, bool | list | str):
            initial[name] = str(value)
    lines = []
    for line in data.get("occupation_lines") or []:
        row = {
            "isco_code": line.get("isco_code") or "",
            "quantity": line.get("quantity") or "",
            "skill_level": str(line.get("skill_level") or ""),
            "min_experience_years": "" if line.get("min_experience_years") is None else line["min_experience_years"],
            "qualification_notes": line.get("qualification_notes") or "",
        }
        for n, item in enumerate(line.get("languages") or [], start=1):
            row[f"language_{n}"] = item.get("language", "")
            row[f"level_{n}"] = item.get("level", "")
        lines.append(row)
    allocations = [
        {"country": a.get("country", ""), "places": a.get("places", ""), "isco_code": a.get("isco_code") or ""}
        for a in data.get("allocations") or []
    ]
    stays = [
        {"country": s.get("country", ""), "max_stay_months": s.get("max_stay_months", "")}
        for s in data.get("stay_overrides") or []
    ]
    return initial, {"lines": lines, "allocations": allocations, "stays": stays}


class ReasonForm(forms.Form):
    """The reason recorded with a workflow step (the API's ``ReasonSerializer`` checks its length)."""

    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional. It is kept in the listing's history, which partners can read."),
    )

    def __init__(self, *args: Any, required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if required:
            self.fields["reason"].required = True
            self.fields["reason"].help_text = _("Say why. It is kept in the listing's history.")
