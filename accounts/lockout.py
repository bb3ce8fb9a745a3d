"""The per-account sign-in back-off: a brake on guessing one password from many addresses.

django-axes keeps its lock per e-mail *and* client address (``AXES_LOCKOUT_PARAMETERS``),
so a stranger's failures behind a shared proxy never lock a real user out. That lock
alone lets forty addresses guess freely, hence this second rule, per e-mail across
all addresses: after ``SIGNIN_BACKOFF_AFTER_FAILURES`` failures, each close to the
last (within ``SIGNIN_BACKOFF_WINDOW_SECONDS``), the next attempt must wait 2, 4,
8 … seconds, at most ``SIGNIN_BACKOFF_MAX_SECONDS``. It is a delay, not a lock:
the owner can still sign in once it passes, and an e-mailed link clears it at once.

An attempt inside the delay is refused with the same words as a wrong password, and
the password is not even checked, so neither the words nor the timing tell a guesser
whether the account exists or whether a guess was right. Addresses without an
account get the same treatment (they are never e-mailed, of course).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.mail import email_enqueue
from accounts.models import SignInBackoff, User

UNLOCK_SALT = "corridor.signin-unlock"


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def backoff_delay(*, failures: int) -> int:
    """Seconds the next attempt must wait after ``failures`` failures close together (0: none)."""
    over = failures - settings.SIGNIN_BACKOFF_AFTER_FAILURES
    if over < 0:
        return 0
    return int(min(2 ** (over + 1), settings.SIGNIN_BACKOFF_MAX_SECONDS))


def backoff_blocked(*, email: str) -> bool:
    """True while attempts for this e-mail address must wait."""
    return SignInBackoff.objects.filter(email=normalise_email(email), blocked_until__gt=timezone.now()).exists()


@transaction.atomic
def backoff_record_failure(*, email: str) -> SignInBackoff:
    """Count one failed sign-in for ``email``; past the threshold, delay the next attempt.

    The first time the back-off starts (no unlock link outstanding), the account's
    owner, if there is one, is e-mailed a link that clears it.
    """
    key = normalise_email(email)
    now = timezone.now()
    SignInBackoff.objects.get_or_create(email=key)  # the row to lock, created once
    row = SignInBackoff.objects.select_for_update().get(email=key)
    if now - row.last_failure_at > timedelta(seconds=settings.SIGNIN_BACKOFF_WINDOW_SECONDS):
        row.failures = 0  # a quiet spell: start counting afresh
    row.failures += 1
    row.last_failure_at = now
    delay = backoff_delay(failures=row.failures)
    if delay:
        row.blocked_until = now + timedelta(seconds=delay)
        if not row.unlock_nonce:
            row.unlock_nonce = secrets.token_urlsafe(24)
            _email_unlock_link(row)
    row.save()
    return row


def backoff_clear(*, email: str) -> None:
    """A successful sign-in: the owner is back, forget the failures."""
    SignInBackoff.objects.filter(email=normalise_email(email)).delete()


def unlock_token(row: SignInBackoff) -> str:
    return signing.dumps({"e": row.email, "n": row.unlock_nonce}, salt=UNLOCK_SALT, compress=True)


@transaction.atomic
def backoff_unlock(*, token: str) -> bool:
    """Clear the back-off the link was sent for. Works once, and only until it expires."""
    try:
        data = signing.loads(token, salt=UNLOCK_SALT, max_age=settings.SIGNIN_UNLOCK_LINK_SECONDS)
    except signing.BadSignature:  # includes SignatureExpired
        return False
    if not isinstance(data, dict) or not data.get("n"):
        return False
    row = SignInBackoff.objects.select_for_update().filter(email=data.get("e", "")).first()
    if row is None or not secrets.compare_digest(row.unlock_nonce, str(data["n"])):
        return False
    row.delete()
    return True


def unlock_token_valid(*, token: str) -> bool:
    """Whether the link would work now (the page asks before it acts: mail scanners follow links)."""
    try:
        data = signing.loads(token, salt=UNLOCK_SALT, max_age=settings.SIGNIN_UNLOCK_LINK_SECONDS)
    except signing.BadSignature:
        return False
    if not isinstance(data, dict) or not data.get("n"):
        return False
    row = SignInBackoff.objects.filter(email=data.get("e", "")).first()
    return row is not None and bool(row.unlock_nonce) and secrets.compare_digest(row.unlock_nonce, str(data["n"]))


def _email_unlock_link(row: SignInBackoff) -> None:
    user = User.objects.filter(email__iexact=row.email, is_active=True).first()
    if user is None:
        return
    link = settings.SITE_URL + reverse("accounts:signin_unlock", kwargs={"token": unlock_token(row)})
    hours = settings.SIGNIN_UNLOCK_LINK_SECONDS // 3600
    body = _(
        "Someone has tried many wrong passwords for your Corridor account (%(email)s), so each new "
        "sign-in attempt must now wait a little longer than the one before.\n\n"
        "If this was you and you remember your password now, open this link to sign in straight away:\n\n"
        "%(link)s\n\n"
        "The link works once, for %(hours)s hours. If it was not you, your password held: you need do "
        "nothing, but consider choosing a longer one."
    ) % {"email": user.email, "link": link, "hours": hours}
    email_enqueue(
        key=f"signin-unlock:{row.pk}:{row.unlock_nonce}",
        to=user.email,
        subject=_("Corridor: many failed sign-in attempts on your account"),
        body=body,
    )
