"""``manage.py seed_demo``: idempotent demo data, written through the services.

The data is a list of steps (``SEED_STEPS``); each takes the shared ``DemoContext``
and must be safe to run again: look up by a stable key (slug, e-mail), create only
what is missing, and leave what exists alone. Later steps (listings, subscriptions)
can find the organisations and people of earlier ones in the context. To add data,
write ``def seed_something(ctx: DemoContext) -> None`` and append it to ``SEED_STEPS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts.management.commands._helpers import command_error
from accounts.models import Organisation, OrganisationKind, Role, User
from accounts.services import membership_add, organisation_create, user_get_or_create
from exchange.outcomes.demo import seed_outcomes
from exchange.profiles.demo import seed_profiles
from opportunities.demo import seed_listings

DEMO_PASSWORD = "corridor-demo-2026"  # noqa: S105 -- public by design: printed for the local demo
DEMO_MAIL_DOMAIN = "demo.corridor.example"


@dataclass(frozen=True)
class DemoOrganisation:
    slug: str
    name: str
    kind: str
    country: str = ""
    is_origin: bool = False
    is_destination: bool = False
    # Label in the demo e-mail addresses: admin@<mail_label>.demo.corridor.example
    mail_label: str = ""
    # The first role listed becomes the focal point (membership_add sets it).
    roles: tuple[str, ...] = (Role.ADMIN, Role.OFFICIAL)
    # Demo organisations are vetted already; one waits for an agency, so the queue is not empty.
    verified: bool = True

    def email(self, role: str) -> str:
        return f"{role}@{self.mail_label or self.slug}.{DEMO_MAIL_DOMAIN}"


DEMO_ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    # Countries of destination
    DemoOrganisation(
        slug="it-labour",
        name="Ministry of Labour and Social Policies",
        kind=OrganisationKind.GOVERNMENT,
        country="IT",
        is_destination=True,
        mail_label="it",
    ),
    DemoOrganisation(
        slug="de-labour",
        name="Federal Ministry of Labour and Social Affairs",
        kind=OrganisationKind.GOVERNMENT,
        country="DE",
        is_destination=True,
        mail_label="de",
    ),
    DemoOrganisation(
        slug="de-employment-agency",
        name="Federal Employment Agency",
        kind=OrganisationKind.GOVERNMENT,
        country="DE",
        is_destination=True,
        mail_label="de-ba",
    ),
    DemoOrganisation(
        slug="es-inclusion",
        name="Ministry of Inclusion, Social Security and Migration",
        kind=OrganisationKind.GOVERNMENT,
        country="ES",
        is_destination=True,
        mail_label="es",
    ),
    # Countries of origin
    DemoOrganisation(
        slug="md-labour",
        name="Ministry of Labour and Social Protection",
        kind=OrganisationKind.GOVERNMENT,
        country="MD",
        is_origin=True,
        mail_label="md",
    ),
    DemoOrganisation(
        slug="ph-migrant-workers",
        name="Department of Migrant Workers",
        kind=OrganisationKind.GOVERNMENT,
        country="PH",
        is_origin=True,
        mail_label="ph",
    ),
    DemoOrganisation(
        slug="sn-labour",
        name="Ministry of Labour, Employment and Relations with Institutions",
        kind=OrganisationKind.GOVERNMENT,
        country="SN",
        is_origin=True,
        mail_label="sn",
    ),
    DemoOrganisation(
        slug="ma-employment",
        name="Ministry of Economic Inclusion, Small Business, Employment and Skills",
        kind=OrganisationKind.GOVERNMENT,
        country="MA",
        is_origin=True,
        mail_label="ma",
    ),
    DemoOrganisation(
        slug="ma-anapec",
        name="National Agency for the Promotion of Employment and Skills (ANAPEC)",
        kind=OrganisationKind.GOVERNMENT,
        country="MA",
        is_origin=True,
        mail_label="ma-anapec",
    ),
    # A government that has just joined: pending until the agency's moderator verifies it.
    DemoOrganisation(
        slug="gh-employment",
        name="Ministry of Labour, Jobs and Employment",
        kind=OrganisationKind.GOVERNMENT,
        country="GH",
        is_origin=True,
        mail_label="gh",
        verified=False,
    ),
    # The moderator (a fictional IOM- or ILO-like body)
    DemoOrganisation(
        slug="ilma",
        name="International Labour Mobility Agency",
        kind=OrganisationKind.AGENCY,
        mail_label="ilma",
        roles=(Role.MODERATOR, Role.ADMIN),
    ),
)

ROLE_TITLES: dict[str, str] = {
    Role.ADMIN: "Administrator",
    Role.OFFICIAL: "Official",
    Role.MODERATOR: "Moderator",
    Role.VIEWER: "Viewer",
}


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    organisation: Organisation
    role: str


@dataclass
class DemoContext:
    """What the steps share: the password, what they found or made, and a way to report."""

    password: str
    log: Callable[[str], None]
    organisations: dict[str, Organisation] = field(default_factory=dict)  # by slug
    users: dict[str, User] = field(default_factory=dict)  # by e-mail
    logins: list[DemoLogin] = field(default_factory=list)


SeedStep = Callable[[DemoContext], None]


def seed_organisations(ctx: DemoContext) -> None:
    """The governments and the agency, found by slug or created."""
    for spec in DEMO_ORGANISATIONS:
        organisation = Organisation.objects.filter(slug=spec.slug).first()
        if organisation is None:
            organisation = organisation_create(
                name=spec.name,
                kind=spec.kind,
                country=spec.country,
                is_origin=spec.is_origin,
                is_destination=spec.is_destination,
                slug=spec.slug,
                verified=spec.verified,
            )
            ctx.log(f"Created organisation {spec.slug}: {organisation.name}")
        ctx.organisations[spec.slug] = organisation


def seed_people(ctx: DemoContext) -> None:
    """Two people per organisation, each with the demo password; the first is the focal point."""
    for spec in DEMO_ORGANISATIONS:
        organisation = ctx.organisations[spec.slug]
        where = str(organisation.country.name) if organisation.country else organisation.name  # type: ignore[attr-defined]  # a Country, not a str
        for role in spec.roles:
            email = spec.email(role)
            user = User.objects.filter(email__iexact=email).first()
            # Set the password only when it does not already work, so a second run changes nothing.
            needs_password = user is None or not user.check_password(ctx.password)
            user, created = user_get_or_create(
                email=email,
                full_name=f"Demo {ROLE_TITLES[role]}, {where}",
                password=ctx.password if needs_password else None,
            )
            if created:
                ctx.log(f"Created user {email}")
            elif needs_password:
                ctx.log(f"Reset the demo password of {email}")
            if not user.is_active:
                user.is_active = True
                user.save(update_fields=["is_active"])
            membership_add(organisation=organisation, user=user, role=role)
            ctx.users[email] = user
            ctx.logins.append(DemoLogin(email=email, password=ctx.password, organisation=organisation, role=role))
        organisation.refresh_from_db(fields=["focal_point"])
        if organisation.focal_point_id is None:  # membership_add sets it; this is belt and braces
            organisation.focal_point = ctx.users[spec.email(spec.roles[0])]
            organisation.save(update_fields=["focal_point"])


# Later issues append their steps here (e.g. listings after people, who post them). Profiles come
# after listings: the suggestions they yield leave out what an open listing pair already covers.
SEED_STEPS: list[SeedStep] = [seed_organisations, seed_people, seed_listings, seed_profiles, seed_outcomes]


def format_logins(logins: list[DemoLogin]) -> str:
    """The demo logins as a plain-text table."""
    header = ("E-mail", "Password", "Organisation", "Role")
    rows = [
        (
            login.email,
            login.password,
            f"{login.organisation.name} ({login.organisation.country.code or 'agency'})",  # type: ignore[attr-defined]  # a Country, not a str
            login.role,
        )
        for login in logins
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


class Command(BaseCommand):
    help = (
        "Create demo organisations and people (idempotent: running it again changes nothing) and print the demo logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password", default=DEMO_PASSWORD, help=f"The demo users' password (default: {DEMO_PASSWORD})."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity: int = options["verbosity"]

        def log(message: str) -> None:
            if verbosity >= 1:
                self.stdout.write(message)

        ctx = DemoContext(password=options["password"], log=log)
        try:
            with transaction.atomic():
                for step in SEED_STEPS:
                    step(ctx)
        except ValidationError as exc:
            raise command_error(exc) from None
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {len(ctx.organisations)} organisations."))
        self.stdout.write("")
        self.stdout.write("Demo logins:")
        self.stdout.write(format_logins(ctx.logins))
