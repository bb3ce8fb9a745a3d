"""Forms of the match, dialogue and partnership pages.

The forms render the fields and check their shape (a date is a date, a choice is
one of the choices). The rules themselves are the API's: the views feed the
cleaned data to the API's serializer and then to the service, and put any error
either raises back on the form with ``add_errors``, next to the field it names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError as DrfValidationError

from config.web import flatten_errors
from exchange.models import DocumentType, MatchState, PartnershipKind, PartnershipStatus
from exchange.partnerships.documents import DOCUMENT_TYPES


def add_errors(form: forms.Form, errors: Any) -> None:
    """Put a serializer's or a service's errors on the form, each on the field it names.

    ``errors`` is a DRF ``errors``/``detail`` structure, a Django ``ValidationError``
    or a dict of lists; ``"members.0"`` lands on ``members``, unknown keys on the form.
    """
    if isinstance(errors, DjangoValidationError):
        errors = errors.message_dict if hasattr(errors, "error_dict") else {"__all__": errors.messages}
    elif isinstance(errors, DrfValidationError):
        errors = errors.detail
    for key, messages in flatten_errors(errors).items():
        field = key.split(".")[0]
        target = field if field in form.fields else None
        for message in messages:
            if target is not None and target in form.errors and message in form.errors[target]:
                continue
            form.add_error(target, message)


# --- Matches ---------------------------------------------------------------------------


class MatchFilterForm(forms.Form):
    """The filters of the match list: one of my listings, a state, new or unread only, the order."""

    SORTS = (
        ("score", _("Best score first")),
        ("newest", _("Newest first")),
        ("activity", _("Latest activity first")),
    )
    SHOW = (
        ("", _("All matches")),
        ("new", _("New: not opened yet")),
        ("unread", _("With unread messages")),
    )

    listing = forms.ChoiceField(label=_("Your listing"), required=False)
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("Any state")), *MatchState.choices])
    show = forms.ChoiceField(label=_("Show"), required=False, choices=SHOW)
    sort = forms.ChoiceField(label=_("Order"), required=False, choices=SORTS)

    def __init__(self, *args: Any, listings: Iterable[tuple[Any, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["listing"]).choices = [
            ("", _("All your listings")),
            *((str(pk), title) for pk, title in listings),
        ]


class MessageForm(forms.Form):
    """A message in the dialogue (the API's ``MessageCreateSerializer`` checks it again)."""

    message = forms.CharField(
        label=_("Your message"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Both governments read the thread. Up to 10,000 characters."),
    )

    def __init__(self, *args: Any, label: Any = None, prefix_id: str = "", **kwargs: Any) -> None:
        if prefix_id:
            kwargs.setdefault("auto_id", f"{prefix_id}-%s")
        super().__init__(*args, **kwargs)
        if label is not None:
            self.fields["message"].label = label


class DecisionForm(forms.Form):
    """The optional reason given with an acceptance or a refusal (``DecisionSerializer``)."""

    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown to the other government with the decision."),
    )


# --- Partnerships ------------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", attrs={"class": "short"}, **kwargs)


class PartnershipForm(forms.Form):
    """Create or edit a partnership. ``members`` invites governments; on the edit page
    it lists only governments that are not members yet (a member leaves on its own)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind of agreement"), choices=[("", _("Choose a kind")), *PartnershipKind.choices])
    members = forms.MultipleChoiceField(
        label=_("Partner governments"),
        help_text=_(
            "Each government is invited and confirms for itself. Hold Ctrl (Cmd on a Mac) to choose several; "
            "type a country's first letters to jump to it."
        ),
    )
    status = forms.ChoiceField(label=_("Status"), choices=PartnershipStatus.choices)
    signed_on = forms.DateField(label=_("Signed on"), required=False, widget=DateInput())
    in_force_from = forms.DateField(label=_("In force from"), required=False, widget=DateInput())
    ends_on = forms.DateField(label=_("Ends on"), required=False, widget=DateInput())
    public = forms.BooleanField(
        label=_("Public once in force: every signed-in organisation may read it (documents stay members-only)"),
        required=False,
    )
    listings = forms.MultipleChoiceField(
        label=_("Listings grouped under the partnership"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Listings you can read, posted by a member government."),
    )
    matches = forms.MultipleChoiceField(
        label=_("Agreed matches grouped under the partnership"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Agreed matches between two member governments."),
    )

    def __init__(
        self,
        *args: Any,
        governments: Iterable[tuple[Any, str]] = (),
        listings: Iterable[tuple[Any, str]] = (),
        matches: Iterable[tuple[Any, str]] = (),
        statuses: Iterable[tuple[str, Any]] | None = None,
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["members"]).choices = [(str(pk), label) for pk, label in governments]
        cast(forms.ChoiceField, self.fields["listings"]).choices = [(str(pk), label) for pk, label in listings]
        cast(forms.ChoiceField, self.fields["matches"]).choices = [(str(pk), label) for pk, label in matches]
        if statuses is not None:
            cast(forms.ChoiceField, self.fields["status"]).choices = list(statuses)
        if editing:
            members = cast(forms.ChoiceField, self.fields["members"])
            members.required = False
            members.label = _("Invite more governments")
            if not members.choices:
                del self.fields["members"]
        if not cast(forms.ChoiceField, self.fields["matches"]).choices:
            del self.fields["matches"]

    def api_data(self) -> dict[str, Any]:
        """The cleaned data as the API's request body."""
        data = dict(self.cleaned_data)
        for key in ("signed_on", "in_force_from", "ends_on"):
            data[key] = data[key].isoformat() if data.get(key) else None
        data.setdefault("matches", [])
        data.setdefault("members", [])
        return data


class DocumentUploadForm(forms.Form):
    """A document for the partnership's members; the service checks type, content and size."""

    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, DOCX, ODT, PNG or JPEG. Its content is checked, not only its name."),
        widget=forms.FileInput(attrs={"accept": ",".join(DOCUMENT_TYPES)}),
    )
    document_type = forms.ChoiceField(label=_("Type of document"), choices=DocumentType.choices)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
