"""``manage.py issuetoken``: issue an API token for a member of an organisation."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.management.commands._helpers import command_error, organisation_by_key
from accounts.models import User
from accounts.services import token_issue


class Command(BaseCommand):
    help = (
        "Issue a named API token acting for a member of an organisation. "
        "Prints the secret alone on the last line; it is shown only once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The member's e-mail address.")
        parser.add_argument("--organisation", required=True, help="The organisation's id (UUID) or slug.")
        parser.add_argument("--name", required=True, help="What the token is for, e.g. 'ministry integration'.")

    def handle(self, *args: Any, **options: Any) -> None:
        email = (options["email"] or "").strip()
        user = User.objects.filter(email__iexact=email).first() if email else None
        if user is None:
            raise CommandError(f"email: No user has the e-mail address '{email}'.")
        organisation = organisation_by_key(options["organisation"])
        try:
            with transaction.atomic():
                token, secret = token_issue(user=user, organisation=organisation, name=options["name"])
        except ValidationError as exc:
            raise command_error(exc) from None
        self.stdout.write(
            f"Issued token '{token.name}' ({token.prefix}…) for {user.email} in '{organisation.name}'. "
            "Copy the secret now: it cannot be shown again."
        )
        self.stdout.write(secret)
