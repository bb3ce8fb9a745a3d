"""The base of every server-rendered page: who is acting, in which tenant scope.

The API has ``config.api.ActorMixin``; pages have the two decorators here, and
nothing else may read tenant data from a web view:

* ``@actor_required`` — signed in and acting for an organisation. Sets
  ``request.actor`` (``accounts.tenancy.Actor``) and runs the view, its template
  rendering included, inside ``tenant_scope(actor)``. ``roles=`` limits the
  view to those membership roles (others get 403); ``agency=True`` to agency staff.
* ``@public_page`` — anyone; ``request.actor`` is the signed-in actor or anonymous,
  and the view runs inside that actor's scope (an anonymous scope matches nothing).

Both run the view in one ``tenant_boundary(actor)``, which leaves the thread's
scope state exactly as it was, also when the view raises. A streamed response's
body (``csv_response``) is produced after the view returns, so it is wrapped in
``scoped_stream``: the actor's scope is active while each chunk is generated and
left after it, also when generation raises.

Views must render with ``render()`` (not a lazy ``TemplateResponse``) so that the
template is evaluated while the scope is still active.

Helpers shared by the pages: ``paginate``, ``confirm_page`` (the confirmation step
of a state change), ``flatten_errors`` (a DRF
``ValidationError`` into ``{"field.0.sub": [messages]}`` for inline errors) and
``csv_response`` (streamed, formula-safe CSV).
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.forms.renderers import TemplatesSetting
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.selectors import memberships_of_user
from accounts.tenancy import Actor, scoped_stream, tenant_boundary

if TYPE_CHECKING:
    from accounts.models import User

SESSION_ORGANISATION_KEY = "corridor_organisation"  # the same key config.api reads
PAGE_SIZE = 25

View = Callable[..., HttpResponseBase]


class AuthenticatedRequest(HttpRequest):
    """For the type checker: a request that ``login_required`` has let through."""

    user: User


class FormRenderer(TemplatesSetting):
    """Every form field renders through ``components/field.html`` (label, hint, error, aria)."""

    field_template_name = "components/field.html"


def web_actor(request: HttpRequest) -> Actor:
    """The actor of a browser session: the organisation chosen in the switcher, else the first."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Actor.anonymous()
    cached = getattr(request, "_corridor_actor", None)
    if cached is not None:
        return cached
    memberships = web_memberships(request)
    chosen = request.session.get(SESSION_ORGANISATION_KEY)
    membership = next((m for m in memberships if str(m.organisation_id) == chosen), None)
    if membership is None and memberships:
        membership = memberships[0]
    if membership is not None:
        actor = Actor(user=user, organisation=membership.organisation, role=membership.role)
    else:
        actor = Actor(user=user, organisation=None, role=None)
    request._corridor_actor = actor  # type: ignore[attr-defined]
    return actor


def web_memberships(request: HttpRequest) -> list[Any]:
    """The signed-in user's memberships (for the switcher), read once per request."""
    if not hasattr(request, "_corridor_memberships"):
        # Only called for a signed-in user (web_actor checks first).
        user = cast("User", request.user)
        request._corridor_memberships = memberships_of_user(user=user)  # type: ignore[attr-defined]
    return request._corridor_memberships  # type: ignore[attr-defined]


def actor_required(view: View | None = None, *, roles: Sequence[str] | None = None, agency: bool | None = None) -> Any:
    """Signed in, acting for an organisation, optionally with one of ``roles``."""

    def decorate(func: View) -> View:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            actor = web_actor(request)
            if actor.organisation is None:
                return render(request, "components/no_organisation.html", status=403)
            if roles is not None and actor.role not in roles:
                raise PermissionDenied(_("Your role in this organisation cannot do this."))
            if agency is not None and actor.is_agency != agency:
                raise PermissionDenied(_("Only agency staff can do this.") if agency else _("Agencies cannot do this."))
            request.actor = actor  # type: ignore[attr-defined]
            with tenant_boundary(actor):
                return keep_scope(func(request, *args, **kwargs), actor)

        return wrapper

    return decorate(view) if view is not None else decorate


def keep_scope(response: HttpResponseBase, actor: Actor) -> Any:
    """A streamed body is produced after the view returns: produce it in the actor's scope too.

    A ``FileResponse`` is left alone: its bytes come from storage, not the
    database, and wrapping it would cost the server's ``wsgi.file_wrapper``.
    """
    if isinstance(response, StreamingHttpResponse) and not isinstance(response, FileResponse):
        response.streaming_content = scoped_stream(actor, response.streaming_content)  # type: ignore[arg-type]  # a WSGI response: synchronous
    return response


def public_page(func: View) -> View:
    """Open to everyone; signed-in users act as themselves (and see what they may see)."""

    @functools.wraps(func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor = web_actor(request)
        request.actor = actor  # type: ignore[attr-defined]
        with tenant_boundary(actor):
            return keep_scope(func(request, *args, **kwargs), actor)

    return wrapper


def paginate(request: HttpRequest, items: Any, *, per_page: int = PAGE_SIZE) -> Page:
    """One page of ``items``; a missing or bad ``page`` shows the nearest valid page."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def confirm_page(
    request: HttpRequest,
    *,
    title: Any,
    question: Any,
    button: Any,
    cancel_url: str,
    explanation: Any = "",
    action_url: str | None = None,
    warning: bool = False,
    form: Any = None,
) -> HttpResponse:
    """The confirmation step of a state change (``components/confirm.html``).

    A GET shows what will happen (``question``, ``explanation``) with a button that
    POSTs to ``action_url`` (by default the page itself) and a way back
    (``cancel_url``). ``warning`` marks the button as destructive; ``form`` (a reason,
    say) is shown above the buttons, and when it has errors the page is a 400.
    """
    context = {
        "title": title,
        "question": question,
        "explanation": explanation,
        "action_url": request.path if action_url is None else action_url,
        "button": button,
        "cancel_url": cancel_url,
        "warning": warning,
        "form": form,
    }
    return render(request, "components/confirm.html", context, status=400 if form is not None and form.errors else 200)


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """``{"occupation_lines": [{"quantity": ["…"]}]}`` → ``{"occupation_lines.0.quantity": ["…"]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "__all__" if key in ("non_field_errors", "__all__") and not prefix else str(key)
            out.update(flatten_errors(value, f"{prefix}.{name}" if prefix else name))
    elif isinstance(detail, list) and detail and all(isinstance(item, str) for item in detail):
        out.setdefault(prefix or "__all__", []).extend(str(item) for item in detail)
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            if item:
                out.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    elif detail:
        out.setdefault(prefix or "__all__", []).append(str(detail))
    return out


def csv_cell(value: Any) -> str:
    """A cell as text; one starting with = + - @ would be a spreadsheet formula, so neutralise it."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_rows(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # The byte-order mark makes Excel read the file as UTF-8 (accents in names).
    yield "\ufeff" + writer.writerow([str(label) for label in header])
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def csv_response(filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    """A streamed CSV download. Callers pass a lazy ``rows`` (e.g. ``.iterator()``)."""
    response = StreamingHttpResponse(csv_rows(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
