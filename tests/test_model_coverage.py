"""Every model that carries or points at an organisation is private to one, or shared by rule.

A new model with an organisation key (or a key to such a model) fails this test
until it is either scoped to one organisation (django-scopes' fail-closed
``ScopedManager``) or named in the ``SHARED_MODELS`` of the access module that
decides who reads it.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import models
from django_scopes import ScopeError

from accounts.models import Organisation
from accounts.tenancy import Actor, SharedManager, tenant_scope, through_access, unscoped
from exchange import access as exchange_access
from exchange.models import Match, Message, MigrationProfile, Partnership, PartnershipDocument
from opportunities import access as opportunities_access
from opportunities.models import Listing, ListingRevision, ListingTransition

SHARED = {**opportunities_access.SHARED_MODELS, **exchange_access.SHARED_MODELS}
SHARED_ACCESS = {
    **dict.fromkeys(opportunities_access.SHARED_MODELS, "opportunities.access"),
    **dict.fromkeys(exchange_access.SHARED_MODELS, "exchange.access"),
}


def _tenant_models() -> set[type[models.Model]]:
    """Models with a key to Organisation, or to a model that has one (to any depth)."""
    found: set[type[models.Model]] = set()
    grew = True
    while grew:
        grew = False
        for model in apps.get_models():
            if model in found or model is Organisation:
                continue
            if any(
                f.is_relation and (f.related_model is Organisation or f.related_model in found)
                for f in model._meta.concrete_fields
            ):
                found.add(model)
                grew = True
    return found


def _scoped(model: type[models.Model]) -> bool:
    return hasattr(model._default_manager, "with_scopes_disabled")  # django-scopes' ScopedManager


@pytest.mark.parametrize("model", sorted(_tenant_models(), key=lambda m: m._meta.label), ids=lambda m: m._meta.label)
def test_each_tenant_model_is_scoped_or_shared_by_an_access_module(model):
    assert _scoped(model) != (model in SHARED), (
        f"{model._meta.label} points at an organisation: give it a ScopedManager, or name it in the "
        "SHARED_MODELS of the access module that decides who reads it (not both)."
    )


def test_the_walk_finds_the_models_it_must():
    labels = {m._meta.label for m in _tenant_models()}
    assert {"opportunities.Listing", "exchange.Match", "exchange.MatchRead", "accounts.Membership"} <= labels


# The shared models the issue names: their default manager refuses a query past the access layer.
FAIL_CLOSED = [
    Listing,
    ListingTransition,
    ListingRevision,
    Match,
    Message,
    Partnership,
    PartnershipDocument,
    MigrationProfile,
]


@pytest.mark.django_db
@pytest.mark.parametrize("model", FAIL_CLOSED, ids=lambda m: m.__name__)
def test_a_shared_model_refuses_a_query_past_its_access_module(model, italy, bob):
    assert isinstance(model._default_manager, SharedManager)
    module = SHARED_ACCESS[model]
    actor = Actor(user=bob, organisation=italy, role="official")
    with tenant_scope(actor):
        with pytest.raises(ScopeError, match=re.escape(module)):
            list(model.objects.all())
        with through_access("the access module's own reader"):
            assert list(model.objects.all()) == []
        with unscoped("an operator's report"):
            assert list(model.objects.all()) == []
    assert list(model.objects.all()) == []  # outside any scope: migrations, the shell, commands
