"""Secrets handed to people once and stored only as hashes (API tokens, invitations)."""

from __future__ import annotations

import hashlib
import secrets

API_TOKEN_PREFIX = "crd_"  # noqa: S105 - a public prefix, not a secret


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(value: str) -> str:
    # The secrets carry 256 random bits, so a fast hash is enough: there is nothing
    # to brute-force, and lookups by hash stay a single indexed equality.
    return hashlib.sha256(value.encode()).hexdigest()
