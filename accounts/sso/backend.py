"""mozilla-django-oidc's authentication backend, one per organisation.

mozilla-django-oidc reads one provider from the settings; here each organisation has
its own (``accounts.models.SingleSignOn``), so the backend is built with that row and
its issuer's discovery document, and the library's network calls go through
``accounts.sso.http`` (the webhooks' SSRF defences, short timeouts) instead of bare
``requests``. Its ID token check is completed: besides the signature (from the
provider's JWKS) and the nonce, the issuer and the audience are verified (the library
leaves the audience unchecked), the token must carry ``exp``, ``iat`` and ``sub``, and
only asymmetric algorithms the provider announces are accepted.

A failure raises ``accounts.sso.errors.SingleSignOnError`` with the words the error
page shows (the library would return ``None`` and redirect, leaving the person with
no idea why). Called by the callback view only: Django's ``authenticate()`` with a
password reaches it too (it is in ``AUTHENTICATION_BACKENDS`` so that sessions can
load their user), and it answers ``None`` to that.
"""

from __future__ import annotations

import base64
import hmac
from typing import Any
from urllib.parse import quote

import jwt
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.models import SingleSignOn, User
from accounts.sso import discovery, http
from accounts.sso.errors import ProviderMisconfigured, SignInInvalid, SignInRefused

# Clock skew allowed between Corridor and the provider when checking exp and iat.
LEEWAY_SECONDS = 60


class SingleSignOnBackend(OIDCAuthenticationBackend):
    def __init__(self, single_sign_on: SingleSignOn | None = None, provider: discovery.Provider | None = None) -> None:
        # The library reads its one provider from the settings here; ours is the organisation's row.
        self.UserModel = get_user_model()
        self.single_sign_on = single_sign_on
        self.provider = provider
        self.claims: dict[str, Any] = {}

    def get_user(self, user_id: Any) -> Any:
        # ModelBackend's, which refuses a deactivated user (the library's does not).
        return ModelBackend.get_user(self, user_id)

    @property
    def _org_name(self) -> str:
        assert self.single_sign_on is not None
        return self.single_sign_on.organisation.name

    # --- The flow ------------------------------------------------------------------------

    def authenticate(
        self,
        request: HttpRequest | None,
        single_sign_on: SingleSignOn | None = None,
        code: str = "",
        nonce: str = "",
        code_verifier: str = "",
        redirect_uri: str = "",
        **kwargs: Any,
    ) -> User | None:
        """The verified claims of the person the provider signed in (in ``self.claims``), then the user."""
        if request is None or single_sign_on is None or self.single_sign_on is not single_sign_on:
            return None
        assert self.provider is not None
        self.request = request
        payload = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
            "client_id": single_sign_on.client_id,
        }
        token_info = self.get_token(payload)
        id_token = token_info.get("id_token")
        if not isinstance(id_token, str):
            raise ProviderMisconfigured(
                _("The identity provider of %(org)s answered without an ID token.") % {"org": self._org_name},
                code="no_id_token",
            )
        claims = self.verify_token(id_token, nonce=nonce)
        access_token = token_info.get("access_token")
        if not claims.get("email") and self.provider.userinfo_endpoint and isinstance(access_token, str):
            claims = {**self.get_userinfo(access_token, id_token, claims), **claims}
        self.claims = claims
        from accounts.sso.services import sign_in_user  # services imports this module's errors

        return sign_in_user(single_sign_on=single_sign_on, claims=claims)

    def get_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The code (and the PKCE verifier) exchanged at the token endpoint."""
        assert self.provider is not None and self.single_sign_on is not None
        sso = self.single_sign_on
        headers: dict[str, str] = {}
        if sso.client_secret and "client_secret_basic" in self.provider.token_auth_methods:
            # RFC 6749, 2.3.1: both parts form-encoded before the Basic encoding.
            pair = f"{quote(sso.client_id, safe='')}:{quote(sso.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        elif sso.client_secret:
            payload = {**payload, "client_secret": sso.client_secret}
        answer = http.request(
            "POST", self.provider.token_endpoint, provider=self._org_name, data=payload, headers=headers
        )
        body = answer.json()
        if answer.status == 200 and isinstance(body, dict):
            return body
        error = str(body.get("error", "")) if isinstance(body, dict) else ""
        # RFC 6749, 5.2: a refused client authentication is a 401 (or a 400 naming it).
        if answer.status == 401 or error in ("invalid_client", "unauthorized_client"):
            raise ProviderMisconfigured(
                _(
                    "The identity provider of %(org)s does not accept Corridor's client id or secret (%(error)s). "
                    "An administrator of %(org)s must check the single sign-on settings."
                )
                % {"org": self._org_name, "error": error or answer.status},
                code=error or "invalid_client",
            )
        if 400 <= answer.status < 500:
            raise SignInInvalid(
                _("The identity provider of %(org)s refused to complete this sign-in (%(error)s). Start again.")
                % {"org": self._org_name, "error": error or answer.status},
                code=error or "token_refused",
            )
        raise ProviderMisconfigured(
            _("The identity provider of %(org)s failed to complete the sign-in (HTTP %(status)s). Try again later.")
            % {"org": self._org_name, "status": answer.status},
            code="token_error",
        )

    def retrieve_matching_jwk(self, token: str) -> Any:
        """The provider's key the token names (kid and alg), fetching the keys again once if unknown."""
        assert self.provider is not None
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise self._unverifiable() from None
        kid, alg = header.get("kid"), header.get("alg")
        for fresh in (False, True):
            keys = discovery.signing_keys(self.provider, organisation_name=self._org_name, fresh=fresh)
            for jwk in keys:
                if kid is not None and jwk.get("kid") != kid:
                    continue
                if "alg" in jwk and jwk["alg"] != alg:
                    continue
                if jwk.get("use", "sig") != "sig":
                    continue
                try:
                    return jwt.PyJWK(jwk, algorithm=alg)
                except jwt.PyJWTError:
                    continue
        raise self._unverifiable()

    def _unverifiable(self) -> ProviderMisconfigured:
        return ProviderMisconfigured(
            _(
                "The identity provider of %(org)s sent an ID token Corridor could not verify "
                "(its signature, issuer or audience is not the one expected)."
            )
            % {"org": self._org_name},
            code="id_token",
        )

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """Signature, issuer, audience, expiry and nonce of the ID token (OIDC Core, 3.1.3.7)."""
        assert self.provider is not None and self.single_sign_on is not None
        try:
            alg = jwt.get_unverified_header(token).get("alg")
        except jwt.InvalidTokenError:
            raise self._unverifiable() from None
        if alg not in self.provider.algorithms:
            raise self._unverifiable()
        key = self.retrieve_matching_jwk(token)
        client_id = self.single_sign_on.client_id
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=client_id,
                issuer=self.provider.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError:
            raise self._unverifiable() from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != client_id:
            raise self._unverifiable()
        nonce = str(kwargs.get("nonce") or "")
        if not nonce or not hmac.compare_digest(nonce, str(claims.get("nonce", ""))):
            raise SignInInvalid(
                _("This sign-in's answer does not match the one Corridor started (nonce). Start again."),
                code="nonce",
            )
        return dict(claims)

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The userinfo claims, only when the ID token has no e-mail; same subject or refused."""
        assert self.provider is not None
        answer = http.request(
            "GET",
            self.provider.userinfo_endpoint,
            provider=self._org_name,
            headers={"Authorization": f"Bearer {access_token}"},
        )
        body = answer.json()
        if answer.status != 200 or not isinstance(body, dict) or body.get("sub") != payload.get("sub"):
            raise SignInRefused(
                _("The identity provider of %(org)s did not give Corridor your e-mail address.")
                % {"org": self._org_name},
                code="no_email",
            )
        return body
