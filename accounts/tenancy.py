"""The tenant-scoping layer: who is acting, for which organisation, and what they may touch.

One mechanism, two halves (docs/architecture.md explains why):

1. **Private rows** (memberships, tokens, invitations, audit events, and later
   subscriptions and deliveries) use django-scopes' ``ScopedManager``. A query made
   outside ``tenant_scope(actor)`` raises ``ScopeError``; inside it, the default
   manager adds ``organisation = actor.organisation`` to every query, joins and
   related managers included. The scope is switched on only at the edges: the API
   base view, the web views' decorator, the Celery task base class and the
   management commands.
2. **Shared rows** (organisations, published listings, matches) are meant to cross
   tenant lines, so "scope" is visibility: their querysets offer
   ``visible_to(actor)`` / ``editable_by(actor)`` and views only ever start from those.

Anything that must look across tenants (authentication, the operators' admin,
data migrations) says so with ``unscoped("why")``, which is easy to grep for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django_scopes import scope, scopes_disabled

if TYPE_CHECKING:
    from accounts.models import Organisation, User


@dataclass(frozen=True)
class Actor:
    """A user acting for one organisation with one role (or anonymous)."""

    user: User | None
    organisation: Organisation | None
    role: str | None

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(user=None, organisation=None, role=None)

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None and self.organisation is not None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_write(self) -> bool:
        """Officials and admins of governments, moderators and admins of agencies."""
        return self.role in ("admin", "official", "moderator")

    @property
    def is_agency(self) -> bool:
        return self.organisation is not None and self.organisation.kind == "agency"

    @property
    def country(self) -> str:
        return str(self.organisation.country) if self.organisation else ""


@contextmanager
def tenant_scope(actor: Actor) -> Iterator[None]:
    """Activate the fail-closed scope for this actor's organisation.

    An anonymous actor gets an empty scope (``organisation__in=[]``), never
    ``None``: django-scopes treats ``None`` as "no filter".
    """
    value = actor.organisation.pk if actor.organisation is not None else []
    with scope(organisation=value):
        yield


@contextmanager
def unscoped(reason: str) -> Iterator[None]:
    """Deliberately look across tenants. ``reason`` documents why, for reviewers."""
    if not reason:
        raise ValueError("Say why the query must cross tenants.")
    with scopes_disabled():
        yield
