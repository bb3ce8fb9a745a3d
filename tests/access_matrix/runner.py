"""The machinery of the access matrix: the expectation DSL, targets, requests and checks.

The table itself lives in ``tests/test_access_matrix.py``; this module turns each
row into cases (operation × role × object kind) and runs one.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.access_matrix.world import AGENCY, GOV, MISSING, MODERATION_AUDIENCE, ROLES, World

LOGIN = "login"  # a 302 to the sign-in page
Expect = int | frozenset[int] | str
Spec = int | str | set[int] | frozenset[int] | dict[str, Any]
KINDS = ("own", "private", "shared", "missing")
COLLECTION = "collection"


def _norm(value: int | str | set[int] | frozenset[int]) -> Expect:
    if isinstance(value, set | frozenset):
        return frozenset(value)
    return value


def spread(spec: Spec | None, roles: tuple[str, ...]) -> dict[str, Expect]:
    """A spec for one object kind: one status for every role, or ``{"role role": status, "*": default}``."""
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        return dict.fromkeys(roles, _norm(spec))
    out: dict[str, Expect] = {}
    for names, value in spec.items():
        if names == "*":
            continue
        for name in names.split():
            group = {"gov": GOV, "agency": AGENCY, "signed_in": (*GOV, *AGENCY)}.get(name, (name,))
            for role in group:
                assert role in roles, (role, roles)
                out[role] = _norm(value)
    if "*" in spec:
        for role in roles:
            out.setdefault(role, _norm(spec["*"]))
    missing = set(roles) - set(out)
    assert not missing, f"no expectation for {sorted(missing)}"
    return out


# --- Targets: which object each placeholder points at, per object kind and role ------------


@dataclass(frozen=True)
class Target:
    kinds: tuple[str, ...]
    owners: tuple[str, ...]  # roles whose organisation can own such an object
    resolve: Callable[[World, str, str], dict[str, str]]


def _by_kind(own: Callable[[World, str], Any], **others: str) -> Callable[[World, str, str], dict[str, str]]:
    """``pk`` of the caller's own object, or of a named world object, or the missing id."""

    def resolve(w: World, role: str, kind: str) -> dict[str, str]:
        if kind == "own":
            return {"pk": str(own(w, role).pk)}
        if kind == "missing":
            return {"pk": MISSING}
        return {"pk": str(w.objects[others[kind]].pk)}

    return resolve


def _org_key(w: World, role: str) -> str:
    return "morocco" if role in GOV else "agency"


def _nested(parent: str, child: str | None, own_parent: Callable[[World, str], Any], own_child: Any, **others: Any):
    def resolve(w: World, role: str, kind: str) -> dict[str, str]:
        if kind == "own":
            out = {parent: str(own_parent(w, role).pk)}
            if child:
                out[child] = str(own_child(w, role).pk)
            return out
        if kind == "missing":
            out = {parent: MISSING}
            if child:
                out[child] = MISSING
            return out
        parent_key, child_key = others[kind]
        out = {parent: str(w.objects[parent_key].pk if parent_key in w.objects else w.orgs[parent_key].pk)}
        if child:
            out[child] = str(w.objects[child_key].pk)
        return out

    return resolve


def _organisation_child(name: str) -> Target:
    """An object under ``/organisations/{organisation_id}/…/{pk}/``: the caller's own, or Italy's."""
    return Target(
        ("own", "private", "missing"),
        ALL,
        _nested(
            "organisation_id",
            "pk",
            lambda w, r: w.org_of(r),
            lambda w, r: w.objects[f"{_org_key(w, r)}_{name}"],
            private=("italy", f"italy_{name}"),
        ),
    )


def _consent(w: World, role: str, kind: str) -> dict[str, str]:
    """A consent by listing and country: "own" is Morocco's (MA) on Italy's consent scheme, which
    Morocco's government decides; "shared" is Moldova's on the same listing (the agencies read it,
    Morocco does not); "private" is Italy's draft, which asks nobody."""
    listing = {"own": "italy_consent_scheme", "shared": "italy_consent_scheme", "private": "italy_draft"}
    pk = MISSING if kind == "missing" else str(w.objects[listing[kind]].pk)
    return {"pk": pk, "country": "MD" if kind == "shared" else "MA"}


ALL = (*GOV, *AGENCY)
TARGETS: dict[str, Target] = {
    "consent": Target(KINDS, GOV, _consent),
    "listing": Target(
        KINDS, GOV, _by_kind(lambda w, r: w.objects["own_listing"], private="italy_draft", shared="italy_shared")
    ),
    # The public API and pages: the "shared" listing is Italy's public one (same story).
    "public_listing": Target(
        ("private", "shared", "missing"),
        (),
        _by_kind(None, private="italy_draft", shared="italy_public"),  # type: ignore[arg-type]
    ),
    # The public partnership pages: Italy's public partnership in force with Moldova, and its private one.
    "public_partnership": Target(
        ("private", "shared", "missing"),
        (),
        _by_kind(None, private="private_partnership", shared="shared_partnership"),  # type: ignore[arg-type]
    ),
    "profile": Target(
        KINDS,
        GOV,
        _by_kind(lambda w, r: w.objects["own_profile"], private="italy_profile_draft", shared="italy_profile_shared"),
    ),
    # The public profile pages: the "shared" profile is Italy's public, published one.
    "public_profile": Target(
        ("private", "shared", "missing"),
        (),
        _by_kind(None, private="italy_profile_draft", shared="italy_profile_public"),  # type: ignore[arg-type]
    ),
    "observation": Target(
        KINDS,
        GOV,
        _nested(
            "profile_pk",
            "pk",
            lambda w, r: w.objects["own_profile"],
            lambda w, r: w.objects["own_profile_figure"],
            private=("italy_profile_draft", "italy_profile_draft_figure"),
            shared=("italy_profile_shared", "italy_profile_shared_figure"),
        ),
    ),
    "skill": Target(
        KINDS,
        GOV,
        _nested(
            "profile_pk",
            "pk",
            lambda w, r: w.objects["own_profile"],
            lambda w, r: w.objects["own_profile_skill"],
            private=("italy_profile_draft", "italy_profile_draft_skill"),
            shared=("italy_profile_shared", "italy_profile_shared_skill"),
        ),
    ),
    "profile_figures": Target(
        KINDS,
        GOV,
        _nested(
            "profile_pk",
            None,
            lambda w, r: w.objects["own_profile"],
            None,
            private=("italy_profile_draft", None),
            shared=("italy_profile_shared", None),
        ),
    ),
    # Suggestions: Morocco's own (with Italy) and one between Italy and Moldova (the agencies read it).
    "suggestion": Target(
        ("own", "shared", "missing"),
        GOV,
        _by_kind(lambda w, r: w.objects["own_suggestion"], shared="other_suggestion"),
    ),
    # An SDMX-CSV import: the importing organisation's own (django-scopes), never shared.
    "profile_import": Target(
        ("own", "private", "missing"),
        GOV,
        _by_kind(lambda w, r: w.objects["morocco_profile_import"], private="italy_profile_import"),
    ),
    # A listing's outcomes ledger. "own": Italy's scheme that admits Morocco (Morocco writes
    # for MA); "shared": Italy's scheme for Moldova, a listing Morocco reads whose ledger it
    # does not (the agencies do); "private": Italy's draft (no ledger).
    "ledger": Target(
        KINDS,
        GOV,
        _by_kind(lambda w, r: w.objects["italy_shared"], private="italy_draft", shared="italy_md_scheme"),
    ),
    "outcome_import": Target(
        ("own", "private", "missing"),
        GOV,
        _by_kind(lambda w, r: w.objects["morocco_outcome_import"], private="italy_outcome_import"),
    ),
    "match": Target(
        ("own", "shared", "missing"), GOV, _by_kind(lambda w, r: w.objects["own_match"], shared="other_match")
    ),
    "partnership": Target(
        KINDS,
        GOV,
        _by_kind(lambda w, r: w.objects["own_partnership"], private="private_partnership", shared="shared_partnership"),
    ),
    "document": Target(
        KINDS,
        GOV,
        _nested(
            "partnership_pk",
            "pk",
            lambda w, r: w.objects["own_partnership"],
            lambda w, r: w.objects["own_document"],
            private=("private_partnership", "private_document"),
            shared=("shared_partnership", "shared_document"),
        ),
    ),
    **{
        f"committee_{what}": Target(
            KINDS,
            GOV,
            _nested(
                "partnership_pk",
                "pk",
                lambda w, r: w.objects["own_partnership"],
                lambda w, r, what=what: w.objects[f"own_committee_{what}"],
                private=("private_partnership", f"private_committee_{what}"),
                shared=("shared_partnership", f"shared_committee_{what}"),
            ),
        )
        for what in ("member", "meeting", "decision")
    },
    "partnership_documents": Target(
        KINDS,
        GOV,
        _nested(
            "partnership_pk",
            None,
            lambda w, r: w.objects["own_partnership"],
            None,
            private=("private_partnership", None),
            shared=("shared_partnership", None),
        ),
    ),
    **{
        name: Target(
            ("own", "private", "missing"),
            ALL,
            _by_kind(lambda w, r, n=name: w.objects[f"{_org_key(w, r)}_{n}"], private=f"italy_{name}"),
        )
        for name in ("subscription", "delivery", "notification")
    },
    "token": Target(
        ("own", "private", "missing"), ALL, _by_kind(lambda w, r: w.objects[f"{r}_token"], private="italy_token")
    ),
    "organisation": Target(
        ("own", "shared", "missing"),
        ALL,
        lambda w, r, k: {
            "pk": {"own": lambda: str(w.org_of(r).pk), "shared": lambda: str(w.orgs["italy"].pk)}.get(
                k, lambda: MISSING
            )()
        },
    ),
    "org_members": Target(
        ("own", "private", "missing"),
        ALL,
        _nested("organisation_id", None, lambda w, r: w.org_of(r), None, private=("italy", None)),
    ),
    "member": _organisation_child("member"),
    "invitation": _organisation_child("invitation"),
    # Reference data: a real code and a made-up one.
    "occupation": Target(("shared", "missing"), (), lambda w, r, k: {"code": "2221" if k == "shared" else "0999"}),
    # A corridor (origin-destination): Morocco's own with Italy, Moldova's with Italy (where the
    # Italy–Moldova match lies, never counted for others), and a bad code (the same country twice).
    "corridor": Target(
        ("own", "shared", "missing"),
        GOV,
        lambda w, r, k: dict(
            zip(
                ("origin", "destination"),
                {"own": ("MA", "IT"), "shared": ("MD", "IT")}.get(k, ("MD", "MD")),
                strict=True,
            )
        ),
    ),
    # Routes whose secret is the credential: walked with a made-up one only.
    "credential": Target(("missing",), (), lambda w, r, k: {}),
    # Single sign-on's start and callback, by organisation slug: one that does not sign in
    # through its own provider (tests/sso/ drive the real ones against a real provider).
    "sso_organisation": Target(("missing",), (), lambda w, r, k: {"slug": "it-labour-without-sso"}),
    # Statistics tables and open datasets, by name: a real one and a made-up one.
    "statistics_table": Target(
        ("shared", "missing"), (), lambda w, r, k: {"name": "provisions" if k == "shared" else "no-such-table"}
    ),
    "dataset": Target(
        ("shared", "missing"), (), lambda w, r, k: {"dataset": "public-listings" if k == "shared" else "no-such-set"}
    ),
}


# --- Rows ---------------------------------------------------------------------------------


@dataclass
class Row:
    key: str  # "GET /api/v1/listings/{id}/" or "POST opportunities:listing_transition[withdraw]"
    target: str | None
    expected: dict[str, dict[str, Expect]]  # kind → role → status
    body: Callable[[World, str, str], Any] | None = None
    writes: bool = False  # a success may change the database
    check: Callable[[World, str, str, Any, str], list[str]] | None = None
    multipart: bool = False
    url_kwargs: dict[str, str] = field(default_factory=dict)  # fixed placeholders (web actions)


def row(
    key: str,
    target: str | None = None,
    *,
    own: Spec | None = None,
    shared: Spec | None = None,
    private: Spec = 404,
    missing: Spec = 404,
    collection: Spec | None = None,
    anonymous: Spec | None = None,
    public: bool = False,
    **options: Any,
) -> Row:
    """One operation: what each role gets on each object kind that applies to it.

    Defaults follow the product's rules: another tenant's private object and a
    missing id are both 404 to every signed-in role; the anonymous caller gets a
    401 on the API and a redirect to sign in on pages. ``own`` and ``shared`` (or
    ``collection`` for a route without an object) must be spelled out.
    """
    is_page = not key.split(" ", 1)[1].startswith("/api/")
    anonymous = (LOGIN if is_page else 401) if anonymous is None else anonymous
    # A public route: the anonymous caller is one more reader, named in the specs.
    readers = ROLES if public else (*GOV, *AGENCY)
    extra = {} if public else {"anonymous": _norm(anonymous)}  # type: ignore[arg-type]
    expected: dict[str, dict[str, Expect]] = {}
    if target is None:
        assert collection is not None, key
        expected[COLLECTION] = {**extra, **spread(collection, readers)}
    else:
        t = TARGETS[target]
        specs = {"own": own, "private": private, "shared": shared, "missing": missing}
        for kind in t.kinds:
            spec = specs[kind]
            assert spec is not None, f"{key}: say what {kind} gets"
            if kind == "own":
                expected[kind] = spread(spec, t.owners)
            else:
                expected[kind] = {**extra, **spread(spec, readers)}
    return Row(key=key, target=target, expected=expected, **options)


@dataclass(frozen=True)
class Case:
    key: str
    role: str
    kind: str

    def __str__(self) -> str:
        return f"{self.key}-{self.role}-{self.kind}"


def cases(rows: list[Row]) -> list[Case]:
    out = []
    for r in rows:
        for kind, by_role in r.expected.items():
            for role in ROLES:
                if role in by_role:
                    out.append(Case(r.key, role, kind))
    return out


# --- The routes that exist ------------------------------------------------------------------


def schema_operations() -> list[str]:
    """Every API operation of the OpenAPI schema, as "METHOD /path"."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    )


WEB_NAMESPACES = ("accounts", "opportunities", "exchange", "public", "")


@functools.cache
def web_routes() -> dict[str, str]:
    """Every page outside the API and the operators' admin: name → route."""

    def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, route, p.namespace or namespace)
            elif isinstance(p, URLPattern) and namespace in WEB_NAMESPACES and not route.startswith("api/"):
                name = f"{namespace}:{p.name}" if namespace else str(p.name)
                yield name, re.sub(r"(^|/)\^", r"\1", route).replace("$", "")

    return dict(walk(get_resolver().url_patterns))


def fill(route: str, kwargs: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        return kwargs[match.group("name")]

    route = re.sub(r"\(\?P<(?P<name>\w+)>[^)]*\)", sub, route)
    route = re.sub(r"<(?:\w+:)?(?P<name>\w+)>", sub, route)
    route = route.replace("\\.", ".")
    return route if route.startswith("/") else "/" + route


# --- Running one case ----------------------------------------------------------------------


def api_client(w: World, role: str) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        client.credentials(HTTP_AUTHORIZATION=f"Token {w.secrets[role]}")
    return client


def web_client(w: World, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(w.users[role])
    return client


def body_text(response: Any) -> str:
    raw = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return raw.decode(errors="replace")


def status_ok(expected: Expect, response: Any) -> bool:
    if expected == LOGIN:
        return response.status_code == 302 and "/accounts/login/" in response.get("Location", "")
    if isinstance(expected, frozenset):
        return response.status_code in expected
    return response.status_code == expected


def success(expected: Expect) -> bool:
    codes = expected if isinstance(expected, frozenset) else {expected}
    return any(isinstance(c, int) and c < 400 for c in codes) and expected != LOGIN


def private_parts(w: World, role: str, data: Any) -> Iterator[str]:
    """A pending revision shown to someone other than its owner and the moderators."""
    if role in MODERATION_AUDIENCE:
        return
    own_ids = {str(w.objects["own_listing"].pk)}
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("pending_revision") and str(item.get("id")) not in own_ids:
                yield f"pending_revision of listing {item.get('id')} shown"
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
