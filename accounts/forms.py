"""Forms for the server-rendered account pages. They validate; services write."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from config.forms import AutocompleteInput

BAD_CREDENTIALS = _("Enter a correct e-mail address and password.")


class SignInForm(forms.Form):
    """E-mail and password. ``authenticate`` gets the request so django-axes counts failures."""

    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user: User | None = None
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        email = (cleaned.get("email") or "").strip().lower()
        password = cleaned.get("password")
        if self.errors or not (email and password):
            return cleaned
        # ``email=`` (the user model's USERNAME_FIELD) is the key axes reads, see
        # AXES_USERNAME_FORM_FIELD in settings. Passing the request lets axes count.
        self.user = authenticate(self.request, email=email, password=password)
        if self.user is None:
            raise forms.ValidationError(BAD_CREDENTIALS, code="invalid_login")
        return cleaned


class CodeForm(forms.Form):
    """A six-digit code from an authenticator app."""

    code = forms.CharField(
        label=_("Six-digit code"),
        help_text=_(
            "Open the authenticator app on your phone (for example FreeOTP, Google Authenticator or "
            "Microsoft Authenticator) and type the code it shows for Corridor. A new code appears every 30 seconds."
        ),
        min_length=6,
        max_length=7,  # allows "123 456"
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("Enter the six digits shown in your authenticator app."))
        return code


class InvitationSignUpForm(forms.Form):
    """An invited newcomer chooses their name and password."""

    full_name = forms.CharField(
        label=_("Full name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        self.email = email
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords do not match."))
        elif p1:
            try:
                password_validation.validate_password(
                    p1, User(email=self.email, full_name=cleaned.get("full_name", ""))
                )
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


# Regions whose zones are suggested; the field accepts any name zoneinfo knows (as the API does).
_SUGGESTED_REGIONS = ("Africa/", "America/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/", "Pacific/")


def time_zone_suggestions() -> list[tuple[str, str]]:
    names = sorted(name for name in zoneinfo.available_timezones() if name.startswith(_SUGGESTED_REGIONS))
    return [("UTC", "UTC"), *((name, name) for name in names)]


def _language_choices() -> list[tuple[str, str]]:
    """The languages in their own names ("Français"), as in the header's chooser."""
    choices: list[tuple[str, Any]] = [("", _("Follow my browser"))]
    for code, _name in settings.LANGUAGES:
        choices.append((code, get_language_info(code)["name_local"].capitalize()))
    return choices


class ProfileForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        required=False,
        help_text=_("Shown to the other members of your organisations and in the history of what you change."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=_language_choices,
        required=False,
        help_text=_(
            "The language of the pages and of the e-mails Corridor sends you. "
            "“Follow my browser” uses the language your web browser asks for."
        ),
    )
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        help_text=_("Dates and times are shown in this zone. Start typing a city, for example Rome or Casablanca."),
        widget=AutocompleteInput(options=time_zone_suggestions),
    )

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"].strip()
        if value not in zoneinfo.available_timezones():
            raise forms.ValidationError(
                _("Choose a time zone from the suggestions, written as Region/City, for example Europe/Rome.")
            )
        return value


class PasswordResetRequestForm(PasswordResetForm):
    """Django's form (one e-mail per matching account, nothing said otherwise) with our wording."""

    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("The address you sign in with."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        """Owe the reset e-mail through the e-mail outbox instead of sending it in the request.

        The key holds the user and the token (which changes every second and with the
        password), so a request retried at once does not e-mail twice and SMTP being down
        never fails the page.
        """
        from django.template import loader

        from accounts.mail import email_enqueue

        subject = loader.render_to_string(subject_template_name, context)
        body = loader.render_to_string(email_template_name, context)
        html = loader.render_to_string(html_email_template_name, context) if html_email_template_name else ""
        email_enqueue(
            key=f"password-reset:{context['user'].pk}:{context['token']}",
            to=to_email,
            subject=subject,
            body=body,
            html=html,
        )


class OrganisationSwitchForm(forms.Form):
    organisation = forms.UUIDField(label=_("Organisation"))
    next = forms.CharField(required=False)
