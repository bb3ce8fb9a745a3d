"""The forms of the migration profile pages.

They collect and label what the user typed; the rules are the API's
(``exchange.api.profiles.ProfileWriteSerializer`` for a profile and its
narratives, ``exchange.profiles.inputs.ObservationInput`` for a figure), whose
errors ``exchange.web.forms.add_errors`` puts back on these fields. So the
fields here are deliberately loose (text, not numbers): a value the rules refuse
is refused once, with the API's words.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from exchange.models import ProfileVisibility
from exchange.models.profiles import TOTAL_AGE, Indicator, Sex


class ProfileCreateForm(forms.Form):
    year = forms.CharField(
        label=_("Reference year"),
        help_text=_("The year the profile describes, for example 2025."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "short", "autocomplete": "off"}),
    )
    visibility = forms.ChoiceField(
        label=_("Who may read it once published"),
        choices=ProfileVisibility.choices,
        widget=forms.RadioSelect,
        initial=ProfileVisibility.MEMBERS,
    )


class NarrativeForm(forms.Form):
    # dir="auto": a narrative in French reads left to right on an Arabic page, and the reverse.
    text = forms.CharField(
        label=_("Narrative"), required=False, widget=forms.Textarea(attrs={"rows": 10, "dir": "auto"})
    )
    language = forms.ChoiceField(
        label=_("Language of the narrative"),
        required=False,
        help_text=_("So that screen readers pronounce it and readers know what to expect."),
    )

    def __init__(self, *args: Any, part_label: Any, languages: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].label = part_label
        language = self.data.get("language") if self.is_bound else self.initial.get("language")
        if language:
            self.fields["text"].widget.attrs["lang"] = language
        cast(forms.ChoiceField, self.fields["language"]).choices = [("", _("Not stated")), *languages]


class FigureForm(forms.Form):
    """One figure of the part: which indicator, for whom, when, how much, according to whom."""

    indicator = forms.ChoiceField(label=_("Indicator"))
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, initial=Sex.TOTAL)
    age = forms.CharField(
        label=_("Age"),
        initial=TOTAL_AGE,
        help_text=_("_T for all ages, or a band such as Y15-24, Y_GE65 or Y_LT15."),
        widget=forms.TextInput(attrs={"class": "short", "autocomplete": "off"}),
    )
    time_period = forms.CharField(
        label=_("Year of the figure"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "short", "autocomplete": "off"}),
    )
    value = forms.CharField(
        label=_("Value"),
        help_text=_("In the indicator's unit; a full stop before decimals."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    source = forms.CharField(label=_("Source"), max_length=300)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, indicators: list[Indicator], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["indicator"]).choices = [
            (i.code, f"{i.name} ({i.get_unit_display()})") for i in indicators
        ]

    def api_data(self) -> dict[str, Any]:
        """The body ``ObservationInput`` validates (call after ``is_valid()``)."""
        return {name: self.cleaned_data.get(name, "") for name in self.fields}
