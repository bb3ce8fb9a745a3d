"""Hot reads compiled once: Django builds and compiles a queryset's SQL on every request, and
for the listing detail and the token lookup that is most of the request (issue 15).

``precompiled(key, build, slot=...)`` compiles the queryset ``build()`` returns once per
``key`` and keeps the compiler; ``Statement.run(value)`` runs the same SQL with the one
parameter that varies (``slot``, a sentinel the queryset was filtered on) swapped for
``value``, and reads the rows through Django's own iterables (values() dicts or model
instances, with the fields' converters), so the caller gets what the queryset would give.

The key must hold every input the statement's SQL is built from besides ``slot``: the
access modules own the keys of their rules (``opportunities.access.listing_read_key``).
The cache is per thread and per database connection, and bounded.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from django.db import connections
from django.db.models import QuerySet

# Distinct keys kept per thread: the actors' shapes (organisation, role) of a worker's recent requests.
MAX_STATEMENTS = 512

_local = threading.local()


class _Bound:
    """The queryset's query, answering ``get_compiler`` with the compiled statement's compiler."""

    def __init__(self, query: Any, compiler: Any) -> None:
        self._query = query
        self._compiler = compiler

    def get_compiler(self, *args: Any, **kwargs: Any) -> Any:
        return self._compiler

    def __getattr__(self, name: str) -> Any:
        return getattr(self._query, name)


class Statement:
    """One queryset's SQL and compiler, run again with its ``slot`` parameter swapped."""

    def __init__(self, queryset: QuerySet[Any], *, slot: Any) -> None:
        self._queryset = queryset
        self.alias = queryset.db
        self.connection = connections[self.alias]
        compiler = queryset.query.get_compiler(self.alias)
        self.sql, params = compiler.as_sql()
        found = [n for n, param in enumerate(params) if param == slot]
        if len(found) != 1:
            raise ValueError(f"The statement takes the slot value {len(found)} times; it must take it once.")
        self._slot = found[0]
        self.params = tuple(params)
        self._current: tuple[Any, ...] = self.params
        # The compiler's state (select, klass_info, converters' fields) is what the iterables
        # read after executing; its SQL is not built again.
        compiler.as_sql = self._as_sql
        self._query = _Bound(queryset.query, compiler)

    def _as_sql(self, *args: Any, **kwargs: Any) -> tuple[str, tuple[Any, ...]]:
        return self.sql, self._current

    def run(self, value: Any) -> list[Any]:
        """The rows (dicts or instances, as the queryset yields them) for ``value`` in the slot."""
        params = list(self.params)
        params[self._slot] = value
        self._current = tuple(params)
        queryset = self._queryset._chain()  # type: ignore[attr-defined]  # a fresh result cache, same query
        queryset._query = self._query
        try:
            return list(queryset)
        finally:
            self._current = self.params


def precompiled(key: Hashable, build: Callable[[], QuerySet[Any]], *, slot: Any) -> Statement:
    """The statement for ``key``, compiled from ``build()`` the first time this thread asks."""
    cache: OrderedDict[Hashable, Statement] | None = getattr(_local, "statements", None)
    if cache is None:
        cache = _local.statements = OrderedDict()
    statement = cache.get(key)
    # The compiler belongs to the connection it was compiled for: a new one compiles anew.
    if statement is None or statement.connection is not connections[statement.alias]:
        statement = cache[key] = Statement(build(), slot=slot)
        if len(cache) > MAX_STATEMENTS:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return statement


def clear() -> None:
    """Forget this thread's statements (tests that change what a key's SQL would be)."""
    _local.statements = OrderedDict()
