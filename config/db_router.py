"""An optional read replica for the read-only paths (the listing list and search, statistics).

Set ``DATABASE_REPLICA_URL`` and the ``replica`` database exists (config/settings/base.py);
leave it unset and nothing changes. A view opts in around its reads::

    with read_from_replica():
        rows = list(listing_rows(...))

Inside the block, reads of any model go to the replica; writes, and every read
outside such a block, go to the primary, so a request that writes and then reads
its own write never meets replication lag. Only paths whose answer may be a moment
old (a list, a search, a chart) opt in: never a detail after an edit, a form, a
permission check before a write, or a task.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings

REPLICA = "replica"
_reading: ContextVar[bool] = ContextVar("corridor_read_replica", default=False)


@contextmanager
def read_from_replica() -> Iterator[None]:
    """Send the block's reads to the replica, when one is configured."""
    token = _reading.set(REPLICA in settings.DATABASES)
    try:
        yield
    finally:
        _reading.reset(token)


class ReplicaRouter:
    """Reads inside ``read_from_replica`` go to the replica; everything else to ``default``."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return REPLICA if _reading.get() else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # one database, two copies of it

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        return db == "default"  # the replica follows the primary by replication, not migrations
