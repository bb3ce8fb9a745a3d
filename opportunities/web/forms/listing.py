"""The listing form's own fields (``ListingForm``), in the sections the page shows them in.

Django fields here only read the input (types, pickers); the rules are
``opportunities.inputs.ListingWriteSerializer``'s, so the page and the API say the
same thing. The listing's lists are the formsets of ``rows``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from config.forms import CountriesField, sector_options
from opportunities.models import Direction, SchemeType, Visibility
from opportunities.web.forms.fields import (
    check_field,
    currency_choices,
    date_field,
    language_choices,
    month_day_field,
    number_field,
    text_field,
)

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
    title = text_field(
        _("Title"), _("A short name people will recognise, at most 200 characters."), maxlength=200, required=True
    )
    summary = text_field(_("Summary"), _("One or two sentences shown in lists, at most 500 characters."), rows=2)
    description = text_field(_("Description"), _("Everything else applicants' governments should know."), rows=6)
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
    annual_cap = number_field(
        _("Annual cap"), _("The most places or workers in a year. Allocations must not add up to more."), low=1
    )
    # Conditions
    housing = check_field(_("Housing is provided"))
    social_security_coverage = check_field(_("Workers are covered by social security"))
    pension_portability = check_field(_("Pension rights can be taken home"))
    qualification_recognition = check_field(_("Qualifications are recognised"))
    pre_departure_training = check_field(_("Pre-departure training is offered"))
    return_reintegration_support = check_field(_("Return and reintegration are supported"))
    fair_recruitment = check_field(_("Fair recruitment: workers pay no recruitment fees"))
    equal_access_for_women = check_field(_("Women have equal access"))
    circular = check_field(_("Circular: workers may return and come back in later seasons"))
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
    min_guaranteed_hours = number_field(
        _("Guaranteed hours"), _("At least this many paid hours, within the weeks given next."), low=1
    )
    min_guaranteed_hours_weeks = number_field(
        _("Over how many weeks"), _("Give it together with the guaranteed hours (1 to 104)."), low=1, high=104
    )
    gender_target_percent = number_field(
        _("Target share of women (%)"), _("A whole number from 0 to 100."), low=0, high=100
    )
    gender_provisions = text_field(_("Provisions for women"), rows=3)
    conditions_notes = text_field(_("Notes on conditions"), rows=3)
    # Languages
    text_language = forms.ChoiceField(
        label=_("Language of this text"),
        required=False,
        help_text=_("The language the title and description are written in."),
    )
    # Dates
    starts_on = date_field(_("Window starts"), _("The first day workers can start."))
    ends_on = date_field(_("Window ends"), _("On or after the day the window starts."))
    application_deadline = date_field(_("Application deadline"), _("On or before the day the window ends."))
    season_earliest_start = month_day_field(
        _("Season starts (every year)"), _("Month and day as MM-DD, for example 04-15 for 15 April.")
    )
    season_latest_end = month_day_field(_("Season ends (every year)"), _("MM-DD, on or after the season starts."))
    duration_months_min = number_field(_("Shortest contract (months)"), _("1 to 120 months."), low=1, high=120)
    duration_months_max = number_field(
        _("Longest contract (months)"), _("1 to 120 months, not shorter than the shortest."), low=1, high=120
    )
    max_stay_months = number_field(
        _("Longest stay (months)"), _("1 to 120 months, not longer than the stay window."), low=1, high=120
    )
    stay_window_months = number_field(
        _("Stay window (months)"), _("The period the longest stay is counted over, e.g. 12."), low=1, high=120
    )
    lead_time_weeks = number_field(
        _("Lead time (weeks)"), _("How long recruitment takes before work starts, 0 to 520 weeks."), low=0, high=520
    )
    # Safeguards (issue [12]; docs/governance.md, "Safeguards")
    requires_origin_consent = check_field(
        _("Recruit from each partner country only with its government's agreement"),
        _(
            "Demand only, with partner countries. When the listing is published, each partner country's "
            "government is asked; a country is admitted (sees the listing, is matched, gets alerts) once it "
            "accepts, as in Germany's Triple Win programme."
        ),
    )
    government_agreement = forms.CharField(
        label=_("Government-to-government agreement"),
        required=False,
        max_length=300,
        help_text=_(
            "The agreement the recruitment follows, e.g. its title and date. Required to publish a listing "
            "recruiting health workers (ISCO-08 22 or 32) from a country on the WHO health workforce "
            "safeguard list."
        ),
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
            _(
                "The languages each occupation needs (or workers speak) are given on the occupation lines above. "
                "The title, summary and description above, in the language of the text, are the authoritative "
                "text. Optional: give them in the site's other languages (English, French, Spanish, Arabic) as "
                "translations; readers see their own language, with a note and a link to the authoritative text. "
                "Translations of a published listing are moderated like the rest of its text."
            ),
            ("text_language",),
            "translations",
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
        (
            "safeguards",
            _("Safeguards"),
            _("Optional, for schemes recruiting under an agreement with the origin governments."),
            ("requires_origin_consent", "government_agreement"),
            None,
        ),
        ("contact", _("Contact and visibility"), "", ("contact", "visibility"), None),
    )

    def __init__(self, *args: Any, contacts: Iterable[User] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["currency"]).choices = [("", _("Choose a currency")), *currency_choices()]
        cast(forms.ChoiceField, self.fields["text_language"]).choices = [
            ("", _("Choose a language")),
            *language_choices(),
        ]
        cast(forms.ChoiceField, self.fields["contact"]).choices = [
            ("", _("Our focal point")),
            *((str(user.pk), user.full_name or user.email) for user in contacts),
        ]
