"""Government single sign-on in a real browser: an official of Italy's ministry types
their work address on Corridor's sign-in page, chooses single sign-on, signs in on the
ministry's own identity provider (a real OpenID Connect provider, tests/sso/provider/)
and lands on Corridor signed in, a member of the ministry with the role it gave them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from accounts.models import Membership, Organisation, SingleSignOn, User
from accounts.tenancy import unscoped
from tests.sso.provider.harness import PASSWORD, Provider, running_provider


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory, live_server: Any) -> Iterator[Provider]:
    callback = f"{live_server.url}/accounts/sso/it-labour/callback/"
    with running_provider(tmp_path_factory.mktemp("provider"), [callback]) as running:
        yield running


def test_an_official_signs_in_through_the_ministrys_identity_provider(
    visitor: Any, italy: Organisation, provider: Provider, settings: Any
) -> None:
    settings.SSO_ALLOW_PRIVATE_ADDRESSES = True  # the provider is on loopback
    with unscoped("fixture"):
        SingleSignOn.objects.create(
            organisation=italy,
            issuer=provider.issuer,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            allowed_domains=["lavoro.gov.example"],
            role_claim="groups",
            role_mapping={"corridor-officials": "official"},
        )
    page = visitor.page

    visitor.go("/accounts/login/")
    page.get_by_label("E-mail address").fill("amina.official@lavoro.gov.example")
    with page.expect_navigation():
        page.get_by_role("button", name="Use single sign-on").click()
    visitor.check()
    offer = page.get_by_role("link", name="Sign in with Ministry of Labour and Social Policies's identity provider")
    with page.expect_navigation(url=f"{provider.base_url}/accounts/login/**"):
        offer.click()

    # The ministry's own sign-in page (not Corridor's).
    assert page.get_by_role("heading", name="Ministry identity provider").is_visible()
    page.get_by_label("User name").fill("amina")
    page.get_by_label("Password").fill(PASSWORD)
    visitor.reset()
    with page.expect_navigation(url=f"{visitor.base_url}/dashboard/"):
        page.get_by_role("button", name="Sign in to the ministry").click()
    visitor.check()

    assert page.url == f"{visitor.base_url}/dashboard/"  # signed in: home leads to the dashboard
    assert page.get_by_role("button", name="Sign out").count() >= 1
    user = User.objects.get(email="amina.official@lavoro.gov.example")
    with unscoped("assertion"):
        assert Membership.objects.get(user=user, organisation=italy).role == "official"
    visitor.go("/accounts/profile/")
    assert "amina.official@lavoro.gov.example" in page.content()
