"""Factories for test data. Memberships go through the service, as in production."""

from __future__ import annotations

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import Organisation, User

PASSWORD = "correct horse battery staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@gov.example")
    full_name = factory.Faker("name")

    @factory.post_generation
    def password(obj: User, create: bool, extracted: str | None, **kwargs: object) -> None:
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Ministry of Labour {n}")
    slug = factory.Sequence(lambda n: f"ministry-{n}")
    kind = "government"
    country = "IT"
    is_origin = False
    is_destination = True
    # Verified by default, as every organisation that was on the platform before verification
    # existed; ``OrganisationFactory(pending=True)`` / ``(suspended=True)`` for the other states.
    verification_status = "verified"
    verified_at = factory.LazyFunction(timezone.now)
    suspension_reason = ""

    class Params:
        pending = factory.Trait(verification_status="pending", verified_at=None)
        suspended = factory.Trait(
            verification_status="suspended", suspension_reason="Documents under review after a complaint"
        )


class AgencyFactory(OrganisationFactory):
    name = factory.Sequence(lambda n: f"International Agency {n}")
    slug = factory.Sequence(lambda n: f"agency-{n}")
    kind = "agency"
    country = ""
    is_destination = False


def member(organisation: Organisation, role: str, **user_fields: object) -> User:
    from accounts.services import membership_add

    user = UserFactory(**user_fields)
    membership_add(organisation=organisation, user=user, role=role)
    return user
