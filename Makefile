# Corridor: the two commands are `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Two xdist workers: the machines (and CI) have two cores.
PYTEST_WORKERS ?= 2

.PHONY: help venv browser run serve migrate seed test lint typecheck format check-deploy worker beat stop clean messages screenshots bench bench-quick soak leak-check backup-check

help:
	@echo "make run    - set up, migrate, load demo data, serve http://$(HOST):$(PORT)"
	@echo "make test   - set up, ruff, mypy, makemigrations --check, the whole pytest suite"
	@echo "make worker / make beat - Celery worker / scheduler (needs REDIS_URL)"
	@echo "make stop   - stop the embedded PostgreSQL started by make run"
	@echo "make bench  - benchmarks at 100k listings (same-run ratios against bare baselines; docs/benchmarks.md)"
	@echo "make bench-quick - the same at 10k listings, in a few minutes"
	@echo "make messages    - refresh and compile the fr/es/ar translation catalogues in locale/"
	@echo "make screenshots - run the browser tests and refresh docs/screenshots/"
	@echo "make soak   - 10-minute mixed load on gunicorn + Celery workers; checks 5xx, notifications, RSS (SOAK_SECONDS)"
	@echo "make leak-check - tracemalloc over repeated requests and deliveries in one process (tools/soak/leakcheck.py)"
	@echo "make backup-check - pg_dump the database, restore into a fresh one, compare every table's row count"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# The browser tests drive Debian's Chromium (never a browser a test tool downloads).
CHROMIUM ?= $(shell command -v chromium || echo /usr/bin/chromium)
browser:
	@test -x "$(CHROMIUM)" || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null || \
	    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; \
	  else echo "Install Chromium (apt-get install chromium) or set CHROMIUM_PATH"; exit 1; fi; }

migrate: venv
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	@echo "Corridor is starting on http://$(HOST):$(PORT)/ (Ctrl-C to stop; 'make stop' stops the embedded database)"
	$(PY) manage.py runserver $(HOST):$(PORT)

serve: venv
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# A step of `make test`: it must stay clean. Local stubs (django-scopes) live in typings/.
# The plugin's settings (config.settings.typecheck) never start the embedded database.
typecheck: venv
	$(VENV)/bin/mypy

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: venv browser lint typecheck
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest --create-db -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Translations: English is the source; French and Spanish catalogues are committed
# compiled (locale/*/LC_MESSAGES/django.mo), so a fresh checkout needs no gettext.
messages: venv
	$(PY) manage.py makemessages --locale fr --locale es --locale ar --no-obsolete --ignore ".venv/*" --ignore "var/*" --ignore "tests/*"
	$(PY) manage.py compilemessages --locale fr --locale es --locale ar --ignore ".venv/*"

screenshots: venv browser
	CORRIDOR_SCREENSHOTS=docs/screenshots $(VENV)/bin/pytest --create-db -n $(PYTEST_WORKERS) tests/browser
	@# Quantised to 256 colours (about a third of the size) when pngquant is installed.
	-command -v pngquant >/dev/null && pngquant --force --ext .png --quality 60-85 --speed 1 docs/screenshots/*.png

# Benchmarks print ratios measured in the same run on the same data. bench_fanout writes
# BENCH_SUBSCRIPTIONS more saved searches in a transaction that is rolled back, on top of
# the world's own (100k in make bench): its naive loop reads them all.
BENCH_SUBSCRIPTIONS ?= 10000
# An SDMX-CSV import against posting the same figures one by one (BENCH_IMPORT_ROWS, ratio),
# then the import alone of a file of BENCH_IMPORT_LARGE figures (rows/s, statements).
BENCH_IMPORT_ROWS ?= 2000
BENCH_IMPORT_LARGE ?= 10000
# bench_all generates the synthetic world (generate_load_data) unless the database holds
# exactly BENCH_LISTINGS listings, runs the SQL, HTTP (gunicorn, 2 workers, DEBUG=0) and
# fan-out scenarios, writes bench/results/<date>.json and prints the Markdown table.
# Use a database of its own (DATABASE_URL): the synthetic world replaces the listings.
# The in-process requests (bench_sql, bench_stats) share the benchmark token's rate-limit
# counter in Redis: runs back to back would meet the 1,000-an-hour limit and its 429s.
bench bench-quick: export API_THROTTLE_USER = 100000000/hour
bench bench-quick: export API_THROTTLE_ANON = 100000000/hour
BENCH_LISTINGS ?= 100000
BENCH_REQUESTS ?= 200
bench: migrate
	$(PY) manage.py bench_all --listings $(BENCH_LISTINGS) --subscriptions $(BENCH_LISTINGS) \
	  --requests $(BENCH_REQUESTS) --fanout $(BENCH_SUBSCRIPTIONS)
	$(PY) manage.py bench_profile_import --rows $(BENCH_IMPORT_ROWS)
	$(PY) manage.py bench_profile_import --rows $(BENCH_IMPORT_LARGE) --import-only

bench-quick: migrate
	$(PY) manage.py bench_all --listings 10000 --subscriptions 10000 --requests 100 --fanout 10000

check-deploy: venv
	DJANGO_SETTINGS_MODULE=config.settings.production $(PY) manage.py check --deploy --fail-level WARNING

worker: venv
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: venv
	$(VENV)/bin/celery -A config beat --loglevel=INFO --schedule var/celerybeat-schedule

stop: venv
	$(PY) -c "from config.embedded import stop_postgres; stop_postgres()"

clean: stop
	rm -rf var/pgdata var/static

# Not part of `make test`: a long run on real processes (docs/operations.md). SOAK_SECONDS
# (default 600), SOAK_USERS (6); DATABASE_URL/REDIS_URL, or the embedded servers.
soak: venv
	$(PY) tools/soak/run.py

# In one process: warm up, then two equal batches of the soak's work; a leak grows in both.
leak-check: venv
	$(PY) tools/soak/leakcheck.py

# Dumps DATABASE_URL (or the embedded server), restores into a fresh database, compares row counts.
backup-check: migrate
	$(PY) tools/backup_check.py
