"""Accounts in a real browser: signing in with a password and then an authenticator
code, the profile and its languages, and an administrator running the organisation
(invitations, roles, an API token shown once with a copy button)."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiToken, Invitation, Membership, Organisation, User
from accounts.tenancy import unscoped
from tests.factories import PASSWORD


def code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the user's phone shows now (or ``steps_ahead`` periods from now)."""
    device.refresh_from_db()
    t0 = device.t0 - steps_ahead * device.step  # an earlier origin = a later moment
    return f"{totp(device.bin_key, step=device.step, t0=t0, digits=device.digits, drift=device.drift):06d}"


def test_sign_in_enrol_two_factor_sign_in_again_with_a_code_and_change_language(
    visitor: Any, alice: User, italy: Organisation
) -> None:
    page = visitor.page
    visitor.go("/accounts/login/", screenshot="sign-in")
    assert page.get_by_label("E-mail address").get_attribute("autocomplete") == "email"
    assert page.get_by_label("Password").get_attribute("autocomplete") == "current-password"

    # A wrong password: the error summary names the problem and takes the focus.
    page.get_by_label("E-mail address").fill(alice.email)
    page.get_by_label("Password").fill("not my password")
    visitor.reset()
    page.get_by_role("button", name="Sign in").click()
    visitor.check()
    assert page.locator(".error-summary").is_visible()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")

    # An administrator must use a second factor: until it is set up, every page leads there.
    visitor.sign_in_with_form(alice.email, PASSWORD)
    assert page.url.endswith("/accounts/2fa/setup/")
    visitor.reset()
    page.goto("/accounts/profile/")
    assert page.url.endswith("/accounts/2fa/setup/")

    # Two-factor enrolment: the QR code is an inline SVG, the key can be copied.
    visitor.check(screenshot="two-factor-setup")
    assert page.locator(".qr-code svg").is_visible()
    assert page.get_by_role("button", name="Copy the key").is_visible()
    code_field = page.get_by_label("Six-digit code")
    assert code_field.get_attribute("autocomplete") == "one-time-code"
    device = TOTPDevice.objects.get(user=alice, confirmed=False)
    code_field.fill(code(device))
    visitor.reset()
    code_field.press("Enter")
    page.wait_for_load_state("load")
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    # Ten recovery codes, shown once.
    assert page.url.endswith("/accounts/2fa/recovery-codes/")
    visitor.check()
    assert page.locator(".recovery-codes li").count() == 10
    visitor.go("/accounts/profile/", screenshot="profile")
    assert page.get_by_role("heading", level=1).inner_text() == "Your profile"
    assert page.locator("#two-factor + p .tag").inner_text().strip().lower() == "on"
    visitor.go("/accounts/2fa/setup/")  # enrolled: the page says so
    visitor.go("/accounts/2fa/disable/")  # an administrator cannot turn it off
    assert page.get_by_role("alert").filter(has_text="cannot be turned off").is_visible()

    # Sign out, then in again: the password, then the code step.
    visitor.reset()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("link", name="Sign in").first.is_visible()

    visitor.sign_in_with_form(alice.email, PASSWORD)
    assert page.url.endswith("/accounts/login/verify/")
    visitor.check()
    # The code just used for enrolment cannot be replayed: the phone's next one is accepted.
    page.get_by_label("Six-digit code").fill(code(device, steps_ahead=1))
    visitor.reset()
    page.get_by_role("button", name="Verify the code").click()
    page.wait_for_load_state("load")
    assert "/accounts/login" not in page.url

    # The profile: time zone from the suggestions, validated on the server.
    visitor.go("/accounts/profile/")
    page.get_by_label("Full name").fill("Alice Rossi-Verdi")
    page.get_by_label("Time zone").fill("Mars/Olympus")
    visitor.reset()
    page.get_by_role("button", name="Save your profile").click()
    visitor.check()
    assert "Choose a time zone from the suggestions" in page.locator(".error-summary").inner_text()
    page.get_by_label("Time zone").fill("Europe/Rome")
    visitor.reset()
    page.get_by_role("button", name="Save your profile").click()
    visitor.check()
    assert page.get_by_role("status").filter(has_text="Your profile is saved.").is_visible()
    alice.refresh_from_db()
    assert (alice.full_name, alice.time_zone) == ("Alice Rossi-Verdi", "Europe/Rome")

    # The header's language chooser: French, then Spanish (the profile remembers it).
    for language in ("fr", "es"):
        page.locator("#language-chooser").select_option(language)
        visitor.reset()
        page.locator("form:has(#language-chooser) button[type=submit]").click()
        visitor.check()
        assert page.locator("html").get_attribute("lang") == language
        alice.refresh_from_db()
        assert alice.language == language
    assert visitor.console_errors == []


def test_an_admin_invites_a_member_changes_a_role_and_creates_a_token(
    visitor_factory: Any, alice: User, bob: User, italy: Organisation
) -> None:
    visitor = visitor_factory()
    page = visitor.page
    visitor.context.grant_permissions(["clipboard-read", "clipboard-write"])
    visitor.sign_in_as(alice)

    visitor.go("/accounts/organisation/")
    assert page.get_by_role("link", name="Organisation", exact=True).get_attribute("aria-current") == "page"

    # Members: Bob becomes a viewer.
    visitor.go("/accounts/organisation/members/", screenshot="organisation-members")
    page.get_by_label("Role of Bob Bianchi").select_option("viewer")
    visitor.reset()
    page.get_by_role("button", name="Change role of Bob Bianchi").click()
    visitor.check()
    assert page.get_by_text("Bob Bianchi is now Viewer.").is_visible()
    with unscoped("assertion"):
        assert Membership.objects.get(user=bob, organisation=italy).role == "viewer"

    # Invitations: the e-mail goes out and the invitation is listed.
    visitor.go("/accounts/organisation/invitations/")
    page.get_by_label("E-mail address").fill("nadia@lavoro.gov.example")
    page.get_by_label("Role").select_option("official")
    visitor.reset()
    page.get_by_role("button", name="Send the invitation").click()
    visitor.check()
    assert page.get_by_text("Invitation sent to nadia@lavoro.gov.example.").is_visible()
    assert page.get_by_role("row", name=re.compile("nadia@lavoro.gov.example")).is_visible()
    with unscoped("assertion"):
        assert Invitation.objects.filter(organisation=italy, email="nadia@lavoro.gov.example").exists()
    assert [m.to for m in mail.outbox] == [["nadia@lavoro.gov.example"]]

    # API tokens: the secret once, with a copy button, then never again.
    visitor.go("/accounts/organisation/tokens/")
    page.get_by_label("Token name").fill("Ministry HR system")
    visitor.reset()
    page.get_by_role("button", name="Create token").click()
    visitor.check(screenshot="organisation-tokens")
    secret = page.locator("#token-secret").inner_text().strip()
    assert secret.startswith("crd_")
    assert page.get_by_text("It will not be shown again").is_visible()
    copy = page.get_by_role("button", name="Copy the token")
    assert copy.is_visible()
    copy.click()
    page.locator("#token-secret-status").filter(has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == secret

    visitor.reset()
    page.get_by_role("link", name=re.compile("back to API tokens")).click()
    visitor.check()
    assert secret not in page.content()
    with unscoped("assertion"):
        token = ApiToken.objects.get(user=alice, name="Ministry HR system")
    assert page.get_by_role("row", name=re.compile("Ministry HR system")).is_visible()
    assert token.prefix in page.content()
    assert visitor.console_errors == []

    # Confirmation steps say what will happen, and the button says what it does.
    visitor.go(f"/accounts/organisation/tokens/{token.pk}/revoke/")
    assert page.get_by_role("button", name="Revoke token").is_visible()
    visitor.go("/accounts/organisation/two-factor/")
    assert page.get_by_role("button", name="Require two-factor authentication").is_visible()

    # The invitee follows the e-mailed link, creates an account and lands signed in.
    link = re.search(r"https?://[^/\s]+(/accounts/invitations/[\w-]+/)", mail.outbox[0].body).group(1)
    nadia = visitor_factory()
    nadia.go(link)
    assert nadia.page.get_by_role("heading", level=1).inner_text() == f"Join {italy.name}"
    nadia.page.get_by_label("Full name").fill("Nadia Ferri")
    nadia.page.get_by_label("Password", exact=True).fill("a long and unusual passphrase")
    nadia.page.get_by_label("Password (again)").fill("a long and unusual passphrase")
    nadia.reset()
    nadia.page.get_by_role("button", name="Create account and join").click()
    nadia.page.wait_for_load_state("load")
    with unscoped("assertion"):
        assert Membership.objects.get(user__email="nadia@lavoro.gov.example", organisation=italy).role == "official"
    nadia.go("/accounts/profile/")
    assert "nadia@lavoro.gov.example" in nadia.page.content()


def test_password_reset_pages(visitor: Any, alice: User) -> None:
    page = visitor.page
    visitor.go("/accounts/password-reset/")
    page.get_by_label("E-mail address").fill(alice.email)
    visitor.reset()
    page.get_by_role("button", name="Send the link").click()
    visitor.check()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your e-mail"
    link = re.search(r"https?://[^/\s]+(/accounts/password-reset/\S+/\S+/)", mail.outbox[0].body).group(1)
    visitor.go(link)
    page.get_by_label("New password", exact=True).fill("an entirely new passphrase")
    page.get_by_label("New password confirmation").fill("an entirely new passphrase")
    visitor.reset()
    page.get_by_role("button", name="Change my password").click()
    visitor.check()
    assert page.get_by_role("heading", level=1).inner_text() == "Password changed"
    alice.refresh_from_db()
    assert alice.check_password("an entirely new passphrase")
