"""LeadCRM settings: every value comes from the environment (see README, "Configuration").

Without any variables set, LeadCRM runs in development mode on a SQLite file and a file-system
Celery broker under ``var/``, so ``make run`` needs no external server.
"""

import re
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from leadcrm.env import env_bool, env_choice, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LEADCRM_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", default=False)


def _secret_key() -> str:
    """Production must set SECRET_KEY; development generates one once into var/ (never in git)."""
    key = env_secret("SECRET_KEY")
    if key:
        return key
    if not DEBUG and env_bool("LEADCRM_REQUIRE_SECRET_KEY", default=False):
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_countries",
    "axes",
    "csp",
    "leadcrm",
    "leads",
    "capture",
    "webhooks",
    "scoring",
    "sales",
    "nurturing",
    "reporting",
    "demo",
]

MIDDLEWARE = [
    "leadcrm.log.request_log_middleware",  # first, so its duration covers the whole request
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "leadcrm.middleware.CSPMiddleware",
    "leadcrm.middleware.permissions_policy",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leadcrm.urls"
WSGI_APPLICATION = "leadcrm.wsgi.application"

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
                "leadcrm.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'leadcrm.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file in development: wait for locks instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # SQLite builds the indexes whose INCLUDE columns make PostgreSQL's reads index only without
    # those columns (lead_company): the same index, only not covering.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "leadcrm.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "leadcrm"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, with the user's permissions and roles read in one query per request.
    "leadcrm.roles.RoleModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Serve straight from the app folders when nobody ran collectstatic (development and tests).
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", default=DEBUG)
WHITENOISE_AUTOREFRESH = DEBUG

# Security: strict by default in production, switched off only by DEBUG or explicit variables.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Believe X-Forwarded-Proto only when a proxy in front sets it (overwriting the client's): without
# one, any client could claim HTTPS and get past the redirect and the secure-only checks.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO") else None
)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): pages load only the app's own static files; no inline
# scripts or styles, no eval, no frames. The Swagger UI relaxes styles and images for itself only
# (leadcrm/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features the app never uses are switched off for it and anything it embeds.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), "
    "fullscreen=(self), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), "
    "payment=(), publickey-credentials-get=(), screen-wake-lock=(), usb=(), xr-spatial-tracking=()"
)

# Brute-force protection for the login form and the admin login (django-axes): after
# LOGIN_FAILURE_LIMIT wrong passwords for one user name from one address, that pair is locked out
# for LOGIN_LOCKOUT_MINUTES; a correct password does not help meanwhile.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Lockouts are still logged as warnings; this only drops the start-up banner and per-login detail.
AXES_VERBOSE = False
# Behind reverse proxies every login would come from the proxy's address, so one person could lock
# anyone out: count failures per real client, found as the API throttles find it.
AXES_CLIENT_IP_CALLABLE = "leadcrm.throttling.client_ip"

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "LeadCRM <leadcrm@localhost>")

# Celery. Without REDIS_URL the broker is kombu's file-system transport under var/, so development
# needs no server; production and tests use Redis.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_RESULT_BACKEND = env_str(
    "CELERY_RESULT_BACKEND", REDIS_URL or f"file://{VAR_DIR / 'celery' / 'results'}"
)
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "celery" / "queue"
    for _folder in ("queue", "control", "results"):
        (VAR_DIR / "celery" / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "polling_interval": 0.2,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Nobody reads most tasks' results: don't store them. A task whose result is read says so
# (ignore_result=False), like leadcrm.tasks.ping.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Every periodic task lives here, in one place.
CELERY_BEAT_SCHEDULE: dict = {
    "worker-heartbeat": {"task": "leadcrm.tasks.worker_heartbeat", "schedule": 30.0},
    # Buffered page views of the website tracking into the database (capture.buffer).
    "track-flush": {"task": "capture.tasks.track_flush", "schedule": 3.0},
    "event-keys-prune": {"task": "leads.tasks.event_keys_prune", "schedule": 6 * 3600.0},
    "webhooks-resume": {"task": "webhooks.tasks.webhook_deliveries_resume", "schedule": 60.0},
    # MQLs past their acceptance SLA, escalated once to the team's managers (sales.assignment).
    "sales-sla-escalate": {"task": "sales.tasks.sla_escalate_overdue", "schedule": 60.0},
    # Unassigned MQLs placed once a rep is back or has room again (sales.assignment).
    "sales-place-waiting": {"task": "sales.tasks.mqls_place_waiting", "schedule": 120.0},
    # The rollup the reports read, at most a minute old (reporting.rollup.rollup_refresh).
    "reporting-rollup-refresh": {"task": "reporting.tasks.rollup_refresh", "schedule": 60.0},
    "scoring-refresh-decay": {
        "task": "scoring.tasks.leads_refresh_decay",
        "schedule": crontab(hour=2, minute=30),
    },
}
# How long a retried pixel, click or API batch is recognised by its idempotency key.
LEADCRM_EVENT_KEY_RETENTION_DAYS = env_int("LEADCRM_EVENT_KEY_RETENTION_DAYS", 7)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# /healthz reports the heartbeat "stale" (degraded) past this many seconds; beat sends it every 30.
HEARTBEAT_MAX_AGE = env_int("LEADCRM_HEARTBEAT_MAX_AGE", 120)

# Webhooks (the webhooks app): where they may go, how long an attempt waits, how often it retries.
# Private, loopback, link-local, multicast and reserved addresses are refused (SSRF) unless allowed;
# plain http only when allowed (development: DEBUG allows it).
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", default=False)
WEBHOOKS_REQUIRE_HTTPS = env_bool("WEBHOOKS_REQUIRE_HTTPS", default=not DEBUG)
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 5)
WEBHOOKS_MAX_ATTEMPTS = env_int("WEBHOOKS_MAX_ATTEMPTS", 8)
WEBHOOKS_RETRY_BASE_SECONDS = env_int("WEBHOOKS_RETRY_BASE_SECONDS", 30)
WEBHOOKS_RETRY_MAX_SECONDS = env_int("WEBHOOKS_RETRY_MAX_SECONDS", 1800)
for _name in ("WEBHOOKS_TIMEOUT_SECONDS", "WEBHOOKS_MAX_ATTEMPTS", "WEBHOOKS_RETRY_BASE_SECONDS"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1")
# A retry waits as a Celery countdown; Redis hands an unacknowledged task out again after its
# visibility timeout (3600 s), so a wait must stay well below it.
if not 1 <= WEBHOOKS_RETRY_MAX_SECONDS <= 3000:
    raise ImproperlyConfigured("WEBHOOKS_RETRY_MAX_SECONDS must be from 1 to 3000")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "leadcrm.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "leadcrm.api.KeysetCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "leadcrm.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": ["leadcrm.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "leadcrm.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # Reverse proxies in front that append to X-Forwarded-For; 0 throttles anonymous clients by
    # the connecting address, which a client cannot forge.
    "NUM_PROXIES": env_int("API_NUM_PROXIES", 0),
    "DEFAULT_THROTTLE_CLASSES": [
        "leadcrm.throttling.AnonRateThrottle",
        "leadcrm.throttling.UserRateThrottle",
    ],
}


# Requests per user (a token counts as its user) and per anonymous client address, counted in the
# cache (Redis in production). Format: "<number>/<second|minute|hour|day>".
def _rate(name: str, default: str) -> str:
    value = env_str(name, default).strip()
    if not re.fullmatch(r"[1-9][0-9]*/(second|minute|hour|day)", value):
        raise ImproperlyConfigured(f"{name} must look like 100/minute (second|minute|hour|day)")
    return value


def _rate_pair(name: str, default: str) -> tuple[int, int]:
    count, unit = _rate(name, default).split("/")
    return int(count), {"second": 1, "minute": 60, "hour": 3600, "day": 86400}[unit]


# Page views per client address that /t/e accepts (website tracking), counted in the cache.
LEADCRM_TRACK_RATE = _rate_pair("LEADCRM_TRACK_RATE", "600/minute")
# Capture forms: submissions per client address and per form, counted in the cache; a form sent
# sooner than this many seconds after it was shown is a bot's; how long a double opt-in link works.
LEADCRM_FORM_RATE_PER_IP = _rate_pair("LEADCRM_FORM_RATE_PER_IP", "10/minute")
LEADCRM_FORM_RATE_PER_FORM = _rate_pair("LEADCRM_FORM_RATE_PER_FORM", "300/minute")
LEADCRM_FORM_MIN_SECONDS = env_int("LEADCRM_FORM_MIN_SECONDS", 3)
# How often an open queue page reloads its rows, so newly assigned leads appear.
LEADCRM_QUEUE_REFRESH_SECONDS = env_int("LEADCRM_QUEUE_REFRESH_SECONDS", 30)
LEADCRM_DOUBLE_OPT_IN_DAYS = env_int("LEADCRM_DOUBLE_OPT_IN_DAYS", 7)
# How many ranges of leads a rescoring (a rule change's save, the nightly decay) works at once on
# PostgreSQL, each in a database connection of its own: one keeps one of the server's cores busy.
LEADCRM_RESCORE_CONNECTIONS = env_int("LEADCRM_RESCORE_CONNECTIONS", 2)
# The address the links in e-mails start with (the double opt-in link), e.g. https://crm.example.com
LEADCRM_PUBLIC_URL = env_str("LEADCRM_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

API_THROTTLE_RATES = {
    "anon": _rate("API_THROTTLE_ANON", "60/minute"),
    "user": _rate("API_THROTTLE_USER", "1200/minute"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LeadCRM API",
    "DESCRIPTION": "Leads, lifecycle, scoring, nurturing and reporting.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "StageEnum": "leads.lifecycle.Stage",
        "RankEnum": "leads.models.RANKS",
        "EventKindEnum": "leads.models.EventKind",
        "RescoringKindEnum": "scoring.models.Rescoring.Kind",
        "ExitStageEnum": "sales.models.Rejection.ToStage",
        "ActivityKindEnum": "leads.models.Activity.Kind",
    },
    # The schema and the Swagger UI are for signed-in users, like the API itself.
    "SERVE_PUBLIC": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "leadcrm.api_schema.document_error_responses",
    ],
}

# Logging: JSON lines in production (one object per line: time, level, logger, message and any
# fields such as a request's method, path, status and duration_ms), readable text in development.
LOG_FORMAT = env_choice("LOG_FORMAT", ["json", "text"], "text" if DEBUG else "json")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"celery_task": {"()": "leadcrm.log.CeleryTaskFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["celery_task"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Through the root handler in the chosen format, instead of Django's own text handlers.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        # runserver's access lines repeat leadcrm.request's; keep its warnings and errors.
        "django.server": {"handlers": [], "level": "WARNING", "propagate": True},
    },
}
# Worker and beat log through LOGGING above instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
