"""Government single sign-on against a real OpenID Connect provider (tests/sso/provider/).

An official of Italy's ministry starts at Corridor, signs in at the ministry's provider,
and comes back signed in; the first time, Corridor makes them a member with the role
the provider's groups claim maps to. Refusals (a foreign domain, no role, a forged or
replayed state) create nothing and say why; a provider that is down or answers wrongly
is a clear 503 / 502 page, never a 500.
"""

from __future__ import annotations

from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from accounts.models import AuditEvent, Membership, Organisation, SingleSignOn, User
from tests.conftest import as_assertion, signed_in
from tests.sso.conftest import sign_in_through_provider
from tests.sso.provider.harness import Provider, free_port

pytestmark = pytest.mark.django_db

OFFICIAL = "amina.official@lavoro.gov.example"


def audit_actions(organisation: Organisation) -> list[str]:
    with as_assertion():
        return list(
            AuditEvent.objects.filter(organisation=organisation, action__startswith="sso.")
            .order_by("id")
            .values_list("action", flat=True)
        )


def test_the_start_sends_the_browser_to_the_provider_with_pkce_state_and_nonce(
    italy_sso: SingleSignOn, provider: Provider
) -> None:
    answer = Client().get("/accounts/sso/it-labour/")

    assert answer.status_code == 302
    location = urlsplit(answer["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{provider.issuer}/authorize/"
    query = parse_qs(location.query)
    assert query["client_id"] == [provider.client_id]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["state"][0] and query["nonce"][0]
    assert query["redirect_uri"] == ["http://testserver/accounts/sso/it-labour/callback/"]


def test_first_sign_in_creates_the_member_with_the_mapped_role(
    italy: Organisation, italy_sso: SingleSignOn, provider: Provider
) -> None:
    client = Client()
    answer = sign_in_through_provider(client, provider, "amina")

    assert answer.status_code == 302
    assert answer["Location"] == "/"
    user = User.objects.get(email=OFFICIAL)
    assert not user.has_usable_password()  # they sign in through the provider
    with as_assertion():
        membership = Membership.objects.get(user=user)
    assert (membership.organisation, membership.role) == (italy, "official")
    # Signed in, acting for the ministry.
    page = client.get("/accounts/profile/")
    assert page.status_code == 200
    assert OFFICIAL in page.content.decode()
    assert client.session["corridor_organisation"] == str(italy.pk)
    assert audit_actions(italy) == ["sso.signed_in"]
    with as_assertion():
        created = AuditEvent.objects.get(action="membership.created", organisation=italy, actor=user)
    assert created.changes["via"] == "single_sign_on"


def test_a_later_sign_in_reuses_the_user_and_the_membership(
    italy: Organisation, italy_sso: SingleSignOn, provider: Provider
) -> None:
    sign_in_through_provider(Client(), provider, "amina")
    again = sign_in_through_provider(Client(), provider, "amina")

    assert again.status_code == 302
    assert User.objects.filter(email=OFFICIAL).count() == 1
    with as_assertion():
        assert Membership.objects.filter(user__email=OFFICIAL).count() == 1
        last = AuditEvent.objects.filter(action="sso.signed_in").order_by("-id").first()
    assert last is not None and last.changes["membership_created"] is False


def test_an_address_outside_the_allowed_domains_is_refused_and_nothing_is_created(
    italy: Organisation, italy_sso: SingleSignOn, provider: Provider
) -> None:
    answer = sign_in_through_provider(Client(), provider, "eve")

    assert answer.status_code == 403
    text = answer.content.decode()
    assert "Addresses at webmail.example cannot sign in" in text
    assert not User.objects.filter(email__iexact="eve@webmail.example").exists()
    with as_assertion():
        refused = AuditEvent.objects.get(action="sso.sign_in_refused")
    assert refused.changes == {"reason": "domain_not_allowed", "email_domain": "webmail.example"}
    assert "_auth_user_id" not in Client().session


def test_no_role_from_the_claim_and_no_default_is_refused(
    italy: Organisation, italy_sso: SingleSignOn, provider: Provider
) -> None:
    answer = sign_in_through_provider(Client(), provider, "nogroup")

    assert answer.status_code == 403
    assert "gives you no role" in answer.content.decode()
    assert not User.objects.filter(email="nora.nogroup@lavoro.gov.example").exists()


def test_an_account_of_another_organisation_is_not_taken_over_by_a_provider(
    italy: Organisation, italy_sso: SingleSignOn, provider: Provider, mona: User
) -> None:
    """An administrator could list any domain: their provider still cannot sign in someone else's account."""
    mona.email = OFFICIAL  # the agency moderator's address is at a domain Italy's provider signs in
    mona.save()

    answer = sign_in_through_provider(Client(), provider, "amina")

    assert answer.status_code == 403
    assert "also acts for other organisations" in answer.content.decode()
    with as_assertion():
        assert not Membership.objects.filter(user=mona, organisation=italy).exists()
        assert AuditEvent.objects.get(action="sso.sign_in_refused").changes["reason"] == "account_elsewhere"


def test_the_default_role_applies_when_the_claim_maps_to_none(
    italy: Organisation, italy_sso: SingleSignOn, provider: Provider
) -> None:
    italy_sso.default_role = "viewer"
    italy_sso.save()

    assert sign_in_through_provider(Client(), provider, "nogroup").status_code == 302
    with as_assertion():
        assert Membership.objects.get(user__email="nora.nogroup@lavoro.gov.example").role == "viewer"


def test_a_forged_state_is_refused(italy_sso: SingleSignOn, provider: Provider) -> None:
    client = Client()
    start = client.get("/accounts/sso/it-labour/")
    back = provider.sign_in(start["Location"], "amina")
    forged = back.replace("state=", "state=forged", 1).removeprefix("http://testserver")

    answer = client.get(forged)

    assert answer.status_code == 400
    assert "does not match a sign-in started in this browser" in answer.content.decode()
    assert not User.objects.filter(email=OFFICIAL).exists()


def test_a_replayed_callback_is_refused(italy_sso: SingleSignOn, provider: Provider) -> None:
    client = Client()
    start = client.get("/accounts/sso/it-labour/")
    back = provider.sign_in(start["Location"], "amina").removeprefix("http://testserver")
    assert client.get(back).status_code == 302

    assert client.get(back).status_code == 400  # the state was spent by the first answer


def test_a_callback_in_another_browser_is_refused(italy_sso: SingleSignOn, provider: Provider) -> None:
    start = Client().get("/accounts/sso/it-labour/")
    back = provider.sign_in(start["Location"], "amina").removeprefix("http://testserver")

    assert Client().get(back).status_code == 400
    assert not User.objects.filter(email=OFFICIAL).exists()


def test_a_provider_that_is_down_gives_a_clear_page(italy_sso: SingleSignOn) -> None:
    italy_sso.issuer = f"http://127.0.0.1:{free_port()}/o"  # nothing listens there
    italy_sso.save()

    answer = Client().get("/accounts/sso/it-labour/")

    assert answer.status_code == 503
    text = answer.content.decode()
    assert "could not be reached" in text
    assert "Single sign-on did not work" in text


def test_a_provider_naming_another_issuer_is_refused_as_misconfigured(
    italy_sso: SingleSignOn, provider: Provider
) -> None:
    italy_sso.issuer = provider.issuer + "/"  # its discovery document says the issuer without the slash
    italy_sso.save()

    answer = Client().get("/accounts/sso/it-labour/")

    assert answer.status_code == 502
    assert "names the issuer" in answer.content.decode()


def test_a_wrong_client_secret_is_a_clear_misconfiguration(italy_sso: SingleSignOn, provider: Provider) -> None:
    italy_sso.client_secret = "not-the-secret"
    italy_sso.save()

    answer = sign_in_through_provider(Client(), provider, "amina")

    assert answer.status_code == 502
    assert "does not accept Corridor's client id or secret" in unescape(answer.content.decode())
    assert not User.objects.filter(email=OFFICIAL).exists()


def test_an_administrator_still_needs_the_second_factor(
    italy: Organisation, italy_sso: SingleSignOn, provider: Provider
) -> None:
    client = Client()
    assert sign_in_through_provider(client, provider, "carlo").status_code == 302
    with as_assertion():
        assert Membership.objects.get(user__email="carlo.chief@lavoro.gov.example").role == "admin"

    page = client.get("/dashboard/")

    assert page.status_code == 302
    assert page["Location"] == "/accounts/2fa/setup/"


def test_someone_with_an_authenticator_app_types_the_code_before_being_signed_in(
    italy: Organisation, italy_sso: SingleSignOn, provider: Provider
) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = User.objects.create_user(OFFICIAL, full_name="Amina")
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    client = Client()

    answer = sign_in_through_provider(client, provider, "amina")

    assert answer["Location"] == "/accounts/login/verify/"
    assert "_auth_user_id" not in client.session
    assert client.get("/accounts/profile/").status_code == 302  # not signed in yet


def test_a_disabled_or_unknown_single_sign_on_is_a_404(italy_sso: SingleSignOn) -> None:
    italy_sso.enabled = False
    italy_sso.save()

    assert Client().get("/accounts/sso/it-labour/").status_code == 404
    assert Client().get("/accounts/sso/no-such-ministry/").status_code == 404


# --- The sign-in page ------------------------------------------------------------------------


def test_the_sign_in_page_offers_the_organisations_provider_for_its_domain(italy_sso: SingleSignOn) -> None:
    answer = Client().post("/accounts/login/", {"email": "Someone@Lavoro.gov.example", "password": ""})

    assert answer.status_code == 200
    text = unescape(answer.content.decode())
    assert "Sign in with Ministry of Labour and Social Policies's identity provider" in text
    assert "/accounts/sso/it-labour/?email=someone%40lavoro.gov.example" in text


def test_the_single_sign_on_button_offers_the_provider_even_with_a_password_typed(italy_sso: SingleSignOn) -> None:
    answer = Client().post(
        "/accounts/login/", {"email": "someone@lavoro.gov.example", "password": "typed anyway", "sso": "1"}
    )

    assert answer.status_code == 200
    assert 'href="/accounts/sso/it-labour/?email=someone%40lavoro.gov.example"' in answer.content.decode()


def test_passwords_still_work_for_organisations_without_single_sign_on(italy_sso: SingleSignOn, charlie: User) -> None:
    charlie.set_password("a-long-password-1")
    charlie.save()
    client = Client()

    answer = client.post("/accounts/login/", {"email": charlie.email, "password": "a-long-password-1"})

    assert answer.status_code == 302
    assert client.session["_auth_user_id"] == str(charlie.pk)
    refused = Client().post("/accounts/login/", {"email": "x@nowhere.example", "sso": "1"})
    assert "No organisation signs in addresses at “nowhere.example”" in refused.content.decode()


def test_the_sign_in_page_answer_with_an_offer_stays_within_its_query_budget(
    italy_sso: SingleSignOn, django_assert_max_num_queries: Any
) -> None:
    client = Client()
    with django_assert_max_num_queries(2):
        client.post("/accounts/login/", {"email": "someone@lavoro.gov.example", "password": ""})


# --- Two first sign-ins at once -----------------------------------------------------------------


# --- The settings page -------------------------------------------------------------------------


def test_an_administrator_configures_single_sign_on_and_the_secret_is_never_shown(
    italy: Organisation, alice: User, provider: Provider
) -> None:
    client = signed_in(alice)
    page = client.get("/accounts/organisation/sso/")
    assert page.status_code == 200
    assert "http://testserver/accounts/sso/it-labour/callback/" in page.content.decode()

    answer = client.post(
        "/accounts/organisation/sso/",
        {
            "enabled": "on",
            "issuer": provider.issuer,
            "client_id": provider.client_id,
            "client_secret": provider.client_secret,
            "allowed_domains": "lavoro.gov.example\nLavoro.gov.example",
            "role_claim": "groups",
            "role_mapping": "corridor-officials = official\ncorridor-admins=admin",
            "default_role": "",
        },
    )

    assert answer.status_code == 302, answer.content.decode()[:2000]
    with as_assertion():
        row = SingleSignOn.objects.get(organisation=italy)
        event = AuditEvent.objects.get(action="sso.created")
    assert row.allowed_domains == ["lavoro.gov.example"]
    assert row.role_mapping == {"corridor-officials": "official", "corridor-admins": "admin"}
    assert row.client_secret == provider.client_secret
    assert event.changes["client_secret"] == "changed"
    assert provider.client_secret not in str(event.changes)
    again = client.get("/accounts/organisation/sso/").content.decode()
    assert provider.client_secret not in again
    assert "A secret is stored" in again

    # Saving again without a secret keeps the stored one.
    client.post(
        "/accounts/organisation/sso/",
        {
            "enabled": "on",
            "issuer": provider.issuer,
            "client_id": "corridor-2",
            "allowed_domains": "lavoro.gov.example",
        },
    )
    row.refresh_from_db()
    assert (row.client_id, row.client_secret) == ("corridor-2", provider.client_secret)


def test_an_issuer_on_a_private_network_is_refused_in_production(alice: User, settings: Any) -> None:
    settings.SSO_ALLOW_PRIVATE_ADDRESSES = False
    answer = signed_in(alice).post(
        "/accounts/organisation/sso/",
        {"enabled": "on", "issuer": "http://127.0.0.1:9/o", "client_id": "c", "allowed_domains": "lavoro.gov.example"},
    )

    assert answer.status_code == 400
    assert "which is a loopback address; an identity provider must be on a public address" in answer.content.decode()
    with as_assertion():
        assert not SingleSignOn.objects.exists()


def test_an_unreachable_issuer_is_refused_when_saving(alice: User) -> None:
    answer = signed_in(alice).post(
        "/accounts/organisation/sso/",
        {
            "enabled": "on",
            "issuer": f"http://127.0.0.1:{free_port()}/o",
            "client_id": "c",
            "allowed_domains": "lavoro.gov.example",
        },
    )

    assert answer.status_code == 400
    assert "could not be reached" in answer.content.decode()


def test_bad_domains_and_roles_name_their_field(alice: User) -> None:
    answer = signed_in(alice).post(
        "/accounts/organisation/sso/",
        {
            "issuer": "https://login.lavoro.gov.example",
            "client_id": "c",
            "allowed_domains": "not a domain!",
            "role_mapping": "x = moderator",
        },
    )

    assert answer.status_code == 400
    text = answer.content.decode()
    assert "These are not e-mail domains: not, a, domain!" in text or "not e-mail domains" in text


def test_only_administrators_reach_the_settings(bob: User) -> None:
    assert signed_in(bob).get("/accounts/organisation/sso/").status_code == 403
