"""Forms of a partnership's agreement and joint committee (the sections of its page).

As everywhere on the pages: the form checks shapes, the API's serializer and the
service check the rules (``exchange.partnerships.agreements``), and their errors come
back next to the field they name (``exchange.web.forms.add_errors``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from exchange.partnerships.documents import DOCUMENT_TYPES


class _DateInput(forms.DateInput):
    input_type = "date"


class AgreementForm(forms.Form):
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Shown to every reader once the partnership is public and in force, as ILO fair-recruitment "
            "guideline 13.1 asks: say who may go, to do what, on which terms."
        ),
    )
    text = forms.CharField(
        label=_("Signed text"),
        required=False,
        max_length=500_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Members only. You can also upload the signed text as a document."),
    )
    review_on = forms.DateField(
        label=_("Review date"),
        required=False,
        widget=_DateInput,
        help_text=_("The member governments' administrators are reminded before it falls due."),
    )
    named_parties = forms.CharField(
        label=_("Other parties"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line: parties that are not member governments here. The members are parties anyway."),
    )

    def api_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["review_on"] = data["review_on"].isoformat() if data.get("review_on") else None
        data["named_parties"] = [
            line.strip() for line in (data.get("named_parties") or "").splitlines() if line.strip()
        ]
        return data


class CommitteeMemberForm(forms.Form):
    name = forms.CharField(label=_("Name of the committee member"), max_length=200)
    organisation = forms.ChoiceField(label=_("Government they represent"))
    role = forms.CharField(label=_("Role on the committee"), max_length=200, required=False)

    def __init__(self, *args: Any, organisations: list[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [("", "—"), *organisations]  # type: ignore[attr-defined]  # a ChoiceField


class CommitteeMeetingForm(forms.Form):
    held_on = forms.DateField(label=_("Date of the meeting"), widget=_DateInput)
    title = forms.CharField(label=_("Subject of the meeting"), max_length=200, required=False)
    minutes_file = forms.FileField(
        label=_("Minutes"),
        required=False,
        help_text=_("PDF, DOCX, ODT, PNG or JPEG; kept among the documents, for members only."),
        widget=forms.FileInput(attrs={"accept": ",".join(DOCUMENT_TYPES)}),
    )


class CommitteeDecisionForm(forms.Form):
    decided_on = forms.DateField(label=_("Date of the decision"), widget=_DateInput)
    text = forms.CharField(label=_("Decision"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 3}))
    listings = forms.MultipleChoiceField(
        label=_("Schemes it changes"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Among the listings grouped under the partnership."),
    )

    def __init__(self, *args: Any, listings: list[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["listings"].choices = listings  # type: ignore[attr-defined]  # a MultipleChoiceField
