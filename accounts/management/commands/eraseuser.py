"""``manage.py eraseuser <email>``: erase a person's account on their request (GDPR art. 17).

The same erasure as the profile page's (accounts.privacy.account_erase): the account,
its memberships, tokens, sessions, two-factor devices and sign-in records go; the audit
log and the other history keep their rows with a pseudonym in place of the person's
e-mail address and name. Refused, with every reason, while the person is an
organisation's last administrator or focal point, or still holds live listings,
active alerts or open partnerships (accounts.access.can_erase_account).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.privacy import account_erase
from config.errors import StateConflict


class Command(BaseCommand):
    help = (
        "Erase a person's account: delete it with its memberships, tokens, sessions and devices, and "
        "replace their e-mail address and name by a pseudonym in the audit log and the history. "
        "Prints the pseudonym alone on the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The account's e-mail address (matched case-insensitively).")
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive", help="Do not ask to confirm."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = (options["email"] or "").strip()
        user = User.objects.filter(email__iexact=email).first() if email else None
        if user is None:
            raise CommandError(f"email: No account has the e-mail address '{email}'.")
        if options["interactive"]:
            answer = input(f"Erase the account of {user.email}? This cannot be undone. Type 'yes' to go on: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Nothing erased.")
        try:
            erasure = account_erase(user=user, requested_by=None)
        except (StateConflict, PermissionDenied) as exc:
            raise CommandError(f"Not erased: {exc}") from None
        self.stdout.write(f"Erased; {erasure.history_rows} history rows now name the pseudonym.")
        self.stdout.write(erasure.pseudonym)
