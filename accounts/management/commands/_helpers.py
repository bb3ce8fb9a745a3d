"""Shared plumbing for the operators' commands (the leading underscore hides it from Django).

Commands run outside any request, so there is no tenant scope: Organisation and User
are shared models and safe to query directly; the services wrap their own look-ups of
private rows in ``unscoped(...)``, and command code must do the same.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from accounts.models import Organisation


def command_error(exc: ValidationError) -> CommandError:
    """Turn a service's ValidationError into a CommandError reading ``field: message``."""
    if hasattr(exc, "error_dict"):
        parts = [f"{field}: {message}" for field, messages in exc.message_dict.items() for message in messages]
    else:
        parts = list(exc.messages)
    return CommandError("; ".join(parts) or "The input is not valid.")


def organisation_by_key(key: str) -> Organisation:
    """The organisation with this public id (UUID) or slug, or a CommandError naming the key."""
    key = (key or "").strip()
    organisation = Organisation.objects.identified_by(key).first() if key else None
    if organisation is None:
        raise CommandError(f"organisation: No organisation has the id or slug '{key}'.")
    return organisation
