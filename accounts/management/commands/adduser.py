"""``manage.py adduser``: create a user (or reuse one by e-mail) and give them a role in an organisation."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.management.commands._helpers import command_error, organisation_by_key
from accounts.models import Role, User
from accounts.services import membership_add, membership_for_user, user_get_or_create


class Command(BaseCommand):
    help = (
        "Add a person to an organisation with a role, creating their account if needed. "
        "Without --password a new account has no usable password (the person can reset it). "
        "Prints the user's id alone on the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="E-mail address (matched case-insensitively).")
        parser.add_argument("--organisation", required=True, help="The organisation's id (UUID) or slug.")
        parser.add_argument(
            "--role",
            required=True,
            help="Government: admin, official or viewer. Agency: moderator, admin or viewer.",
        )
        parser.add_argument("--password", default=None, help="Set this password (checked by the password rules).")
        parser.add_argument("--full-name", default="", help="The person's full name.")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = organisation_by_key(options["organisation"])
        role = (options["role"] or "").strip().lower()
        if role not in Role.values:
            raise CommandError(f"role: '{options['role']}' is not a role; choose one of: {', '.join(Role.values)}.")
        password = options["password"] or None
        full_name = (options["full_name"] or "").strip()
        try:
            with transaction.atomic():
                existing = User.objects.filter(email__iexact=(options["email"] or "").strip()).first()
                if existing is not None and password:
                    # The service checks the rules only for new accounts; hold a reset to the same standard.
                    try:
                        validate_password(password, existing)
                    except ValidationError as exc:
                        raise ValidationError({"password": exc.messages}) from None
                user, created = user_get_or_create(email=options["email"], full_name=full_name, password=password)
                if not created and full_name and user.full_name != full_name:
                    user.full_name = full_name
                    user.save(update_fields=["full_name"])
                previous = membership_for_user(organisation=organisation, user=user)
                previous_role = previous.role if previous else None
                membership_add(organisation=organisation, user=user, role=role)
        except ValidationError as exc:
            raise command_error(exc) from None

        account = "Created user" if created else "Found user"
        if previous_role is None:
            change = f"added them to '{organisation.name}' as {role}"
        elif previous_role != role:
            change = f"changed their role in '{organisation.name}' from {previous_role} to {role}"
        else:
            change = f"they already were {role} in '{organisation.name}'"
        self.stdout.write(f"{account} {user.email}; {change}.")
        if created and not password:
            self.stdout.write("No password set: they can choose one with 'Forgot your password?'.")
        self.stdout.write(str(user.id))
