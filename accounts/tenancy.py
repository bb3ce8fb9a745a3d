"""The tenant-scoping layer: who is acting, for which organisation, and what they may touch.

One mechanism, two halves (docs/architecture.md explains why):

1. **Private rows** (memberships, tokens, invitations, audit events, and later
   subscriptions and deliveries) use django-scopes' ``ScopedManager``. A query made
   outside ``tenant_scope(actor)`` raises ``ScopeError``; inside it, the default
   manager adds ``organisation = actor.organisation`` to every query, joins and
   related managers included. The scope is switched on only at the edges (the API
   base view, the web views' decorators, streamed bodies, the Celery task base
   class and the management commands), and always through ``tenant_boundary()``,
   one context manager around the whole unit of work that leaves the scope state
   exactly as it found it, also when the work raises.
2. **Shared rows** (organisations, listings, matches, partnerships) are meant to
   cross tenant lines, so "scope" is visibility, decided by each domain's access
   module (``opportunities.access``, ``exchange.access``): views start from its
   ``…_visible_to(actor)`` querysets. The shared models (listings, their
   transitions and revisions, matches, messages, partnerships and their
   documents) have a ``SharedManager``: inside a tenant scope it refuses every
   query unless it runs ``through_access("why")`` (the access module's readers,
   the selectors built on them, and the services that write what the caller
   resolved through them) or ``unscoped("why")``.

Anything that must look across tenants (authentication, the operators' admin,
data migrations) says so with ``unscoped("why")``, which is easy to grep for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from celery import Task
from django.db import models
from django_scopes import ScopeError, scope, scopes_disabled
from django_scopes.state import get_scope
from django_scopes.state import state as _scope_state

from accounts.models import Role

if TYPE_CHECKING:
    from accounts.models import Organisation, User

# The roles that may write (governments' officials and admins, agencies' moderators and admins).
WRITING_ROLES = frozenset({Role.ADMIN, Role.OFFICIAL, Role.MODERATOR})


@dataclass(frozen=True)
class Actor:
    """A user acting for one organisation with one role (or anonymous)."""

    user: User | None
    organisation: Organisation | None
    role: str | None

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(user=None, organisation=None, role=None)

    @classmethod
    def of_organisation(cls, organisation: Organisation) -> Actor:
        """The organisation itself, with no user: a task acting on the organisation's behalf."""
        return cls(user=None, organisation=organisation, role=None)

    @property
    def org(self) -> Organisation:
        """The organisation of an authenticated actor (``@actor_required`` views, the API's
        authenticated views, tasks): the typed accessor for code where it cannot be None."""
        if self.organisation is None:
            raise AttributeError("An anonymous actor has no organisation.")
        return self.organisation

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None and self.organisation is not None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_write(self) -> bool:
        """Officials and admins of governments, moderators and admins of agencies."""
        return self.role in WRITING_ROLES

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
    value: Any = actor.organisation.pk if actor.organisation is not None else []
    with scope(organisation=value):
        yield


@contextmanager
def unscoped(reason: str) -> Iterator[None]:
    """Deliberately look across tenants. ``reason`` documents why, for reviewers."""
    if not reason:
        raise ValueError("Say why the query must cross tenants.")
    with scopes_disabled():
        yield


_M = TypeVar("_M", bound=models.Model)

_ACCESS_GRANT: ContextVar[str | None] = ContextVar("corridor_access_grant", default=None)


@contextmanager
def through_access(reason: str) -> Iterator[None]:
    """Query a shared model inside a tenant scope: for access modules (and the services
    writing what was resolved through them). Usable as a decorator."""
    if not reason:
        raise ValueError("Say which access rule this query applies.")
    token = _ACCESS_GRANT.set(reason)
    try:
        yield
    finally:
        _ACCESS_GRANT.reset(token)


def in_tenant_scope() -> bool:
    """A request, page, stream or task is running for an organisation (or anonymously)."""
    current = get_scope()
    return bool(current.get("_enabled")) and "organisation" in current


class SharedManager(models.Manager[_M]):
    """The fail-closed default manager of a shared model with private parts.

    Outside any tenant scope (migrations, the shell, operators' commands) it is a
    plain manager. Inside one it raises ``ScopeError`` unless the query is made
    ``through_access(...)`` or ``unscoped(...)``: a view or serializer that reached
    for the model directly, past the access module, fails loudly in tests.
    """

    def __init__(self, access: str = "") -> None:
        super().__init__()
        self.access = access

    def get_queryset(self) -> models.QuerySet[_M]:
        if in_tenant_scope() and _ACCESS_GRANT.get() is None:
            where = self.access or "its domain's access module"
            raise ScopeError(
                f"{self.model.__name__} is shared with private parts: read it through {where} "
                "(through_access) or say why with unscoped()."
            )
        return super().get_queryset()


class TenantBoundary:
    """The handle ``tenant_boundary()`` yields: ``activate(actor)`` once the actor is known.

    DRF resolves the actor in ``initial()``, after authentication and inside
    ``dispatch()``; the boundary is opened around ``dispatch()`` and the actor's
    scope activated inside it, so that nothing but the boundary ever leaves it.
    """

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self.actor: Actor | None = None

    def activate(self, actor: Actor) -> None:
        if self.actor is not None:
            raise RuntimeError("A tenant boundary activates one actor; open a new boundary for another.")
        self._stack.enter_context(tenant_scope(actor))
        self.actor = actor


@contextmanager
def tenant_boundary(actor: Actor | None = None) -> Iterator[TenantBoundary]:
    """The one way the edges (requests, streamed bodies, tasks) enter and leave a tenant scope.

    With ``actor``, its scope is active for the whole block; without, call
    ``boundary.activate(actor)`` when the actor is known. On the way out, however
    the block ends (a return, an exception, a scope entered by hand and never
    left), the thread's scope state is put back to exactly what it was on entry.
    """
    saved = _scope_state.get()
    try:
        with ExitStack() as stack:
            boundary = TenantBoundary(stack)
            if actor is not None:
                boundary.activate(actor)
            yield boundary
    finally:
        _scope_state.set(saved)


def scoped_stream(actor: Actor, content: Iterable[Any]) -> Iterator[Any]:
    """Iterate a streamed body with ``actor``'s scope active while each chunk is produced.

    The scope is entered and left around every ``next()`` (and the final
    ``close()``), never held open across a ``yield``: between chunks the server
    runs its own code, and a client that disconnects may never resume the stream.
    """
    iterator = iter(content)
    try:
        while True:
            with tenant_boundary(actor):
                try:
                    chunk = next(iterator)
                except StopIteration:
                    return
            yield chunk
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            with tenant_boundary(actor):
                close()


class OrganisationTask(Task):
    """A Celery task that acts for one organisation: it runs inside that organisation's scope.

    In the manner of pretix's ``EventTask``: the task takes ``organisation_id`` as a
    keyword argument (an id, never an object, so the message stays JSON and a retry
    re-sends it), and the base class opens ``tenant_boundary()`` for that
    organisation around the task body, so the body queries as a request would.
    Tasks that deliberately cross tenants (sweeps, digests) do not use this base and
    say so inside with ``unscoped("why")``.

        @shared_task(base=OrganisationTask, name="exchange.deliver")
        def deliver(delivery_id: str, *, organisation_id: str) -> str: ...
    """

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        organisation_id = kwargs.get("organisation_id")
        if not organisation_id:
            raise TypeError(f"{self.name} acts for one organisation: call it with organisation_id=.")
        from accounts.models import Organisation

        # Organisations are shared rows (not scoped): reading one needs no unscoped().
        organisation = Organisation.objects.get(pk=organisation_id)
        with tenant_boundary(Actor.of_organisation(organisation)):
            return super().__call__(*args, **kwargs)
