"""An issuer's discovery document and signing keys, fetched through ``accounts.sso.http`` and cached.

OpenID Connect Discovery 1.0, section 4: the document is at
``<issuer>/.well-known/openid-configuration`` and its ``issuer`` must be exactly the
issuer it was fetched for (section 4.3), or the document is refused. The endpoints
Corridor uses must be present; a provider that lists its PKCE methods must offer
``S256``. The document is cached for ``SSO_DISCOVERY_CACHE_SECONDS``; so are the keys
(``jwks_uri``), fetched again at once when a token names a key id the cache does not
have, so that a provider's key rotation works. Failures are never cached.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from accounts.sso import http
from accounts.sso.errors import ProviderMisconfigured

# Asymmetric signatures only: never "none", never an HMAC keyed with the client secret.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
WELL_KNOWN = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class Provider:
    """What Corridor needs of one issuer's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str
    algorithms: tuple[str, ...]
    token_auth_methods: tuple[str, ...]


def _key(kind: str, value: str) -> str:
    return f"sso:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + WELL_KNOWN


def provider_for(issuer: str, *, organisation_name: str, fresh: bool = False) -> Provider:
    """The issuer's checked discovery document (cached unless ``fresh``)."""
    key = _key("discovery", issuer)
    document = None if fresh else cache.get(key)
    if document is None:
        answer = http.request("GET", discovery_url(issuer), provider=organisation_name)
        document = answer.json() if answer.status == 200 else None
        if not isinstance(document, dict):
            raise ProviderMisconfigured(
                _(
                    "The identity provider of %(org)s did not return a usable OpenID Connect configuration "
                    "at %(url)s (HTTP %(status)s)."
                )
                % {"org": organisation_name, "url": discovery_url(issuer), "status": answer.status},
                code="discovery",
            )
        provider = _checked(document, issuer=issuer, organisation_name=organisation_name)
        cache.set(key, document, settings.SSO_DISCOVERY_CACHE_SECONDS)
        return provider
    return _checked(document, issuer=issuer, organisation_name=organisation_name)


def _checked(document: dict[str, Any], *, issuer: str, organisation_name: str) -> Provider:
    def misconfigured(problem: str) -> ProviderMisconfigured:
        return ProviderMisconfigured(
            _("The identity provider of %(org)s is not set up as Corridor needs: %(problem)s")
            % {"org": organisation_name, "problem": problem},
            code="discovery",
        )

    if document.get("issuer") != issuer:
        raise misconfigured(
            _("its configuration names the issuer %(found)s, not %(issuer)s.")
            % {"found": document.get("issuer"), "issuer": issuer}
        )
    for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(document.get(field), str) or not document[field]:
            raise misconfigured(_("its configuration has no %(field)s.") % {"field": field})
    methods = document.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise misconfigured(_("it does not offer PKCE with S256."))
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = tuple(a for a in SIGNING_ALGORITHMS if a in offered)
    if not algorithms:
        raise misconfigured(_("it signs ID tokens with none of %(algs)s.") % {"algs": ", ".join(SIGNING_ALGORITHMS)})
    auth_methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return Provider(
        issuer=issuer,
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        userinfo_endpoint=str(document.get("userinfo_endpoint") or ""),
        algorithms=algorithms,
        token_auth_methods=tuple(str(m) for m in auth_methods),
    )


def signing_keys(provider: Provider, *, organisation_name: str, fresh: bool = False) -> list[dict[str, Any]]:
    """The provider's JSON Web Key Set's keys (cached unless ``fresh``)."""
    key = _key("jwks", provider.jwks_uri)
    keys = None if fresh else cache.get(key)
    if keys is None:
        answer = http.request("GET", provider.jwks_uri, provider=organisation_name)
        document = answer.json() if answer.status == 200 else None
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise ProviderMisconfigured(
                _("The identity provider of %(org)s did not return its signing keys (HTTP %(status)s).")
                % {"org": organisation_name, "status": answer.status},
                code="jwks",
            )
        cache.set(key, keys, settings.SSO_DISCOVERY_CACHE_SECONDS)
    return [k for k in keys if isinstance(k, dict)]


def forget(issuer: str) -> None:
    """Drop the cached document (the configuration changed)."""
    cache.delete(_key("discovery", issuer))
