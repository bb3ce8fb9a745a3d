"""Forms of the alert pages: a subscription (saved search) with its channels, and the delivery-log filters.

The subscription form only parses what the browser sends (the shared pickers of
``config.forms`` turn typed text into codes); the rules themselves are the API's:
the view feeds the payload built here to ``SubscriptionInputSerializer`` and then to
``exchange.notifications.services.subscription_create`` / ``subscription_update``,
and shows their errors on the fields they name (``errors_by_field``).

Occupations and sectors are small formsets (one picker per row). With JavaScript,
``corridor.js`` adds and removes rows in place; without it the "add" and "remove"
buttons submit the form and the page comes back with the rows changed, nothing saved.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

from django import forms
from django.http import QueryDict
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.forms import CountriesField, OccupationField, SectorField
from exchange.models import ChannelType, DeliveryStatus, Frequency, Subscription
from exchange.notifications.services import MAX_FILTER_VALUES
from opportunities.models import Direction, SchemeType

OCCUPATIONS = "occupations"
SECTORS = "sectors"
GROUPS = (OCCUPATIONS, SECTORS, "channels")
# Service field name → where the page shows its errors (a form field or a group).
SERVICE_FIELDS = {
    "isco_prefixes": OCCUPATIONS,
    "sectors": SECTORS,
    "channels": "channels",
}


class _HiddenCheckbox(forms.CheckboxInput):
    """The formset's DELETE box: corridor.js ticks it when a row is removed in place."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"hidden": True, **(attrs or {})})


class _CodeFormSet(forms.BaseFormSet):
    deletion_widget = _HiddenCheckbox

    def codes(self) -> list[str]:
        """The chosen codes, in order, without removed or empty rows and without repeats."""
        values = (
            form.cleaned_data.get("code", "")
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        )
        return list(dict.fromkeys(value for value in values if value))


class OccupationRowForm(forms.Form):
    code = OccupationField(label=gettext_lazy("Occupation (ISCO-08)"), required=False)


class SectorRowForm(forms.Form):
    code = SectorField(label=gettext_lazy("Sector (ISIC Rev.4)"), required=False)


OccupationFormSet = forms.formset_factory(
    OccupationRowForm,
    formset=_CodeFormSet,
    extra=0,
    can_delete=True,
    max_num=MAX_FILTER_VALUES,
    validate_max=True,
)
SectorFormSet = forms.formset_factory(
    SectorRowForm,
    formset=_CodeFormSet,
    extra=0,
    can_delete=True,
    max_num=MAX_FILTER_VALUES,
    validate_max=True,
)
FORMSETS = {OCCUPATIONS: OccupationFormSet, SECTORS: SectorFormSet}


def member_choices(members: Iterable[Any]) -> list[tuple[str, str]]:
    return [
        (str(m.user_id), f"{m.user.full_name} ({m.user.email})" if m.user.full_name else m.user.email) for m in members
    ]


class SubscriptionForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=200,
        help_text=gettext_lazy("What this alert is about, so your colleagues can tell it apart."),
    )
    direction = forms.ChoiceField(
        label=gettext_lazy("Listings"),
        required=False,
        widget=forms.RadioSelect,
    )
    scheme_types = forms.MultipleChoiceField(
        label=gettext_lazy("Scheme types"),
        help_text=gettext_lazy("None chosen: any scheme type."),
        required=False,
        choices=SchemeType.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    owner_countries = CountriesField(
        label=gettext_lazy("Published by the governments of"),
        help_text=gettext_lazy(
            "None chosen: any government. Hold Ctrl (Cmd on a Mac) to choose several; "
            "type a name's first letters to jump to it."
        ),
    )
    open_to_my_country = forms.BooleanField(
        label=gettext_lazy("Only listings open to people from my country"),
        required=False,
    )
    keywords = forms.CharField(
        label=gettext_lazy("Keywords"),
        help_text=gettext_lazy("Words the listing must contain, in English, French or Spanish."),
        required=False,
        max_length=500,
    )
    channel_inbox = forms.BooleanField(
        label=gettext_lazy("In-app inbox"),
        help_text=gettext_lazy("Everyone in your organisation sees the inbox; the header shows how much is unread."),
        required=False,
    )
    channel_email = forms.BooleanField(
        label=gettext_lazy("E-mail"),
        help_text=gettext_lazy("To the members you choose, at once or in a daily or weekly digest."),
        required=False,
    )
    email_members = forms.MultipleChoiceField(
        label=gettext_lazy("Send the e-mails to"),
        help_text=gettext_lazy("Nobody chosen: your organisation's administrators."),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    channel_webhook = forms.BooleanField(
        label=gettext_lazy("Signed webhook"),
        help_text=gettext_lazy(
            "Corridor sends each event to your own system, signed so it can check where it came from."
        ),
        required=False,
    )
    webhook_url = forms.CharField(
        label=gettext_lazy("Webhook URL"),
        help_text=gettext_lazy(
            "An https:// address of your own system on the public internet. Every request is signed; "
            "a new webhook's signing secret is shown once, after you save."
        ),
        required=False,
        max_length=2000,
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    channel_feed = forms.BooleanField(
        label=gettext_lazy("Atom feed"),
        help_text=gettext_lazy("A private feed address for a feed reader, shown on the alert's page after you save."),
        required=False,
    )
    frequency = forms.ChoiceField(
        label=gettext_lazy("How often"),
        help_text=gettext_lazy(
            "Digests apply to e-mail. The inbox, webhooks and the feed receive each event as it happens."
        ),
        choices=Frequency.choices,
        initial=Frequency.INSTANT,
        widget=forms.RadioSelect,
    )
    active = forms.BooleanField(
        label=gettext_lazy("Active: send alerts"),
        help_text=gettext_lazy("Untick to pause this alert without deleting it."),
        required=False,
        initial=True,
    )

    CHANNEL_FIELDS = {
        ChannelType.INBOX: "channel_inbox",
        ChannelType.EMAIL: "channel_email",
        ChannelType.WEBHOOK: "channel_webhook",
        ChannelType.FEED: "channel_feed",
    }

    def __init__(self, *args: Any, members: Iterable[Any] = (), has_country: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["direction"]).choices = [
            ("", _("Both: places offered and workers offered")),
            *Direction.choices,
        ]
        cast(forms.ChoiceField, self.fields["email_members"]).choices = member_choices(members)
        if not has_country:
            # An agency has no country, so no listing can be open to it (the service says so too).
            del self.fields["open_to_my_country"]
        self.group_errors: dict[str, list[str]] = {}

    # --- Showing errors found by the serializer or the service ------------------------------

    def add_external_errors(self, errors: Mapping[str, Sequence[str]], *, blame: Sequence[str] = ()) -> None:
        """``{"channels.1.url": [...], "name": [...]}`` onto fields; ``blame[i]`` is channel i's field."""
        for key, messages in errors.items():
            head, _dot, rest = key.partition(".")
            target = SERVICE_FIELDS.get(head, head)
            if head == "channels":
                index = rest.split(".", 1)[0]
                if index.isdigit() and int(index) < len(blame):
                    target = blame[int(index)]
            for message in messages:
                self._add(target, message)

    def add_service_errors(self, errors: Mapping[str, Sequence[str]], *, blame: Sequence[str] = ()) -> None:
        """A service's ``{"channels": ["Channel 2: …"]}``: each channel's message on its own field."""
        for key, messages in errors.items():
            for message in messages:
                target = SERVICE_FIELDS.get(key, key)
                if key == "channels":
                    for index, field in enumerate(blame):
                        prefix = _("Channel %(n)d: %(message)s") % {"n": index + 1, "message": ""}
                        if message.startswith(prefix):
                            target, message = field, capfirst(message[len(prefix) :])
                            break
                self._add(target, message)

    def _add(self, target: str, message: str) -> None:
        if target in GROUPS:
            self.group_errors.setdefault(target, []).append(message)
        elif target in self.fields:
            self.add_error(target, message)
        else:
            self.add_error(None, message)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.group_errors)

    # --- The payload the API takes --------------------------------------------------------------

    def payload(self, *, occupations: list[str], sectors: list[str], extra_webhooks: Sequence[str] = ()) -> Any:
        """``(data, blame)``: the API's request body, and for each channel the field that made it."""
        data = self.cleaned_data
        channels: list[dict[str, Any]] = []
        blame: list[str] = []
        if data.get("channel_inbox"):
            channels.append({"type": ChannelType.INBOX})
            blame.append("channel_inbox")
        if data.get("channel_email"):
            channels.append({"type": ChannelType.EMAIL, "members": list(data.get("email_members") or [])})
            blame.append("email_members")
        if data.get("channel_webhook"):
            channels.append({"type": ChannelType.WEBHOOK, "url": data.get("webhook_url", "")})
            blame.append("webhook_url")
            for url in extra_webhooks:
                channels.append({"type": ChannelType.WEBHOOK, "url": url})
                blame.append("webhook_url")
        if data.get("channel_feed"):
            channels.append({"type": ChannelType.FEED})
            blame.append("channel_feed")
        body = {
            "name": data.get("name", ""),
            "direction": data.get("direction") or None,
            "scheme_types": list(data.get("scheme_types") or []),
            "isco_prefixes": occupations,
            "sectors": sectors,
            "owner_countries": list(data.get("owner_countries") or []),
            "keywords": data.get("keywords", ""),
            "frequency": data.get("frequency") or Frequency.INSTANT,
            "active": bool(data.get("active")),
            "channels": channels,
        }
        if "open_to_my_country" in self.fields:
            body["open_to_my_country"] = bool(data.get("open_to_my_country"))
        return body, blame


def initial_of(subscription: Subscription, channels: Sequence[Any]) -> dict[str, Any]:
    """The form's initial values for an existing subscription and its channels."""
    initial: dict[str, Any] = {
        "name": subscription.name,
        "direction": subscription.direction,
        "scheme_types": list(subscription.scheme_types),
        "owner_countries": list(subscription.owner_countries),
        "open_to_my_country": subscription.open_to_my_country,
        "keywords": subscription.keywords,
        "frequency": subscription.frequency,
        "active": subscription.active,
    }
    for channel in channels:
        initial[SubscriptionForm.CHANNEL_FIELDS[channel.type]] = True
        if channel.type == ChannelType.EMAIL:
            initial["email_members"] = [str(pk) for pk in channel.members]
        if channel.type == ChannelType.WEBHOOK and "webhook_url" not in initial:
            initial["webhook_url"] = channel.url
    return initial


def code_formset(prefix: str, *, data: Any = None, codes: Iterable[str] = (), blank: bool = True) -> Any:
    """A bound formset (``data``), or an unbound one showing ``codes`` and, with ``blank``, an empty row."""
    formset_class = FORMSETS[prefix]
    if data is not None:
        return formset_class(data, prefix=prefix)
    initial = [{"code": code} for code in codes]
    if blank or not initial:
        initial.append({})
    return formset_class(prefix=prefix, initial=initial)


def rows_after_button(data: QueryDict, prefix: str) -> list[str] | None:
    """Without JavaScript the add/remove buttons submit: the rows as they should now be, or None.

    ``add=<prefix>`` appends an empty row; ``remove=<prefix>-<n>`` drops row n.
    """
    add = data.get("add")
    remove = data.get("remove", "")
    if add != prefix and not remove.startswith(prefix + "-"):
        return None
    try:
        total = min(int(data.get(f"{prefix}-TOTAL_FORMS") or 0), MAX_FILTER_VALUES)
    except ValueError:
        total = 0
    rows = [
        (index, data.get(f"{prefix}-{index}-code", ""))
        for index in range(total)
        if not data.get(f"{prefix}-{index}-DELETE")
    ]
    if remove.startswith(prefix + "-"):
        rows = [(index, value) for index, value in rows if f"{prefix}-{index}" != remove]
    values = [value for _index, value in rows]
    if add == prefix and len(values) < MAX_FILTER_VALUES:
        values.append("")
    return values


def changing_rows(data: QueryDict) -> bool:
    """Did the user press "add another" or "remove" (so: show the form again, save nothing)?"""
    return bool(data.get("add") or data.get("remove"))


_F = TypeVar("_F", bound=forms.Form)


def quiet(form: _F) -> _F:
    """Show a bound form's values without judging them (the user is still filling it in)."""
    form._errors = forms.utils.ErrorDict()  # type: ignore[attr-defined]  # Django's private cache of errors
    form.cleaned_data = {}
    return form


class DeliveryFilterForm(forms.Form):
    subscription = forms.ChoiceField(label=gettext_lazy("Alert"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("State"), required=False)

    def __init__(self, *args: Any, subscriptions: Iterable[Subscription] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["subscription"]).choices = [
            ("", _("All alerts")),
            *((str(s.pk), s.name) for s in subscriptions),
        ]
        cast(forms.ChoiceField, self.fields["status"]).choices = [("", _("Any state")), *DeliveryStatus.choices]

    def filters(self) -> dict[str, Any]:
        """The valid filters as queryset lookups (an unknown value is ignored, like a bad page)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        lookups: dict[str, Any] = {}
        if data.get("subscription"):
            lookups["subscription_id"] = uuid.UUID(data["subscription"])
        if data.get("status"):
            lookups["status"] = data["status"]
        return lookups
