"""``manage.py createorganisation``: create a tenant (a government body or an international agency)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts.management.commands._helpers import command_error
from accounts.models import OrganisationKind
from accounts.services import organisation_create


class Command(BaseCommand):
    help = (
        "Create an organisation. Prints its public id (the UUID used in API URLs) alone on the last line. "
        "A government needs --country; an agency has none and is neither origin nor destination."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="Full name, e.g. 'Ministry of Labour and Social Policies'.")
        parser.add_argument("--kind", required=True, choices=OrganisationKind.values, help="government or agency.")
        parser.add_argument("--country", default="", help="ISO 3166-1 alpha-2 code (e.g. IT); governments only.")
        parser.add_argument("--origin", action="store_true", help="The country sends workers (country of origin).")
        parser.add_argument(
            "--destination", action="store_true", help="The country receives workers (country of destination)."
        )
        parser.add_argument(
            "--slug", default="", help="Short stable name used in URLs; derived from the name if omitted."
        )
        parser.add_argument(
            "--verified",
            action="store_true",
            help=(
                "The organisation is already vetted: start it verified. Without it, a new organisation is "
                "pending until an agency moderator verifies it, and cannot act on the exchange until then."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                organisation = organisation_create(
                    name=options["name"],
                    kind=options["kind"],
                    country=options["country"],
                    is_origin=options["origin"],
                    is_destination=options["destination"],
                    slug=options["slug"],
                    verified=options["verified"],
                )
        except ValidationError as exc:
            raise command_error(exc) from None
        where = f", country {organisation.country.code}" if organisation.country else ""  # type: ignore[attr-defined]  # a Country, not a str
        self.stdout.write(
            f"Created {organisation.kind} organisation '{organisation.name}' (slug {organisation.slug}{where}), "
            f"{organisation.get_verification_status_display().lower()}."
        )
        self.stdout.write(str(organisation.id))
