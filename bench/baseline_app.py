"""The benchmarks' baseline: a bare WSGI app that runs Corridor's own SQL with psycopg and
answers with orjson (issue 15, scenario 1).

``manage.py bench_http`` captures the statements a Corridor request runs (through
Django's test client, on the same data) and writes them to ``BENCH_SQL_FILE``:
``{"/api/v1/listings/?…": {"statements": [...], "page": 3}}``. For a request to the
same path and query string, this app runs those statements in order on one
persistent connection (no prepared statements, as Django), and answers
``{"ids": [the page statement's first column], "rows": [every statement's rows]}``
(rows as arrays: the statements repeat column names such as ``id``).
No Django, no DRF, no authentication: the floor the candidate is measured against.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

import orjson
import psycopg

_STATEMENTS: dict[str, dict[str, Any]] = orjson.loads(open(os.environ["BENCH_SQL_FILE"], "rb").read())  # noqa: SIM115
_connection: psycopg.Connection[tuple[Any, ...]] | None = None


def _cursor() -> psycopg.Cursor[tuple[Any, ...]]:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        _connection.prepare_threshold = None  # as Django: a generic plan was 2× slower for the page
    return _connection.cursor()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    key = environ.get("PATH_INFO", "") + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")
    request = _STATEMENTS.get(key)
    if request is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no statements for " + key.encode()]
    rows = []
    with _cursor() as cursor:
        for sql in request["statements"]:
            cursor.execute(sql.encode())
            rows.append(cursor.fetchall())
    page = rows[request["page"]] if request["page"] is not None else []
    body = orjson.dumps(
        {"ids": [row[0] for row in page], "rows": rows},
        default=str,
        option=orjson.OPT_NON_STR_KEYS,
    )
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
