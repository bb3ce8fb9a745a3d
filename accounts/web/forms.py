"""Forms of the organisation settings pages.

They render the fields (labels, hints, errors through ``components/field.html``) but
do not validate: the API's serializers and the services do, so a rule is written
once and says the same thing on both. ``ExternalErrorsForm`` shows the errors they
report next to the fields they name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Organisation, Role
from config.web import flatten_errors


def role_choices(organisation: Organisation) -> list[tuple[str, Any]]:
    """The roles a member of this kind of organisation can have, with their names."""
    labels = dict(Role.choices)
    return [(role, labels[role]) for role in organisation.valid_roles]


def errors_of(exc: Any) -> dict[str, list[str]]:
    """A DRF serializer's errors or a service's ``ValidationError`` as ``{field: [messages]}``."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return {field: [str(m) for m in ValidationError(errs).messages] for field, errs in exc.error_dict.items()}
        return {"__all__": [str(m) for m in exc.messages]}
    return flatten_errors(exc)


class ExternalErrorsForm(forms.Form):
    """Renders its fields and shows errors found elsewhere (``errors={field: [messages]}``)."""

    def __init__(self, *args: Any, errors: Mapping[str, Iterable[str]] | None = None, **kwargs: Any) -> None:
        self.external_errors = dict(errors or {})
        super().__init__(*args, **kwargs)

    def full_clean(self) -> None:
        self._errors = ErrorDict()
        self.cleaned_data: dict[str, Any] = {}
        for field, messages in self.external_errors.items():
            self.add_error(field if field in self.fields else None, list(messages))


class InvitationForm(ExternalErrorsForm):
    email = forms.CharField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        days = settings.INVITATION_TTL_DAYS
        self.fields["email"].help_text = ngettext(
            "Their work address. The invitation link is sent there; it works once, for %(days)s day.",
            "Their work address. The invitation link is sent there; it works once, for %(days)s days.",
            days,
        ) % {"days": days}
        cast(forms.ChoiceField, self.fields["role"]).choices = role_choices(organisation)
        self.fields["role"].help_text = _(
            "Administrators manage members and settings; officials and moderators do the work; "
            "viewers can read but not change anything."
        )


class TokenForm(ExternalErrorsForm):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What the token is for, so you can tell it apart later, for example “Ministry HR system”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class FocalPointForm(ExternalErrorsForm):
    focal_point = forms.ChoiceField(
        label=_("Focal point"),
        help_text=_("The member other organisations and the agencies contact about your listings."),
    )

    def __init__(self, *args: Any, members: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["focal_point"]).choices = [
            (str(m.user_id), f"{m.user.full_name} ({m.user.email})" if m.user.full_name else m.user.email)
            for m in members
        ]


class TwoFactorRuleForm(forms.Form):
    """The confirmation step's hidden value: the state asked for ("true"/"false"), not a toggle."""

    require_two_factor = forms.CharField(widget=forms.HiddenInput)


class TransferForm(ExternalErrorsForm):
    """Removing a member: who takes over what they own (``accounts.access.transfer_targets``)."""

    transfer_to = forms.ChoiceField(
        label=_("Transfer what they own to"),
        help_text=_(
            "Another official or administrator of your organisation. Everything listed above becomes theirs: "
            "they become the contact of the listings, receive the alerts, and lead the partnerships."
        ),
    )

    def __init__(self, *args: Any, targets: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["transfer_to"]).choices = [
            ("", _("Choose a member")),
            *(
                (str(m.user_id), f"{m.user.full_name} ({m.user.email})" if m.user.full_name else m.user.email)
                for m in targets
            ),
        ]
