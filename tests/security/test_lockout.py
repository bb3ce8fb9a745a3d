"""Sign-in lockout: django-axes per e-mail *and* client address, plus the per-account
back-off across addresses (accounts/lockout.py), with its e-mailed unlock link."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import OutboundEmail, SignInBackoff, User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PROXY = "10.0.0.2"  # the reverse proxy every request arrives through
WRONG = "not the password at all"


@pytest.fixture(autouse=True)
def _behind_one_trusted_proxy(settings: Any) -> None:
    """One proxy in front of the site, whose X-Forwarded-For names the client.

    (AXES_CLIENT_IP_CALLABLE is the production setting's value, set here so the test
    does not depend on the order in which branches are merged.)
    """
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"
    settings.SIGNIN_BACKOFF_AFTER_FAILURES = 10


def attempt(email: str, password: str, client_address: str) -> Any:
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_address).post(
        LOGIN, {"email": email, "password": password}
    )


def signed_in(response: Any) -> bool:
    return response.status_code == 302 and response.wsgi_request.user.is_authenticated


def refusal(response: Any) -> str:
    """The words of a refused attempt, without the echoed e-mail address."""
    assert response.status_code in (200, 429)
    return " ".join(re.findall(r'class="error-summary.*?</div>', response.content.decode(), re.S))


def test_five_wrong_passwords_behind_a_shared_proxy_do_not_lock_out_another_user(bob: User) -> None:
    for _ in range(5):
        attempt(bob.email, WRONG, "198.51.100.66")  # a stranger, or a colleague mistyping
    assert attempt(bob.email, WRONG, "198.51.100.66").status_code == 429  # that address is locked
    assert signed_in(attempt(bob.email, PASSWORD, "203.0.113.7"))  # Bob, at his own address, is not


def test_forty_failures_from_forty_addresses_start_the_back_off(bob: User) -> None:
    for n in range(40):
        response = attempt(bob.email, WRONG, f"192.0.2.{n + 1}")
        assert response.status_code == 200  # never the per-address lock: one try per address
    backoff = SignInBackoff.objects.get(email=bob.email)
    assert backoff.blocked_until is not None and backoff.blocked_until > timezone.now()
    # Even the right password, from a fresh address, is refused while the delay runs:
    # the password is not checked, and the answer is the one for a wrong password.
    response = attempt(bob.email, PASSWORD, "203.0.113.7")
    assert not signed_in(response)
    assert "Enter a correct e-mail address and password." in response.content.decode()
    # Attempts inside the delay are not counted (they were not checked).
    assert SignInBackoff.objects.get(email=bob.email).failures == backoff.failures


def test_each_failure_past_the_threshold_doubles_the_delay(bob: User) -> None:
    delays = []
    for n in range(14):
        SignInBackoff.objects.filter(email=bob.email).update(blocked_until=None)  # the delay has passed
        attempt(bob.email, WRONG, f"192.0.2.{n + 1}")
        row = SignInBackoff.objects.get(email=bob.email)
        delays.append(round((row.blocked_until - row.last_failure_at).total_seconds()) if row.blocked_until else 0)
    assert delays[:9] == [0] * 9
    assert delays[9:] == [2, 4, 8, 16, 32]


def test_the_owner_is_emailed_an_unlock_link_that_works_once(bob: User) -> None:
    for n in range(12):
        SignInBackoff.objects.filter(email=bob.email).update(blocked_until=None)
        attempt(bob.email, WRONG, f"192.0.2.{n + 1}")
    [email] = OutboundEmail.objects.filter(to=bob.email)  # one e-mail, not one per attempt
    link = re.search(r"http://\S+/accounts/unlock/\S+/", email.body)
    assert link is not None
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    path = "/" + path

    assert not signed_in(attempt(bob.email, PASSWORD, "203.0.113.7"))
    page = Client()
    assert page.get(path).status_code == 200  # asks first: opening the link changes nothing
    assert SignInBackoff.objects.filter(email=bob.email).exists()
    assert page.post(path)["Location"] == LOGIN
    assert signed_in(attempt(bob.email, PASSWORD, "203.0.113.7"))

    # Used once: the same link is dead now, even once a new back-off starts.
    for n in range(12):
        SignInBackoff.objects.filter(email=bob.email).update(blocked_until=None)
        attempt(bob.email, WRONG, f"192.0.2.{n + 100}")
    assert Client().get(path).status_code == 404
    assert Client().post(path).status_code == 404
    assert SignInBackoff.objects.get(email=bob.email).blocked_until is not None


def test_an_expired_unlock_link_does_nothing(bob: User, settings: Any) -> None:
    for n in range(11):
        SignInBackoff.objects.filter(email=bob.email).update(blocked_until=None)
        attempt(bob.email, WRONG, f"192.0.2.{n + 1}")
    from accounts.lockout import unlock_token

    token = unlock_token(SignInBackoff.objects.get(email=bob.email))
    settings.SIGNIN_UNLOCK_LINK_SECONDS = -1  # every link is older than that
    assert Client().post(f"/accounts/unlock/{token}/").status_code == 404
    assert SignInBackoff.objects.get(email=bob.email).blocked_until is not None


def test_the_message_is_the_same_for_existing_and_unknown_accounts(bob: User) -> None:
    unknown = "nobody@lavoro.gov.example"
    for n in range(11):
        for email in (bob.email, unknown):
            SignInBackoff.objects.filter(email=email).update(blocked_until=None)
            first = attempt(email, WRONG, f"192.0.2.{n + 1}")
    # A wrong password, and an attempt inside the back-off, for each kind of address.
    wrong_existing = refusal(attempt(bob.email, WRONG, "198.51.100.1"))
    wrong_unknown = refusal(attempt(unknown, WRONG, "198.51.100.2"))
    assert wrong_existing == wrong_unknown
    assert SignInBackoff.objects.get(email=unknown).blocked_until is not None
    assert "Enter a correct e-mail address and password." in wrong_existing
    assert first.status_code == 200
    # Nobody is e-mailed about an address without an account.
    assert not OutboundEmail.objects.filter(to=unknown).exists()


def test_a_successful_sign_in_forgets_earlier_failures(bob: User) -> None:
    for n in range(5):
        attempt(bob.email, WRONG, f"192.0.2.{n + 1}")
    assert signed_in(attempt(bob.email, PASSWORD, "203.0.113.7"))
    assert not SignInBackoff.objects.filter(email=bob.email).exists()


def test_failures_spread_beyond_the_window_start_counting_afresh(bob: User, settings: Any) -> None:
    for n in range(9):
        attempt(bob.email, WRONG, f"192.0.2.{n + 1}")
    past = timezone.now() - timedelta(seconds=settings.SIGNIN_BACKOFF_WINDOW_SECONDS + 1)
    SignInBackoff.objects.filter(email=bob.email).update(last_failure_at=past)
    attempt(bob.email, WRONG, "192.0.2.50")
    row = SignInBackoff.objects.get(email=bob.email)
    assert row.failures == 1 and row.blocked_until is None
