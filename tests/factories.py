"""Factories for test data. Memberships go through the service, as in production."""

from __future__ import annotations

import factory
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
