"""make backup-check: a dump of the database restores whole, and a difference fails the check."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

from django.db import connection

TOOL = Path(__file__).resolve().parent.parent.parent / "tools" / "backup_check.py"


def backup_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("backup_check", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def url_of_the_test_database() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    host = db["HOST"] or ""
    if host.startswith("/"):  # a Unix socket, as the embedded server gives
        return f"postgresql://{user}{password}@:{db['PORT'] or 5432}/{db['NAME']}?host={quote(host)}"
    return f"postgresql://{user}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def test_the_backup_of_the_database_restores_with_every_row_count_identical(db):
    completed = subprocess.run(
        [sys.executable, str(TOOL)],
        env={**os.environ, "DATABASE_URL": url_of_the_test_database()},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "opportunities_occupation " in completed.stdout  # the reference data migrations load
    assert completed.stdout.strip().splitlines()[-1].startswith("OK: ")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname LIKE %s", ["%restore_check%"])
        assert cursor.fetchone()[0] == 0  # the copy is dropped


def test_a_table_whose_count_differs_fails_the_check(capsys):
    status = backup_check().report({"a_table": 3, "b_table": 5}, {"a_table": 3, "b_table": 4})
    out = capsys.readouterr().out
    assert status == 1
    assert "b_table" in out and "differs" in out and "FAILED: 1 of 2 tables" in out


def test_a_table_missing_from_the_restore_fails_the_check(capsys):
    assert backup_check().report({"a_table": 3}, {}) == 1
    assert "FAILED" in capsys.readouterr().out
