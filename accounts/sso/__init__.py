"""Government single sign-on: each organisation's own OpenID Connect provider ([12]).

* ``http``: every request Corridor's server makes to a provider, guarded against
  server-side request forgery with the webhooks' address checks.
* ``discovery``: the provider's ``/.well-known/openid-configuration`` and signing keys,
  cached, checked, with short timeouts.
* ``backend``: mozilla-django-oidc's backend, one per organisation: the code exchange
  with PKCE, the ID token's signature, issuer, audience and nonce.
* ``services``: who may sign in (the e-mail's domain, the role), the first sign-in's
  user and membership, the configuration, and their audit rows.
* ``views``: the start and callback of a sign-in, and the administrators' settings page.

docs/governance.md, "Government single sign-on", has the rules and where they come from.
"""
