"""gunicorn settings for Corridor (``gunicorn -c gunicorn.conf.py config.wsgi``).

Everything is read from the environment so one file serves the Procfile, compose.yaml
and the benchmarks (``make bench`` starts the app and its bare baseline with it).
Sync workers: Corridor's requests are short and database-bound, and a sync worker
keeps one persistent database connection (DATABASE_CONN_MAX_AGE) busy at a time,
which is what PgBouncer in transaction mode and PostgreSQL's max_connections
budget for (docs/scaling.md).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# (2 × cores) + 1 is gunicorn's rule of thumb; the benchmarks pin 2.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# A request that takes longer than this is a bug (a missing index, a fan-out in the request).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, so a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
# Behind a proxy that sets X-Forwarded-For (config.client_ip decides how far to trust it).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
