"""The API base: pagination, schema, and the actor-aware views every endpoint inherits.

Rules (docs/architecture.md, "Tenant scoping"):

* Every API view inherits ``ActorAPIView`` or ``ActorViewSet``. The base resolves
  the actor once (user + organisation + role) in ``initial()``, checks the
  organisation's two-factor requirement, and runs the handler inside the
  fail-closed tenant scope. ``dispatch()`` is wrapped in one
  ``tenant_boundary()``; ``initial()`` activates the actor's scope inside it, and
  the boundary alone leaves it, so an error (even one DRF does not handle) leaves
  the thread's scope state as it was before the request. A streamed body is
  produced inside the actor's scope too (``config.web.keep_scope``).
* Viewsets implement ``queryset_for(actor)``; ``get_queryset`` is final (defining it
  in a subclass is a TypeError at import time), so no view can forget the actor.
  An object outside that queryset is a 404, exactly like a missing one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from accounts.models import ApiToken, Organisation
from accounts.selectors import membership_for, memberships_of_user, organisation_list
from accounts.tenancy import Actor, TenantBoundary, tenant_boundary, unscoped
from config.web import keep_scope

if TYPE_CHECKING:
    from accounts.models import User

SESSION_ORGANISATION_KEY = "corridor_organisation"


# --- Actor resolution -----------------------------------------------------------------


def _resolve_organisation(request: Request) -> Organisation | None:
    user = cast("User", request.user)  # called once authentication has let a user through
    header = request.headers.get("X-Organisation", "").strip()
    if header:
        org = organisation_list().identified_by(header).first()
        if org is None or membership_for(user=user, organisation=org) is None:
            raise exceptions.PermissionDenied(
                _("X-Organisation: you are not a member of an active organisation with that id or slug.")
            )
        return org
    chosen = request.session.get(SESSION_ORGANISATION_KEY) if hasattr(request, "session") else None
    memberships = memberships_of_user(user=user)
    for m in memberships:
        if str(m.organisation_id) == chosen:
            return m.organisation
    return memberships[0].organisation if memberships else None


def resolve_actor(request: Request) -> Actor:
    user = request.user
    if not user or not user.is_authenticated:
        return Actor.anonymous()
    if isinstance(request.auth, ApiToken):
        org: Organisation | None = request.auth.organisation
    else:
        org = _resolve_organisation(request)
    if isinstance(request.auth, ApiToken) and hasattr(request.auth, "membership"):
        membership = request.auth.membership
    else:
        membership = membership_for(user=user, organisation=org) if org else None
    if membership is None:
        return Actor(user=user, organisation=None, role=None)
    return Actor(user=user, organisation=org, role=membership.role)


class ActorMixin:
    """Resolves ``self.actor`` once per request and runs the handler in its scope.

    Views that anonymous callers may read set ``public = True`` (and a permission
    class allowing it). Views that work without an organisation (``/me``) set
    ``requires_organisation = False``.
    """

    public = False
    requires_organisation = True
    actor: Actor
    _tenant: TenantBoundary

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        with tenant_boundary() as self._tenant:
            response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
            if self._tenant.actor is not None:
                response = keep_scope(response, self._tenant.actor)
            return response

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self.actor = resolve_actor(request)
        if request.user and request.user.is_authenticated:
            if self.requires_organisation and self.actor.organisation is None:
                raise exceptions.PermissionDenied(_("You are not a member of any active organisation."))
            self._check_two_factor(request)
        self._tenant.activate(self.actor)

    def _check_two_factor(self, request: Request) -> None:
        org = self.actor.organisation
        if org is None or not org.require_two_factor or isinstance(request.auth, ApiToken):
            # A token could only be created from a session that passed the rule.
            return
        if not getattr(request.user, "is_verified", lambda: False)():
            exc = exceptions.PermissionDenied(
                _("%(org)s requires two-factor authentication: enrol at /accounts/2fa/setup/ and sign in again.")
                % {"org": org.name}
            )
            exc.default_code = "two_factor_required"
            raise exc

    def handle_exception(self, exc: Exception) -> Response:
        from django.core.exceptions import PermissionDenied as DjangoPermissionDenied

        actor = getattr(self, "actor", None)
        if isinstance(exc, exceptions.PermissionDenied | DjangoPermissionDenied) and actor and actor.is_authenticated:
            # A refused attempt is worth knowing about (OWASP API5): record who tried what.
            from accounts.services import audit_record

            audit_record(
                actor=actor,
                action="access.denied",
                object_type="api",
                object_id=f"{self.request.method} {self.request.path}"[:64],  # type: ignore[attr-defined]  # a mixin for APIView
                changes={"detail": str(exc)[:500], "method": self.request.method, "path": self.request.path},  # type: ignore[attr-defined]
            )
        return super().handle_exception(exc)  # type: ignore[misc]

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()  # type: ignore[misc]
        context["actor"] = getattr(self, "actor", Actor.anonymous())
        return context


class ActorAPIView(ActorMixin, APIView):
    def get_serializer_context(self) -> dict[str, Any]:
        return {"request": self.request, "view": self, "actor": self.actor}


class ActorViewSet(ActorMixin, GenericViewSet):
    """Viewsets implement ``queryset_for(actor)``; ``get_queryset`` is not overridable."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset; implement queryset_for(actor) instead so the "
                "tenant filter cannot be skipped."
            )

    queryset_for: Any  # (actor: Actor) -> QuerySet, defined by every concrete viewset

    def get_queryset(self) -> QuerySet[Any]:
        actor = getattr(self, "actor", None)
        if actor is None:
            # Schema generation introspects views without a request: give it the
            # model's empty queryset, never real rows.
            with unscoped("schema generation: an empty queryset, no rows read"):
                return self.queryset_for(Actor.anonymous()).none()
        return self.queryset_for(actor)
