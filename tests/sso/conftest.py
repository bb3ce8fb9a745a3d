"""A real OpenID Connect provider (django-oauth-toolkit, tests/sso/provider/) for these tests.

It runs as its own process on a free port of the loopback interface, started once for
the module, with the client registered for the test client's callback address. Its
issuer is on loopback, so the tests allow private addresses (production refuses them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from accounts.models import Organisation, SingleSignOn
from accounts.tenancy import unscoped
from tests.sso.provider.harness import Provider, running_provider

CALLBACK = "http://testserver/accounts/sso/it-labour/callback/"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with running_provider(tmp_path_factory.mktemp("provider"), [CALLBACK]) as running:
        yield running


@pytest.fixture(autouse=True)
def _loopback_provider_allowed(settings: Any) -> None:
    settings.SSO_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def italy_sso(italy: Organisation, provider: Provider) -> SingleSignOn:
    """Italy's ministry signs its officials in through the provider."""
    with unscoped("fixture"):
        return SingleSignOn.objects.create(
            organisation=italy,
            issuer=provider.issuer,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            allowed_domains=["lavoro.gov.example"],
            role_claim="groups",
            role_mapping={"corridor-officials": "official", "corridor-admins": "admin"},
            default_role="",
        )


def sign_in_through_provider(client: Client, provider: Provider, username: str, *, slug: str = "it-labour") -> Any:
    """Start at Corridor, sign in at the provider, come back: Corridor's answer to the callback."""
    start = client.get(f"/accounts/sso/{slug}/")
    assert start.status_code == 302, start.content[:500]
    back = provider.sign_in(start["Location"], username)
    assert back.startswith(CALLBACK), back
    return client.get(back.removeprefix("http://testserver"))
